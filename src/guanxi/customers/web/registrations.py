"""Navigation entries and workbench panels of the customers app."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.platform.ui.registry import NavItem, register_nav_item


def register() -> None:
    register_nav_item(NavItem("customers", _("Customers"), "customers:customer_list", "customers.view", order=20))
    register_nav_item(NavItem("leads", _("Leads"), "customers:lead_list", "leads.view", order=30))
    register_nav_item(NavItem("tasks", _("Tasks"), "customers:task_list", "activities.view", order=40))
    register_nav_item(NavItem("pool", _("Public pool"), "customers:pool", "pool.view", order=50))
    register_nav_item(NavItem("handover", _("Handover"), "customers:handover", "handover.run", order=60))
    register_nav_item(
        NavItem(
            "pool_settings", _("Pool settings"), "customers:pool_settings", "pool.manage", order=50, section="settings"
        )
    )
    from guanxi.customers.web import workbench

    workbench.register()

"""Navigation entries and workbench panels of the customers app."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.platform.ui.registry import NavItem, register_nav_item


def register() -> None:
    register_nav_item(NavItem("customers", _("Customers"), "customers:customer_list", "customers.view", order=20))

"""What the customers app plugs into platform registries: custom-field targets, annotations, search,
navigation, workbench panels and periodic jobs. Called once from CustomersConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.platform.customfields.registry import register_target


def register_all() -> None:
    register_target("customers.customer", _("Customer"))
    register_target("customers.lead", _("Lead"))
    from guanxi.customers.web import registrations as web_registrations

    web_registrations.register()

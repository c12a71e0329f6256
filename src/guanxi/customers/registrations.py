"""What the customers app plugs into platform registries: custom-field targets, annotations, search,
navigation, workbench panels and periodic jobs. Called once from CustomersConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.platform.customfields.registry import register_target


def register_all() -> None:
    from guanxi.customers.events import register_events

    register_events()
    register_target("customers.customer", _("Customer"))
    register_target("customers.lead", _("Lead"))
    from guanxi.customers.web import registrations as web_registrations

    web_registrations.register()
    _register_search()
    _register_annotations()
    _register_notification_types()
    from guanxi.customers.jobs import register_jobs

    register_jobs()
    from guanxi.customers.pool_jobs import register_pool_jobs

    register_pool_jobs()
    from guanxi.customers.approvals import register_approvables

    register_approvables()
    from guanxi.customers.inbox import register_inbox

    register_inbox()
    from guanxi.customers.channels import register_channels

    register_channels()
    from guanxi.customers.automation import register_automation

    register_automation()


def _register_search() -> None:
    from guanxi.customers.permissions import CUSTOMERS_VIEW, LEADS_VIEW
    from guanxi.customers.selectors.search import customer_search_hits, lead_search_hits
    from guanxi.platform.search.registry import SearchProvider, register_provider

    register_provider(
        SearchProvider("customer", _("Customers"), customer_search_hits, order=10, permission=CUSTOMERS_VIEW)
    )
    register_provider(SearchProvider("lead", _("Leads"), lead_search_hits, order=20, permission=LEADS_VIEW))


def _register_annotations() -> None:
    """Tags, notes and files on customers and leads, reached only through the visibility-checked selectors."""
    from typing import Any

    from guanxi.customers.models import Customer, Lead
    from guanxi.customers.permissions import CUSTOMERS_CHANGE, CUSTOMERS_VIEW, LEADS_CHANGE, LEADS_VIEW
    from guanxi.customers.selectors.customers import customer_get, customer_queryset
    from guanxi.customers.selectors.leads import lead_get, lead_queryset
    from guanxi.platform.annotations.registry import register_annotated
    from guanxi.platform.core.actors import Actor
    from guanxi.platform.identity.scoping import has_permission

    def visible_customer_ids(actor: Actor, ids: list[int]) -> list[int]:
        if not has_permission(actor, CUSTOMERS_VIEW):
            return []
        return list(customer_queryset(actor=actor).filter(pk__in=ids).values_list("pk", flat=True))

    def visible_lead_ids(actor: Actor, ids: list[int]) -> list[int]:
        if not has_permission(actor, LEADS_VIEW):
            return []
        return list(lead_queryset(actor=actor).filter(pk__in=ids).values_list("pk", flat=True))

    def can_change_customer(actor: Actor, record: Any) -> bool:
        return has_permission(actor, CUSTOMERS_CHANGE)

    def can_change_lead(actor: Actor, record: Any) -> bool:
        return has_permission(actor, LEADS_CHANGE)

    register_annotated(
        "customers.customer",
        Customer,
        get_visible=lambda actor, object_id: customer_get(actor=actor, customer_id=object_id),
        filter_visible=visible_customer_ids,
        can_change=can_change_customer,
    )
    register_annotated(
        "customers.lead",
        Lead,
        get_visible=lambda actor, object_id: lead_get(actor=actor, lead_id=object_id),
        filter_visible=visible_lead_ids,
        can_change=can_change_lead,
    )


def _register_notification_types() -> None:
    """Every kind the customers app passes to notification_send, so users can choose how they get each."""
    from guanxi.customers.services.handover import NOTIFICATION_KIND as HANDOVER_KIND
    from guanxi.customers.services.tasks import REMINDER_KIND
    from guanxi.platform.notifications.registry import register_notification_type

    register_notification_type(
        REMINDER_KIND,
        _("Task reminders"),
        description=_("At the reminder time of a task assigned to you."),
    )
    register_notification_type(
        HANDOVER_KIND,
        _("Customer handovers"),
        description=_("When customers are handed over from you or to you."),
    )
    register_notification_type(
        "customers.pool_auto_return",
        _("Customers returned to the public pool"),
        description=_("When your customers go back to the public pool automatically."),
    )

"""Workbench panels of the customers app (tasks due, follow-ups, recent customers, new leads).

Each panel's context is built from the activities selectors, so what a panel lists is what the actor
may see; a panel the actor has no permission for is hidden.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from guanxi.customers.permissions import ACTIVITIES_ADD, ACTIVITIES_CHANGE, ACTIVITIES_VIEW, CUSTOMERS_VIEW, LEADS_VIEW
from guanxi.customers.selectors import activities as selectors
from guanxi.platform.identity.scoping import has_permission
from guanxi.platform.ui.actors import actor_from_request
from guanxi.platform.ui.registry import WorkbenchPanel, register_workbench_panel

PANEL_ROWS = 10


def my_tasks_panel(request: HttpRequest) -> dict[str, Any]:
    actor = actor_from_request(request)
    if not has_permission(actor, ACTIVITIES_VIEW):
        return {"hidden": True}
    now = timezone.now()
    return {
        "now": now,
        "overdue": selectors.my_tasks_overdue(actor=actor, now=now, limit=PANEL_ROWS),
        "today": selectors.my_tasks_today(actor=actor, now=now, limit=PANEL_ROWS),
        "can_change": has_permission(actor, ACTIVITIES_CHANGE),
        "can_add": has_permission(actor, ACTIVITIES_ADD),
    }


def my_follow_ups_panel(request: HttpRequest) -> dict[str, Any]:
    actor = actor_from_request(request)
    if not has_permission(actor, CUSTOMERS_VIEW):
        return {"hidden": True}
    return {"now": timezone.now(), "customers": selectors.my_follow_ups(actor=actor, limit=PANEL_ROWS)}


def recent_customers_panel(request: HttpRequest) -> dict[str, Any]:
    actor = actor_from_request(request)
    if not has_permission(actor, CUSTOMERS_VIEW):
        return {"hidden": True}
    return {"customers": selectors.recently_changed_customers(actor=actor, limit=PANEL_ROWS)}


def new_leads_panel(request: HttpRequest) -> dict[str, Any]:
    actor = actor_from_request(request)
    if not has_permission(actor, LEADS_VIEW):
        return {"hidden": True}
    return {"leads": selectors.new_leads_assigned_to_me(actor=actor, limit=PANEL_ROWS)}


def register() -> None:
    """Called from customers.web.registrations: my tasks, my follow-ups, recent customers, new leads."""
    for panel in (
        WorkbenchPanel("customers.my_tasks", "customers/partials/workbench_tasks.html", my_tasks_panel, order=10),
        WorkbenchPanel(
            "customers.my_follow_ups", "customers/partials/workbench_follow_ups.html", my_follow_ups_panel, order=20
        ),
        WorkbenchPanel("customers.new_leads", "customers/partials/workbench_new_leads.html", new_leads_panel, order=30),
        WorkbenchPanel(
            "customers.recent_customers",
            "customers/partials/workbench_recent_customers.html",
            recent_customers_panel,
            order=40,
        ),
    ):
        register_workbench_panel(panel)

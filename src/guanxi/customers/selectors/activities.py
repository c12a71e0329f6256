"""Reading the timeline and tasks: interactions of a customer or lead, task lists and the workbench lists.

Every read starts from `Interaction.objects.visible_to(actor)` or `Task.objects.visible_to(actor)`, so
another user's timeline or task answers NotFound (never data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers.models import Customer, Interaction, Lead, Task
from guanxi.customers.models.choices import LeadStatus, TaskStatus
from guanxi.customers.permissions import ACTIVITIES_VIEW, CUSTOMERS_VIEW, LEADS_VIEW
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound, ValidationFailed
from guanxi.platform.core.filters import FilterParams
from guanxi.platform.core.pagination import Page, keyset_paginate
from guanxi.platform.identity.preferences import user_time_zone
from guanxi.platform.identity.scoping import has_permission, require_permission

TIMELINE_SORT = "-occurred_at"

# The tabs of the task page. "today" and "overdue" overlap on purpose: a task due at 9:00 is both at 10:00.
TASK_VIEWS = ("open", "today", "overdue", "upcoming", "done", "cancelled", "all")
TASK_SORTS = ("due_at", "-due_at", "-created_at", "-completed_at", "-id")


# ---------------------------------------------------------------------------------------------------------------
# Interactions


def interaction_queryset(*, actor: Actor) -> QuerySet[Interaction]:
    """Every interaction the actor may see: those of visible customers and visible leads."""
    require_permission(actor, ACTIVITIES_VIEW)
    return Interaction.objects.visible_to(actor)


def interaction_get(*, actor: Actor, interaction_id: int) -> Interaction:
    interaction = (
        interaction_queryset(actor=actor).select_related("user", "customer", "lead").filter(pk=interaction_id).first()
    )
    if interaction is None:
        raise NotFound(_("Interaction not found."))
    return interaction


def interaction_list(
    *, actor: Actor, customer_id: int | None = None, lead_id: int | None = None
) -> QuerySet[Interaction]:
    """Visible interactions, optionally of one customer or lead (unordered: paginate with TIMELINE_SORT)."""
    qs = interaction_queryset(actor=actor).select_related("user", "customer", "lead")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if lead_id is not None:
        qs = qs.filter(lead_id=lead_id)
    return qs


def customer_timeline(
    *, actor: Actor, customer: Customer, before: str | None = None, limit: int = 50
) -> Page[Interaction]:
    """The customer's interactions, newest first; `before` is the cursor of the previous page."""
    qs = interaction_queryset(actor=actor).filter(customer=customer).select_related("user")
    return keyset_paginate(qs, sort=TIMELINE_SORT, cursor=before, page_size=limit)


def lead_timeline(*, actor: Actor, lead: Lead, before: str | None = None, limit: int = 50) -> Page[Interaction]:
    """The lead's interactions, newest first; `before` is the cursor of the previous page."""
    qs = interaction_queryset(actor=actor).filter(lead=lead).select_related("user")
    return keyset_paginate(qs, sort=TIMELINE_SORT, cursor=before, page_size=limit)


def activity_subject(
    *, actor: Actor, customer_id: Any = None, lead_id: Any = None
) -> tuple[Customer | None, Lead | None]:
    """Resolve the customer or lead an interaction or task is about, named by id in a request body.

    An id the actor may not see answers the same ValidationFailed as one that does not exist.
    """
    errors: dict[str, list[str]] = {}
    customer = lead = None
    if customer_id not in (None, ""):
        try:
            customer = Customer.objects.visible_to(actor).filter(pk=int(customer_id)).first()
        except (TypeError, ValueError):
            customer = None
        if customer is None:
            errors["customer_id"] = [_("Choose a customer you can see.")]
    if lead_id not in (None, ""):
        try:
            lead = Lead.objects.visible_to(actor).filter(pk=int(lead_id)).first()
        except (TypeError, ValueError):
            lead = None
        if lead is None:
            errors["lead_id"] = [_("Choose a lead you can see.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return customer, lead


# ---------------------------------------------------------------------------------------------------------------
# Tasks


def day_bounds(*, actor: Actor, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of the actor's current day, as aware datetimes."""
    zone = user_time_zone(actor.user)
    today = (now or timezone.now()).astimezone(zone).date()
    start = dt.datetime.combine(today, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


@dataclass
class TaskFilters:
    """What a task list can be filtered by (page query string and API parameters alike)."""

    view: str = ""  # one of TASK_VIEWS, "" = no restriction
    mine: bool = False
    assignee_id: int | None = None
    status: str = ""
    due_from: dt.datetime | None = None
    due_to: dt.datetime | None = None
    overdue: bool = False
    customer_id: int | None = None
    lead_id: int | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TaskFilters:
        """Parse query parameters; bad values raise ValidationFailed naming every bad parameter."""
        read = FilterParams(params)
        filters = cls(
            view=read.choice("view", TASK_VIEWS),
            mine=read.boolean("mine"),
            assignee_id=read.integer("assignee_id"),
            status=read.choice("status", TaskStatus),
            due_from=read.datetime("due_from"),
            due_to=read.datetime("due_to"),
            overdue=read.boolean("overdue"),
            customer_id=read.integer("customer_id"),
            lead_id=read.integer("lead_id"),
        )
        read.check()
        return filters

    @property
    def default_sort(self) -> str:
        return "-completed_at" if self.view == "done" else "due_at"

    def checked_sort(self, sort: str) -> str:
        """`sort` if it is one of TASK_SORTS, the view's default when empty; ValidationFailed otherwise."""
        sort = sort or self.default_sort
        if sort not in TASK_SORTS:
            raise ValidationFailed.for_field("sort", _("Choose a sort order from the list."))
        return sort


def task_queryset(*, actor: Actor) -> QuerySet[Task]:
    """Every task the actor may see: assigned to them, or about a customer or lead they may see."""
    require_permission(actor, ACTIVITIES_VIEW)
    return Task.objects.visible_to(actor)


def task_get(*, actor: Actor, task_id: int) -> Task:
    task = (
        task_queryset(actor=actor)
        .select_related("assignee", "customer", "lead", "completed_by", "created_by")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise NotFound(_("Task not found."))
    return task


def task_list(*, actor: Actor, filters: TaskFilters | None = None, now: dt.datetime | None = None) -> QuerySet[Task]:
    """The scoped, filtered task list with what a row shows fetched in fixed queries (ordered by due time)."""
    f = filters or TaskFilters()
    now = now or timezone.now()
    qs = task_queryset(actor=actor)
    if f.mine:
        qs = qs.filter(assignee=actor.user)
    if f.assignee_id is not None:
        qs = qs.filter(assignee_id=f.assignee_id)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.customer_id is not None:
        qs = qs.filter(customer_id=f.customer_id)
    if f.lead_id is not None:
        qs = qs.filter(lead_id=f.lead_id)
    if f.due_from is not None:
        qs = qs.filter(due_at__gte=f.due_from)
    if f.due_to is not None:
        qs = qs.filter(due_at__lt=f.due_to)
    if f.overdue:
        qs = qs.filter(status=TaskStatus.OPEN, due_at__lt=now)
    if f.view:
        start, end = day_bounds(actor=actor, now=now)
        qs = qs.filter(_view_q(f.view, now=now, start=start, end=end))
    return qs.select_related("assignee", "customer", "lead").order_by(
        *(["-completed_at", "-id"] if f.view == "done" else ["due_at", "id"])
    )


def _view_q(view: str, *, now: dt.datetime, start: dt.datetime, end: dt.datetime) -> Q:
    is_open = Q(status=TaskStatus.OPEN)
    return {
        "open": is_open,
        "today": is_open & Q(due_at__gte=start, due_at__lt=end),
        "overdue": is_open & Q(due_at__lt=now),
        "upcoming": is_open & (Q(due_at__gte=end) | Q(due_at__isnull=True)),
        "done": Q(status=TaskStatus.DONE),
        "cancelled": Q(status=TaskStatus.CANCELLED),
        "all": Q(),
    }[view]


def customer_open_tasks(*, actor: Actor, customer: Customer) -> list[Task]:
    """The customer's open tasks, soonest first (no due time last)."""
    return list(
        task_list(actor=actor, filters=TaskFilters(status=TaskStatus.OPEN, customer_id=customer.pk))
        .order_by("due_at", "id")
        .select_related("assignee")[:100]
    )


def lead_open_tasks(*, actor: Actor, lead: Lead) -> list[Task]:
    return list(task_list(actor=actor, filters=TaskFilters(status=TaskStatus.OPEN, lead_id=lead.pk))[:100])


# ---------------------------------------------------------------------------------------------------------------
# Workbench lists


def my_tasks_overdue(*, actor: Actor, now: dt.datetime | None = None, limit: int = 20) -> list[Task]:
    """My open tasks whose due time has passed, oldest first."""
    if not has_permission(actor, ACTIVITIES_VIEW):
        return []
    now = now or timezone.now()
    qs = task_list(actor=actor, filters=TaskFilters(mine=True, overdue=True), now=now)
    return list(qs[:limit])


def my_tasks_today(*, actor: Actor, now: dt.datetime | None = None, limit: int = 20) -> list[Task]:
    """My open tasks due later today (the overdue ones are listed by `my_tasks_overdue`)."""
    if not has_permission(actor, ACTIVITIES_VIEW):
        return []
    now = now or timezone.now()
    _start, end = day_bounds(actor=actor, now=now)
    filters = TaskFilters(mine=True, status=TaskStatus.OPEN, due_from=now, due_to=end)
    return list(task_list(actor=actor, filters=filters, now=now)[:limit])


def my_follow_ups(*, actor: Actor, limit: int = 10) -> list[Customer]:
    """My customers with a planned follow-up, soonest first."""
    if not has_permission(actor, CUSTOMERS_VIEW):
        return []
    qs = (
        Customer.objects.visible_to(actor)
        .filter(owner=actor.user, next_follow_up_at__isnull=False)
        .order_by("next_follow_up_at", "id")
    )
    return list(qs[:limit])


def recently_changed_customers(*, actor: Actor, limit: int = 10) -> list[Customer]:
    """Customers the actor may see, most recently changed first."""
    if not has_permission(actor, CUSTOMERS_VIEW):
        return []
    return list(Customer.objects.visible_to(actor).select_related("owner").order_by("-updated_at", "-id")[:limit])


def new_leads_assigned_to_me(*, actor: Actor, limit: int = 10) -> list[Lead]:
    """Leads owned by the actor that nobody has worked on yet (status new), newest first."""
    if not has_permission(actor, LEADS_VIEW):
        return []
    qs = Lead.objects.visible_to(actor).filter(owner=actor.user, status=LeadStatus.NEW).order_by("-created_at", "-id")
    return list(qs[:limit])

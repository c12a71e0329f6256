"""Tasks and follow-ups: create, edit, complete, reopen, cancel, and the due-reminder run.

After every task write the customer's `next_follow_up_at` is recomputed in SQL as the earliest due time
of its open tasks, so lists and the pool rules can read it without a join.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from guanxi.customers.events import TaskCompleted, TaskCreated, TaskOverdue
from guanxi.customers.models import Customer, Lead, Task
from guanxi.customers.models.choices import TaskKind, TaskPriority, TaskStatus
from guanxi.customers.permissions import ACTIVITIES_ADD, ACTIVITIES_CHANGE, ACTIVITIES_VIEW
from guanxi.customers.selectors.activities import activity_subject
from guanxi.customers.services.common import (
    FieldCleaner,
    clean_active_user,
    clean_choice,
    clean_long_text,
)
from guanxi.platform.audit.history import attribute_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound, ValidationFailed
from guanxi.platform.core.text import clean_text
from guanxi.platform.core.versioning import ensure_version
from guanxi.platform.events.registry import publish
from guanxi.platform.identity.preferences import user_time_zone
from guanxi.platform.identity.scoping import has_permission, require_permission
from guanxi.platform.notifications.services import notification_send

TITLE_MAX = 200
TASK_FIELDS = frozenset(
    {"title", "description", "kind", "priority", "due_at", "remind_at", "assignee_id", "customer_id", "lead_id"}
)
REMINDER_BATCH = 500
REMINDER_KIND = "task_reminder"


def clean_datetime(value: Any, field: str) -> dt.datetime | None:
    """A datetime or an ISO 8601 string; a time without zone is read in the current time zone."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        parsed: dt.datetime | None = value
    elif isinstance(value, dt.date):
        raise ValidationFailed.for_field(field, _("Enter a date and time such as 2025-03-01 09:30."))
    else:
        try:
            parsed = parse_datetime(clean_text(str(value)).replace(" ", "T", 1))
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValidationFailed.for_field(field, _("Enter a date and time such as 2025-03-01 09:30."))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if not 1900 <= parsed.year <= 2999:
        raise ValidationFailed.for_field(field, _("Enter a date between 1900 and 2999."))
    return parsed


def _clean_title(value: Any) -> str:
    text = clean_text(value)
    if not text:
        raise ValidationFailed.for_field("title", _("Enter a title."))
    if len(text) > TITLE_MAX:
        raise ValidationFailed.for_field("title", _("Keep it under %(n)s characters.") % {"n": TITLE_MAX})
    return text


def _assignee_can_work_on(assignee: Any, customer: Customer | None, lead: Lead | None) -> bool:
    """The assignee must be able to open the task's customer or lead, or the task would be a dead end."""
    if not has_permission(assignee, ACTIVITIES_VIEW):
        return False
    if customer is not None and not Customer.objects.visible_to(assignee).filter(pk=customer.pk).exists():
        return False
    return lead is None or Lead.objects.visible_to(assignee).filter(pk=lead.pk).exists()


def _clean_task_fields(actor: Actor, data: Mapping[str, Any], instance: Task | None) -> dict[str, Any]:
    """Validate every present field and the rules between them; report all errors at once."""
    fields = FieldCleaner(data, allowed=TASK_FIELDS)
    run, cleaned, errors = fields.run, fields.cleaned, fields.errors

    run("title", _clean_title)
    run("description", lambda v: clean_long_text(v, "description"))
    run("kind", lambda v: clean_choice(v, TaskKind, "kind", allow_blank=False))
    run("priority", lambda v: clean_choice(v, TaskPriority, "priority", allow_blank=False))
    run("due_at", lambda v: clean_datetime(v, "due_at"))
    run("remind_at", lambda v: clean_datetime(v, "remind_at"))
    run("assignee_id", lambda v: clean_active_user(v, "assignee_id"))
    if "customer_id" in data or "lead_id" in data:
        try:
            customer, lead = activity_subject(
                actor=actor, customer_id=data.get("customer_id"), lead_id=data.get("lead_id")
            )
        except ValidationFailed as exc:
            errors.update(exc.fields)
        else:
            if "customer_id" in data:
                cleaned["customer"] = customer
            if "lead_id" in data:
                cleaned["lead"] = lead
    if errors:
        raise ValidationFailed(fields=errors)

    def effective(field: str, attr: str) -> Any:
        if field in cleaned:
            return cleaned[field]
        return getattr(instance, attr) if instance is not None else None

    customer = effective("customer", "customer")
    lead = effective("lead", "lead")
    if customer is not None and lead is not None:
        errors["lead_id"] = [_("Link the task to a customer or to a lead, not both.")]
    due_at, remind_at = effective("due_at", "due_at"), effective("remind_at", "remind_at")
    if remind_at is not None and due_at is not None and remind_at > due_at:
        errors["remind_at"] = [_("Set the reminder at or before the due time.")]
    assignee = cleaned.get("assignee_id") or (instance.assignee if instance is not None else actor.user)
    subject_changed = instance is None or bool({"assignee_id", "customer", "lead"} & set(cleaned))
    if (
        subject_changed
        and assignee.pk != actor.user.pk
        and not errors
        and not _assignee_can_work_on(assignee, customer, lead)
    ):
        errors["assignee_id"] = [_("This user cannot see the customer or lead of this task.")]
    if errors:
        raise ValidationFailed(fields=errors)
    cleaned["assignee_id"] = assignee
    return cleaned


def _apply(task: Task, cleaned: Mapping[str, Any]) -> None:
    reminder_moved = False
    for field in ("title", "description", "kind", "priority", "due_at", "remind_at"):
        if field in cleaned:
            if field in ("due_at", "remind_at") and getattr(task, field) != cleaned[field]:
                reminder_moved = True
            if field == "due_at" and task.due_at != cleaned[field]:
                task.overdue_published_at = None
            setattr(task, field, cleaned[field])
    if "assignee_id" in cleaned and cleaned["assignee_id"].pk != task.assignee_id:
        task.assignee = cleaned["assignee_id"]
        reminder_moved = True
    if "customer" in cleaned:
        task.customer = cleaned["customer"]
    if "lead" in cleaned:
        task.lead = cleaned["lead"]
    if reminder_moved:
        task.reminded_at = None


def customers_refresh_next_follow_up(*, customer_ids: Iterable[int | None]) -> None:
    """Set each customer's `next_follow_up_at` to the earliest due time of its open tasks (one UPDATE)."""
    ids = {pk for pk in customer_ids if pk is not None}
    if not ids:
        return
    earliest = (
        Task.objects.filter(customer=OuterRef("pk"), status=TaskStatus.OPEN, due_at__isnull=False)
        .order_by("due_at")
        .values("due_at")[:1]
    )
    Customer.objects.filter(pk__in=ids).update(next_follow_up_at=Subquery(earliest))


def _lock_for_change(actor: Actor, task: Task) -> Task:
    """The task row, locked, if the actor may change it; NotFound when they may not see it."""
    require_permission(actor, ACTIVITIES_CHANGE)
    locked = (
        Task.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("assignee", "customer", "lead")
        .filter(pk=task.pk)
        .first()
    )
    if locked is None:
        raise NotFound(_("Task not found."))
    return locked


def task_insert(*, actor: Actor, cleaned: Mapping[str, Any]) -> Task:
    """Save a task from already-cleaned values (used by task_create and by interaction follow-ups)."""
    task = Task(created_by=actor.user, assignee=cleaned["assignee_id"], status=TaskStatus.OPEN)
    _apply(task, cleaned)
    attribute_history(task, actor)
    task.save()
    customers_refresh_next_follow_up(customer_ids=[task.customer_id])
    publish(
        TaskCreated(
            record_id=task.pk,
            title=task.title,
            assignee_id=task.assignee_id,
            customer_id=task.customer_id,
            lead_id=task.lead_id,
            due_at=task.due_at.isoformat() if task.due_at else None,
        ),
        actor_id=actor.id,
    )
    return task


@transaction.atomic
def task_create(*, actor: Actor, data: Mapping[str, Any]) -> Task:
    """Create a task; the assignee defaults to the actor, the customer or lead is optional."""
    require_permission(actor, ACTIVITIES_ADD)
    data = dict(data)
    data.setdefault("title", "")
    cleaned = _clean_task_fields(actor, data, None)
    return task_insert(actor=actor, cleaned=cleaned)


@transaction.atomic
def task_update(*, actor: Actor, task: Task, data: Mapping[str, Any], expected_version: int | None = None) -> Task:
    """Change the given fields; `expected_version` guards against overwriting someone else's edit."""
    locked = _lock_for_change(actor, task)
    ensure_version(locked, expected_version)
    previous_customer_id = locked.customer_id
    cleaned = _clean_task_fields(actor, data, locked)
    _apply(locked, cleaned)
    locked.bump_version()
    attribute_history(locked, actor)
    locked.save()
    customers_refresh_next_follow_up(customer_ids=[previous_customer_id, locked.customer_id])
    return locked


@transaction.atomic
def task_complete(*, actor: Actor, task: Task, result: str = "", expected_version: int | None = None) -> Task:
    """Mark the task done with an optional result; completing a done task changes nothing."""
    locked = _lock_for_change(actor, task)
    ensure_version(locked, expected_version)
    text = clean_long_text(result, "result")
    if locked.status == TaskStatus.DONE:
        return locked
    locked.status = TaskStatus.DONE
    locked.completed_at = timezone.now()
    locked.completed_by = actor.user
    locked.result = text
    locked.bump_version()
    attribute_history(locked, actor, _("Completed"))
    locked.save()
    customers_refresh_next_follow_up(customer_ids=[locked.customer_id])
    publish(
        TaskCompleted(
            record_id=locked.pk, assignee_id=locked.assignee_id, customer_id=locked.customer_id, lead_id=locked.lead_id
        ),
        actor_id=actor.id,
    )
    return locked


@transaction.atomic
def task_reopen(*, actor: Actor, task: Task, expected_version: int | None = None) -> Task:
    """Open a done or cancelled task again."""
    locked = _lock_for_change(actor, task)
    ensure_version(locked, expected_version)
    if locked.status == TaskStatus.OPEN:
        return locked
    locked.status = TaskStatus.OPEN
    locked.completed_at = None
    locked.completed_by = None
    locked.overdue_published_at = None
    locked.bump_version()
    attribute_history(locked, actor, _("Reopened"))
    locked.save()
    customers_refresh_next_follow_up(customer_ids=[locked.customer_id])
    return locked


@transaction.atomic
def task_cancel(*, actor: Actor, task: Task, expected_version: int | None = None) -> Task:
    """Cancel the task; it stays in the history and can be reopened."""
    locked = _lock_for_change(actor, task)
    ensure_version(locked, expected_version)
    if locked.status == TaskStatus.CANCELLED:
        return locked
    locked.status = TaskStatus.CANCELLED
    locked.bump_version()
    attribute_history(locked, actor, _("Cancelled"))
    locked.save()
    customers_refresh_next_follow_up(customer_ids=[locked.customer_id])
    return locked


# ---------------------------------------------------------------------------------------------------------------
# Reminders (run every minute by the worker)


def _task_link(task: Task) -> str:
    if task.customer_id is not None:
        return reverse("customers:customer_detail", args=[task.customer_id])
    return reverse("customers:task_edit", args=[task.pk])


def _send_reminder(task: Task) -> None:
    user = task.assignee
    with translation.override(user.language or settings.LANGUAGE_CODE):
        title = _("Reminder: %(title)s") % {"title": task.title}
        parts = []
        if task.due_at is not None:
            due = timezone.localtime(task.due_at, user_time_zone(user))
            parts.append(_("Due %(time)s.") % {"time": formats.date_format(due, "DATETIME_FORMAT")})
        about = task.customer or task.lead
        if about is not None:
            parts.append(_("About %(name)s.") % {"name": about.name})
        body = " ".join(parts)
    notification_send(recipient_id=user.pk, kind=REMINDER_KIND, title=title, body=body, url=_task_link(task))


def tasks_send_due_reminders(now: dt.datetime | None = None) -> int:
    """Send one in-app notification per open task whose reminder time has come; return how many were sent.

    Idempotent and safe with several workers: a batch is claimed with one conditional UPDATE
    (`reminded_at IS NULL` -> this run's claim time) and only the rows carrying that claim are sent.
    A second worker's UPDATE skips rows the first already claimed, so no reminder goes out twice.
    """
    now = now or timezone.now()
    sent = 0
    while True:
        with transaction.atomic():
            due_ids = list(
                Task.objects.filter(
                    status=TaskStatus.OPEN, remind_at__lte=now, reminded_at__isnull=True, assignee__is_active=True
                )
                .order_by("remind_at", "id")
                .values_list("id", flat=True)[:REMINDER_BATCH]
            )
            if not due_ids:
                return sent
            claim = timezone.now()
            Task.objects.filter(pk__in=due_ids, reminded_at__isnull=True, status=TaskStatus.OPEN).update(
                reminded_at=claim
            )
            claimed = list(
                Task.objects.filter(pk__in=due_ids, reminded_at=claim)
                .select_related("assignee", "customer", "lead")
                .order_by("id")
            )
            for task in claimed:
                _send_reminder(task)
            sent += len(claimed)
            if len(due_ids) < REMINDER_BATCH:
                return sent


# ---------------------------------------------------------------------------------------------------------------
# Overdue tasks (run every five minutes by the worker)

OVERDUE_BATCH = 500


def tasks_publish_overdue(now: dt.datetime | None = None) -> int:
    """Publish `task.overdue` once for each open task whose due time has passed; return how many.

    Idempotent and safe with several workers, like the reminders: each batch is claimed with one conditional
    UPDATE (`overdue_published_at IS NULL` -> this run's claim time) and only the claimed rows are published.
    """
    now = now or timezone.now()
    published = 0
    while True:
        with transaction.atomic():
            due_ids = list(
                Task.objects.filter(status=TaskStatus.OPEN, due_at__lt=now, overdue_published_at__isnull=True)
                .order_by("due_at", "id")
                .values_list("id", flat=True)[:OVERDUE_BATCH]
            )
            if not due_ids:
                return published
            claim = timezone.now()
            Task.objects.filter(pk__in=due_ids, overdue_published_at__isnull=True, status=TaskStatus.OPEN).update(
                overdue_published_at=claim
            )
            claimed = Task.objects.filter(pk__in=due_ids, overdue_published_at=claim).order_by("id")
            for task_id, title, assignee_id, customer_id, lead_id, due_at in claimed.values_list(
                "id", "title", "assignee_id", "customer_id", "lead_id", "due_at"
            ):
                publish(
                    TaskOverdue(
                        record_id=task_id,
                        title=title,
                        assignee_id=assignee_id,
                        customer_id=customer_id,
                        lead_id=lead_id,
                        due_at=due_at.isoformat() if due_at is not None else "",
                    )
                )
                published += 1
            if len(due_ids) < OVERDUE_BATCH:
                return published

"""Task and follow-up (待办/跟进计划): something to do by a due time, with a reminder and an assignee."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from guanxi.customers.models.choices import TaskKind, TaskPriority, TaskStatus
from guanxi.customers.models.customer import Customer
from guanxi.customers.models.lead import Lead
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.models import TimestampedModel
from guanxi.platform.identity.scoping import ScopedQuerySet


class TaskQuerySet(ScopedQuerySet):
    pass


class Task(TimestampedModel):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=TaskKind.choices, default=TaskKind.FOLLOW_UP)
    priority = models.CharField(_("priority"), max_length=8, choices=TaskPriority.choices, default=TaskPriority.NORMAL)
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    # When `task.overdue` was published for the current due time (cleared when the due time moves or the task
    # is reopened), so the periodic job announces each overdue task once.
    overdue_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.PROTECT, related_name="tasks"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    lead = models.ForeignKey(
        "customers.Lead", verbose_name=_("lead"), null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.TextField(_("result"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TaskQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_due"),
            models.Index(fields=["customer", "status", "due_at"], name="task_customer_due"),
            models.Index(fields=["status", "remind_at"], name="task_reminders"),
            models.Index(fields=["status", "due_at"], name="task_status_due"),
        ]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def visibility_q(cls, actor: Actor | Any) -> Q:
        user = actor.user if isinstance(actor, Actor) else actor
        return (
            Q(assignee=user.pk)
            | (Q(customer__isnull=False) & Customer.visibility_q(actor, prefix="customer__"))
            | (Q(lead__isnull=False) & Lead.visibility_q(actor, prefix="lead__"))
        )

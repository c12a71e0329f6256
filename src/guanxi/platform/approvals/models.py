"""Approval processes (ordered steps saying who approves), requests moving through them, who was asked at
each step (assignments) and the append-only log of everything that happened to a request (actions).

A request is about one record of a registered approvable type ("customers.customer" and an id); the record's
own app says what it is, who may see it and what happens when the request is decided (see registry.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.platform.audit.history import ChangeHistory
from guanxi.platform.core.models import TimestampedModel


class ApproverKind(models.TextChoices):
    ROLE = "role", _("Anyone with a role")
    MANAGER = "manager", _("The requester's manager")
    USER = "user", _("A named user")


class RoleScope(models.TextChoices):
    ANYONE = "anyone", _("Anywhere in the company")
    TEAM_SUBTREE = "team_subtree", _("In the requester's team or its sub-teams")
    TEAM_CHAIN = "team_chain", _("In the requester's team or the teams above it")


class EscalateTo(models.TextChoices):
    NOBODY = "", _("Nobody")
    MANAGER = "manager", _("The approver's manager")
    USER = "user", _("A named user")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for changes")
    CANCELLED = "cancelled", _("Cancelled")


# A request that still counts for its record: at most one per process and record (a partial unique index).
OPEN_STATUSES = (RequestStatus.PENDING, RequestStatus.RETURNED)


class ActionKind(models.TextChoices):
    SUBMIT = "submit", _("Submitted")
    APPROVE = "approve", _("Approved")
    REJECT = "reject", _("Rejected")
    RETURN = "return", _("Returned for changes")
    ESCALATE = "escalate", _("Escalated")
    REMIND = "remind", _("Reminded")
    COMMENT = "comment", _("Commented")
    CANCEL = "cancel", _("Cancelled")
    RESUBMIT = "resubmit", _("Resubmitted")


class AssignedVia(models.TextChoices):
    ROLE = "role", _("By role")
    MANAGER = "manager", _("As manager")
    USER = "user", _("Named")
    ESCALATION = "escalation", _("Escalated")
    FALLBACK = "fallback", _("Approval administrator")


class ApprovalProcess(TimestampedModel):
    """A named chain of steps for one approvable type, such as "特价审批" for customers."""

    name = models.CharField(_("name"), max_length=100)
    approvable_type = models.CharField(_("record type"), max_length=64, db_index=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    history = ChangeHistory()

    class Meta:
        ordering = ["approvable_type", "name", "id"]
        verbose_name = _("approval process")
        verbose_name_plural = _("approval processes")
        constraints = [
            models.UniqueConstraint(fields=["approvable_type", "name"], name="approval_process_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ApprovalStep(models.Model):
    """One step of a process: who approves it ("any one of" them decides) and what happens on timeout."""

    process = models.ForeignKey(ApprovalProcess, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    approver_kind = models.CharField(_("approver"), max_length=20, choices=ApproverKind.choices)
    role = models.ForeignKey(
        "identity.Role", verbose_name=_("role"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role_scope = models.CharField(
        _("where"), max_length=20, choices=RoleScope.choices, default=RoleScope.ANYONE, blank=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    timeout_hours = models.PositiveIntegerField(_("timeout (hours)"), default=0)
    remind_on_timeout = models.BooleanField(_("remind on timeout"), default=False)
    escalate_to = models.CharField(
        _("escalate on timeout to"), max_length=20, choices=EscalateTo.choices, default=EscalateTo.NOBODY, blank=True
    )
    escalation_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalate to user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["process", "position", "id"]
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        indexes = [models.Index(fields=["process", "position"], name="approval_step_order")]

    def __str__(self) -> str:
        return self.name or f"{self.position}"


class ApprovalRequest(TimestampedModel):
    """One record going through one process. `round` counts submissions (a resubmission starts round 2 at
    step 1); the `step_*` times belong to the current step and are reset whenever a step starts."""

    process = models.ForeignKey(ApprovalProcess, on_delete=models.PROTECT, related_name="requests")
    approvable_type = models.CharField(_("record type"), max_length=64)
    object_id = models.PositiveBigIntegerField(_("record id"))
    # What the record was called and where it lives when it was (re)submitted, so lists need no lookups.
    object_label = models.CharField(_("record"), max_length=200)
    object_url = models.CharField(_("link"), max_length=300, blank=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requester"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    current_step = models.ForeignKey(
        ApprovalStep, verbose_name=_("current step"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    round = models.PositiveIntegerField(_("round"), default=1)
    step_started_at = models.DateTimeField(_("step started at"), null=True, blank=True)
    step_due_at = models.DateTimeField(_("step due at"), null=True, blank=True)
    step_reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    step_escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        constraints = [
            models.UniqueConstraint(
                fields=["process", "approvable_type", "object_id"],
                condition=Q(status__in=["pending", "returned"]),
                name="approval_one_open_request_per_record",
            ),
        ]
        indexes = [
            models.Index(fields=["approvable_type", "object_id"], name="approval_request_record"),
            models.Index(fields=["requester", "status"], name="approval_request_requester"),
            models.Index(fields=["status", "step_due_at"], name="approval_request_due"),
            models.Index(fields=["status", "-submitted_at"], name="approval_request_status"),
        ]

    def __str__(self) -> str:
        return f"{self.process} · {self.object_label}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ApprovalAssignment(models.Model):
    """A user asked to decide one step of one round; `is_open` until the step is decided or the request ends."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="assignments")
    round = models.PositiveIntegerField(default=1)
    step = models.ForeignKey(ApprovalStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    step_position = models.PositiveSmallIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    via = models.CharField(max_length=20, choices=AssignedVia.choices)
    is_open = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["request", "round", "step_position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "round", "step_position", "user"], name="approval_assignment_once_per_step"
            ),
        ]
        indexes = [models.Index(fields=["user", "is_open"], name="approval_assignment_inbox")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.request_id}/{self.round}/{self.step_position}"


class ApprovalAction(models.Model):
    """One entry of a request's log; written once, never changed. `actor` empty: the system (timeouts)."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="actions")
    round = models.PositiveIntegerField(default=1)
    step = models.ForeignKey(ApprovalStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    step_position = models.PositiveSmallIntegerField(null=True, blank=True)
    kind = models.CharField(_("action"), max_length=20, choices=ActionKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    comment = models.TextField(_("comment"), blank=True)
    # Facts the log shows next to the action: {"to": [names]} for escalations and reminders, {"fallback": true}
    # when a step found nobody and went to the approval administrators.
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("approval action")
        verbose_name_plural = _("approval actions")
        indexes = [models.Index(fields=["request", "at"], name="approval_action_log")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.at:%Y-%m-%d %H:%M}"

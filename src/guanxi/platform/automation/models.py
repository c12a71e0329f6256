"""Workflow rules (工作流) and the log of their runs.

A `Rule` is a definition (record type, trigger, conditions, actions: see triggers.py, conditions.py and the
action registry) checked completely when it is saved. `listens_to` holds the event names that may start it,
so the engine finds the rules of an event without reading every definition.

A `RuleRun` is one run of a rule for one record: its trigger, the conditions as evaluated, each action's
outcome. Runs of date and schedule rules (and of events, by the event id) carry an `occurrence_key` that is
unique per rule and record, so a job that runs twice, or two workers, run each occurrence once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.platform.audit.history import ChangeHistory
from guanxi.platform.automation.triggers import TriggerKind
from guanxi.platform.core.models import TimestampedModel


class Rule(TimestampedModel):
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=500, blank=True)
    record_type = models.CharField(_("record type"), max_length=64)
    trigger_kind = models.CharField(_("trigger"), max_length=16, choices=TriggerKind.choices)
    trigger_config = models.JSONField(_("trigger settings"), default=dict, blank=True)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    actions = models.JSONField(_("actions"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(_("active since"), null=True, blank=True)
    run_as = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("runs as"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Actions run with this user's rights: whoever last saved or switched on the rule."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    listens_to = models.JSONField(default=list, blank=True, editable=False)

    history = ChangeHistory(excluded_fields=["listens_to"])

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("workflow rule")
        verbose_name_plural = _("workflow rules")
        indexes = [
            models.Index(fields=["is_active", "trigger_kind"], name="rule_active_kind"),
            models.Index(fields=["record_type", "-id"], name="rule_record_type"),
        ]

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped: conditions not met")
    DRY_RUN = "dry_run", _("Dry run")


class ActionStatus(models.TextChoices):
    SUCCEEDED = "succeeded", _("Done")
    FAILED = "failed", _("Failed")
    ROLLED_BACK = "rolled_back", _("Undone: a later action failed")
    NOT_RUN = "not_run", _("Not run")
    WOULD_RUN = "would_run", _("Would run")


class RuleRun(models.Model):
    rule = models.ForeignKey(Rule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="runs")
    record_type = models.CharField(_("record type"), max_length=64)
    record_id = models.BigIntegerField(_("record id"))
    trigger_kind = models.CharField(_("trigger"), max_length=16, choices=TriggerKind.choices)
    trigger = models.CharField(
        _("started by"), max_length=200, blank=True, help_text=_("The event, the date or the scheduled time.")
    )
    event_id = models.CharField(_("event id"), max_length=64, blank=True)
    occurrence_key = models.CharField(max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=RunStatus.choices)
    conditions = models.JSONField(_("conditions as evaluated"), default=list, blank=True)
    outcomes = models.JSONField(_("action outcomes"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dry run by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("rule run")
        verbose_name_plural = _("rule runs")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "record_type", "record_id", "occurrence_key"],
                condition=~Q(occurrence_key=""),
                name="rulerun_once_per_occurrence",
            )
        ]
        indexes = [
            models.Index(fields=["rule", "-id"], name="rulerun_rule"),
            models.Index(fields=["status", "-id"], name="rulerun_status"),
            models.Index(fields=["record_type", "record_id", "-id"], name="rulerun_record"),
            models.Index(fields=["rule", "occurrence_key"], name="rulerun_occurrence"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.record_type}#{self.record_id}: {self.status}"

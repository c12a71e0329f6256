"""The periodic jobs of workflow rules: date rules and scheduled rules, each hourly and idempotent."""

from __future__ import annotations

from django_tasks import task

from guanxi.platform.automation.engine import run_rules_of_kind
from guanxi.platform.automation.triggers import TriggerKind


@task()
def run_date_rules() -> int:
    """Run the active date rules for every record whose date occurrence has come (each occurrence once)."""
    return run_rules_of_kind(TriggerKind.DATE)


@task()
def run_schedule_rules() -> int:
    """Run the active scheduled rules whose slot has come, for every matching record (once per slot)."""
    return run_rules_of_kind(TriggerKind.SCHEDULE)

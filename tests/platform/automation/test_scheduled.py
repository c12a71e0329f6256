"""Date and schedule rules: the hourly jobs run each occurrence once, for the records SQL selects."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.platform.automation import engine
from guanxi.platform.automation.engine import run_rules_of_kind
from guanxi.platform.automation.models import Rule, RuleRun
from guanxi.platform.automation.triggers import latest_slot, next_slot
from guanxi.platform.core.jobs import periodic_jobs, run_periodic_job
from guanxi.platform.customfields.models import CustomFieldDefinition
from tests.factories import CustomerFactory
from tests.platform.automation.conftest import make_rule

LONG_AGO = timezone.make_aware(dt.datetime(2020, 1, 1))


def local(*args: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*args), timezone.get_default_timezone())


def active_since(rule: Rule, moment: dt.datetime = LONG_AGO) -> Rule:
    Rule.objects.filter(pk=rule.pk).update(activated_at=moment)
    rule.refresh_from_db()
    return rule


def birthday_rule(org: Any, conditions: dict[str, Any] | None = None, **config: Any) -> Rule:
    trigger = {"field": "birthday", "offset_days": 3, "direction": "before", "hour": 9, "yearly": True, **config}
    rule = make_rule(org.actor("admin"), trigger_kind="date", trigger_config=trigger, conditions=conditions or {})
    return active_since(rule)


def test_the_jobs_are_registered_hourly() -> None:
    jobs = {job.name: job for job in periodic_jobs()}
    assert (jobs["automation.date_rules"].minute, jobs["automation.date_rules"].hour) == ("7", "*")
    assert (jobs["automation.schedule_rules"].minute, jobs["automation.schedule_rules"].hour) == ("2", "*")


def test_a_yearly_date_rule_runs_once_at_its_hour(org: Any) -> None:
    rule = birthday_rule(org)
    due = CustomerFactory(owner=org.rep_north, birthday=dt.date(1990, 3, 10))
    CustomerFactory(owner=org.rep_north, birthday=dt.date(1990, 3, 11))
    CustomerFactory(owner=org.rep_north, birthday=None)

    assert run_rules_of_kind("date", local(2025, 3, 7, 8, 59)) == 0
    assert run_rules_of_kind("date", local(2025, 3, 7, 9, 5)) == 1
    assert run_rules_of_kind("date", local(2025, 3, 7, 10, 5)) == 0  # the next hour: already done
    run = RuleRun.objects.get()
    assert (run.rule_id, run.record_id, run.status, run.trigger, run.occurrence_key) == (
        rule.pk,
        due.pk,
        "succeeded",
        "2025-03-07",
        "date:2025-03-07",
    )
    assert run_rules_of_kind("date", local(2026, 3, 7, 9, 5)) == 1  # next year's birthday


def test_a_missed_occurrence_is_caught_up_for_two_days(org: Any) -> None:
    birthday_rule(org, offset_days=0)
    for day in (8, 7, 6, 5):
        CustomerFactory(owner=org.rep_north, birthday=dt.date(1990, 3, day))
    assert run_rules_of_kind("date", local(2025, 3, 8, 12, 0)) == 3
    assert sorted(RuleRun.objects.values_list("occurrence_key", flat=True)) == [
        "date:2025-03-06",
        "date:2025-03-07",
        "date:2025-03-08",
    ]


def test_occurrences_before_the_rule_was_switched_on_never_run(org: Any) -> None:
    rule = birthday_rule(org, offset_days=0)
    active_since(rule, local(2025, 3, 8, 10, 0))
    CustomerFactory(owner=org.rep_north, birthday=dt.date(1990, 3, 8))  # due at 09:00, before switching on
    CustomerFactory(owner=org.rep_north, birthday=dt.date(1990, 3, 7))
    assert run_rules_of_kind("date", local(2025, 3, 8, 12, 0)) == 0
    assert run_rules_of_kind("date", local(2025, 3, 9, 9, 30)) == 0


def test_29_february_is_celebrated_on_28_february_in_common_years(org: Any) -> None:
    birthday_rule(org, offset_days=0)
    leapling = CustomerFactory(owner=org.rep_north, birthday=dt.date(1996, 2, 29))
    assert run_rules_of_kind("date", local(2025, 2, 28, 9, 30)) == 1
    assert RuleRun.objects.get().record_id == leapling.pk


def test_a_date_rule_on_a_custom_date_field_counts_days_after(org: Any) -> None:
    CustomFieldDefinition.objects.create(
        target="customers.customer", key="renewal", label_zh="续约日", label_en="Renewal", field_type="date"
    )
    active_since(
        make_rule(
            org.actor("admin"),
            trigger_kind="date",
            trigger_config={"field": "custom_fields.renewal", "offset_days": 7, "direction": "after", "hour": 10},
        )
    )
    late = CustomerFactory(owner=org.rep_north, custom_fields={"renewal": "2025-03-01"})
    CustomerFactory(owner=org.rep_north, custom_fields={"renewal": "2025-03-02"})
    CustomerFactory(owner=org.rep_north, custom_fields={})
    assert run_rules_of_kind("date", local(2025, 3, 8, 10, 30)) == 1
    assert RuleRun.objects.get().record_id == late.pk


def test_a_datetime_rule_runs_at_the_moment_plus_the_offset(org: Any) -> None:
    active_since(
        make_rule(
            org.actor("admin"),
            trigger_kind="date",
            trigger_config={"field": "next_follow_up_at", "offset_days": 1, "direction": "after"},
        )
    )
    overdue = CustomerFactory(owner=org.rep_north, next_follow_up_at=local(2025, 3, 7, 14, 0))
    CustomerFactory(owner=org.rep_north, next_follow_up_at=local(2025, 3, 7, 16, 0))
    assert run_rules_of_kind("date", local(2025, 3, 8, 14, 30)) == 1
    assert RuleRun.objects.get().record_id == overdue.pk
    assert run_rules_of_kind("date", local(2025, 3, 8, 16, 30)) == 1
    assert run_rules_of_kind("date", local(2025, 3, 8, 17, 30)) == 0


def test_conditions_narrow_the_records_in_sql(org: Any) -> None:
    birthday_rule(org, conditions={"all": [{"field": "lifecycle_stage", "op": "eq", "value": "loyal"}]})
    loyal = CustomerFactory(owner=org.rep_north, birthday=dt.date(1990, 3, 10), lifecycle_stage="loyal")
    for _ in range(20):
        CustomerFactory(owner=org.rep_north, birthday=dt.date(1990, 3, 10), lifecycle_stage="active")
    assert run_rules_of_kind("date", local(2025, 3, 7, 9, 30)) == 1
    assert RuleRun.objects.get().record_id == loyal.pk  # no skipped runs: the others never left the database


def test_a_weekly_schedule_runs_every_matching_record_once_per_slot(org: Any) -> None:
    rule = active_since(
        make_rule(
            org.actor("admin"),
            trigger_kind="schedule",
            trigger_config={"frequency": "weekly", "weekday": 0, "hour": 8},
            conditions={"all": [{"field": "owner", "op": "eq", "value": org.rep_north.pk}]},
        )
    )
    mine = [CustomerFactory(owner=org.rep_north) for _ in range(3)]
    CustomerFactory(owner=org.rep_south)
    monday = local(2025, 3, 10, 8, 30)
    assert run_rules_of_kind("schedule", local(2025, 3, 10, 7, 59)) == 0  # last week's slot was before switching on
    active_since(rule, local(2025, 3, 9))
    assert run_rules_of_kind("schedule", monday) == 3
    assert run_rules_of_kind("schedule", monday + dt.timedelta(hours=1)) == 0
    assert sorted(RuleRun.objects.values_list("record_id", flat=True)) == sorted(c.pk for c in mine)
    assert set(RuleRun.objects.values_list("occurrence_key", flat=True)) == {"schedule:2025-03-10T08:00"}
    later = CustomerFactory(owner=org.rep_north)
    assert run_rules_of_kind("schedule", monday + dt.timedelta(hours=2)) == 1  # joined during the slot's day
    assert RuleRun.objects.filter(record_id=later.pk).count() == 1
    assert run_rules_of_kind("schedule", monday + dt.timedelta(days=2)) == 0  # slot older than a day: dropped
    assert run_rules_of_kind("schedule", monday + dt.timedelta(days=7)) == 4


def test_the_schedule_job_works_through_the_records_in_batches(org: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    active_since(
        make_rule(org.actor("admin"), trigger_kind="schedule", trigger_config={"frequency": "daily", "hour": 6})
    )
    for _ in range(5):
        CustomerFactory(owner=org.rep_north)
    assert run_rules_of_kind("schedule", local(2025, 3, 10, 6, 1)) == 5
    assert run_rules_of_kind("schedule", local(2025, 3, 10, 6, 1)) == 0


def test_the_periodic_job_runs_the_due_rules_now(org: Any) -> None:
    rule = make_rule(org.actor("admin"), trigger_kind="schedule", trigger_config={"frequency": "daily", "hour": 0})
    active_since(rule, timezone.now() - dt.timedelta(days=2))
    customer = CustomerFactory(owner=org.rep_north)
    assert run_periodic_job("automation.schedule_rules") == 1
    assert run_periodic_job("automation.schedule_rules") == 0
    assert run_periodic_job("automation.date_rules") == 0
    assert RuleRun.objects.get().record_id == customer.pk
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("config", "now", "latest", "following"),
    [
        ({"frequency": "daily", "hour": 8}, (2025, 3, 10, 7), (2025, 3, 9, 8), (2025, 3, 10, 8)),
        ({"frequency": "weekly", "weekday": 4, "hour": 18}, (2025, 3, 10, 9), (2025, 3, 7, 18), (2025, 3, 14, 18)),
        ({"frequency": "monthly", "day": 31, "hour": 9}, (2025, 3, 10, 9), (2025, 2, 28, 9), (2025, 3, 31, 9)),
        ({"frequency": "monthly", "day": 31, "hour": 9}, (2025, 4, 30, 10), (2025, 4, 30, 9), (2025, 5, 31, 9)),
    ],
)
def test_slots_fall_at_the_hour_in_the_installation_time_zone(
    config: dict[str, Any], now: tuple[int, ...], latest: tuple[int, ...], following: tuple[int, ...]
) -> None:
    assert latest_slot(config, local(*now)) == local(*latest)
    assert next_slot(config, local(*now)) == local(*following)

"""Dry runs: the trigger's fit, each condition with the record's value, what each action would do — and
nothing written (but the optional dry-run entry of the run log)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from guanxi.customers.models import Customer, Task
from guanxi.platform.annotations.models import Tag, TaggedItem
from guanxi.platform.automation.dry_run import rule_dry_run
from guanxi.platform.automation.models import RuleRun
from guanxi.platform.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.platform.notifications.models import Notification
from tests.factories import CustomerFactory
from tests.platform.automation.conftest import make_rule, rule_data


def test_a_dry_run_shows_values_and_actions_and_writes_nothing(org: Any) -> None:
    tag = Tag.objects.create(name="VIP", color="red")
    rule = make_rule(
        org.actor("admin"),
        conditions={
            "all": [{"field": "rating", "op": "gte", "value": 4}, {"field": "industry", "op": "eq", "value": "IT"}]
        },
        actions=[
            {"type": "customers.create_task", "params": {"title": "Call {record}", "due_in_days": 2}},
            {"type": "add_tag", "params": {"tag_id": tag.pk}},
            {"type": "customers.assign_owner", "params": {"method": "round_robin", "team_id": org.north.pk}},
            {"type": "customers.set_field", "params": {"field": "rating", "value": 5}},
        ],
    )
    customer = CustomerFactory(owner=org.rep_south, name="王芳", rating=4, industry="零售", lifecycle_stage="dormant")
    version = customer.version
    result = rule_dry_run(actor=org.actor("admin"), rule=rule, record_id=customer.pk)

    assert (result.record_label, result.trigger_fits, result.conditions_met, result.would_run) == (
        "王芳",
        True,
        False,
        False,
    )
    assert result.trigger_note == "Runs when Lifecycle stage changes to Dormant; it is Dormant now."
    assert [(line.path, line.actual, line.result) for line in result.conditions] == [
        ("conditions", "", False),
        ("conditions.0", "4", True),
        ("conditions.1", "零售", False),
    ]
    first, second = sorted([org.manager_north, org.rep_north], key=lambda user: user.pk)
    descriptions = [action.description for action in result.actions]
    assert descriptions[0].startswith(f"Create the task “Call 王芳” for {org.rep_south}, due ")
    assert descriptions[1:] == [
        "Add the tag “VIP”.",
        f"Assign the customer to {first} (Round robin in {org.north.name}).",
        "Set Star rating from 4 to 5.",
    ]
    assert second  # both members are candidates; the first in turn is named
    assert not Task.objects.exists() and not TaggedItem.objects.exists() and not RuleRun.objects.exists()
    assert not Notification.objects.exists()
    customer.refresh_from_db()
    assert (customer.version, customer.owner_id, customer.rating) == (version, org.rep_south.pk, 4)


def test_a_dry_run_can_be_kept_in_the_run_log(org: Any) -> None:
    rule = make_rule(org.actor("admin"))
    customer = CustomerFactory(owner=org.rep_north)
    result = rule_dry_run(actor=org.actor("admin"), rule=rule, record_id=customer.pk, record_run=True)
    run = RuleRun.objects.get()
    assert (result.run_id, run.status, run.requested_by_id, run.occurrence_key) == (run.pk, "dry_run", org.admin.pk, "")
    assert run.outcomes == [
        {
            "type": "notify",
            "label": "Notify a user",
            "status": "would_run",
            "summary": f"Notify {org.rep_north}: “Check {customer.name}”.",
            "error": "",
        }
    ]


def test_an_unsaved_definition_is_checked_then_tested(org: Any) -> None:
    customer = CustomerFactory(owner=None, team=None)
    result = rule_dry_run(actor=org.actor("admin"), rule=rule_data(), record_id=customer.pk)
    assert result.actions[0].error == "The record has no owner to notify."
    assert result.would_run is False
    with pytest.raises(ValidationFailed) as failed:
        rule_dry_run(actor=org.actor("admin"), rule=rule_data(actions=[]), record_id=customer.pk)
    assert failed.value.fields == {"actions": ["Add at least one action."]}


def test_date_and_schedule_triggers_say_when_they_run(org: Any) -> None:
    birthday = make_rule(
        org.actor("admin"),
        trigger_kind="date",
        trigger_config={"field": "birthday", "offset_days": 1, "direction": "before", "hour": 9, "yearly": True},
    )
    born = CustomerFactory(owner=org.rep_north, birthday=dt.date(1990, 12, 31))
    unknown = CustomerFactory(owner=org.rep_north, birthday=None)
    result = rule_dry_run(actor=org.actor("admin"), rule=birthday, record_id=born.pk)
    assert result.trigger_fits and "-12-30 09:00 (Birthday is 1990-12-31)." in result.trigger_note
    empty = rule_dry_run(actor=org.actor("admin"), rule=birthday, record_id=unknown.pk)
    assert (empty.trigger_fits, empty.trigger_note) == (
        False,
        "Birthday is empty, so the rule never runs for this record.",
    )
    weekly = make_rule(
        org.actor("admin"), trigger_kind="schedule", trigger_config={"frequency": "weekly", "weekday": 0, "hour": 8}
    )
    note = rule_dry_run(actor=org.actor("admin"), rule=weekly, record_id=born.pk).trigger_note
    assert note.startswith("Runs for every matching record; next time: ") and note.endswith(" 08:00.")


def test_a_dry_run_needs_a_record_the_actor_sees_and_the_right_to_manage(org: Any) -> None:
    rule = make_rule(org.actor("admin"))
    with pytest.raises(NotFound):
        rule_dry_run(actor=org.actor("admin"), rule=rule, record_id=999999)
    customer = CustomerFactory(owner=org.rep_north)
    with pytest.raises(PermissionDenied):
        rule_dry_run(actor=org.actor("rep_north"), rule=rule, record_id=customer.pk)
    assert Customer.objects.count() == 1

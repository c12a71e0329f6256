"""Rule services: every invalid definition refused at save time with a clear message at its place, nothing
half-written; switching on checks again; who may manage rules; whose rights a rule runs with."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.platform.annotations.models import Tag
from guanxi.platform.automation.models import Rule
from guanxi.platform.automation.services import (
    rule_activate,
    rule_create,
    rule_deactivate,
    rule_delete,
    rule_update,
)
from guanxi.platform.channels.models import MessageTemplate
from guanxi.platform.core.errors import PermissionDenied, StaleVersion, ValidationFailed
from tests.factories import UserFactory, role
from tests.platform.automation.conftest import make_rule, rule_data


def refused(actor: Any, **overrides: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as failed:
        rule_create(actor=actor, data=rule_data(**overrides))
    assert not Rule.objects.exists()
    return failed.value.fields


def sms_template() -> MessageTemplate:
    return MessageTemplate.objects.create(
        name="生日短信", channel="sms", purpose="marketing", record_type="customers.customer", body_zh="生日快乐"
    )


def test_a_rule_is_created_off_and_runs_as_its_author(org: Any) -> None:
    rule = rule_create(actor=org.actor("admin"), data=rule_data(is_active=False))
    assert (rule.is_active, rule.activated_at, rule.run_as_id, rule.created_by_id) == (
        False,
        None,
        org.admin.pk,
        org.admin.pk,
    )
    assert rule.listens_to == ["customer.updated", "customer.created"]
    assert rule.version == 1 and rule.history.count() == 1


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        (
            {"name": "", "record_type": "rockets"},
            {"name": ["Enter a name."], "record_type": ["Choose a record type from the list."]},
        ),
        (
            {"trigger_kind": "event", "trigger_config": {"event": "customer.exploded"}},
            {"trigger.event": ["Choose an event from the list."]},
        ),
        (
            {"trigger_kind": "event", "trigger_config": {"event": "task.created"}},
            {"trigger.event": ["“task.created” is about another kind of record (customers.task), not Customer."]},
        ),
        (
            {"trigger_kind": "date", "trigger_config": {"field": "birthday", "offset_days": -1}},
            {"trigger.offset_days": ["Enter a number of days from 0 to 3650."]},
        ),
        (
            {"trigger_kind": "date", "trigger_config": {"field": "name", "offset_days": 1}},
            {"trigger.field": ["Choose a date field."]},
        ),
        (
            {"trigger_kind": "date", "trigger_config": {"field": "last_contact_at", "yearly": True}},
            {"trigger.yearly": ["Only date fields repeat every year."]},
        ),
        (
            {"trigger_kind": "schedule", "trigger_config": {"frequency": "weekly", "weekday": 1}},
            {"trigger.hour": ["Enter the hour the rule runs at, from 0 to 23."]},
        ),
        (
            {"trigger_kind": "schedule", "trigger_config": {"frequency": "monthly", "hour": 8, "day": 32}},
            {"trigger.day": ["Enter a day of the month from 1 to 31."]},
        ),
        ({"trigger_kind": "sometimes"}, {"trigger_kind": ["Choose what starts the rule from the list."]}),
        (
            {"trigger_config": {"field": "lifecycle_stage", "to": "sleepy"}},
            {"trigger.to": ["Choose one of: prospect, new, active, loyal, dormant, churned, won_back."]},
        ),
        (
            {"trigger_config": {"field": "email_consent"}},
            {"trigger.field": ["Choose a field whose changes are reported."]},
        ),
        ({"actions": []}, {"actions": ["Add at least one action."]}),
        ({"actions": [{"type": "launch_rocket"}]}, {"actions.0.type": ["Choose an action from the list."]}),
        (
            {
                "record_type": "customers.lead",
                "trigger_kind": "event",
                "trigger_config": {"event": "lead.created"},
                "actions": [{"type": "customers.return_to_pool", "params": {"reason": "x"}}],
            },
            {"actions.0.type": ["“Return the customer to the public pool” does not apply to Lead."]},
        ),
        (
            {"actions": [{"type": "notify", "params": {"recipient": "owner"}}]},
            {"actions.0.params.title": ["This field is required."]},
        ),
        (
            {"actions": [{"type": "notify", "params": {"recipient": "owner", "title": "x", "colour": "red"}}]},
            {"actions.0.params.colour": ["Unknown parameter."]},
        ),
        (
            {"actions": [{"type": "add_tag", "params": {"tag_id": 999999}}]},
            {"actions.0.params.tag_id": ["Choose a value from the list."]},
        ),
        (
            {"actions": [{"type": "customers.set_field", "params": {"field": "lifecycle_stage", "value": "sleepy"}}]},
            {"actions.0.params.value": ["Choose one of: prospect, new, active, loyal, dormant, churned, won_back."]},
        ),
        (
            {"actions": [{"type": "customers.set_field", "params": {"field": "lifecycle_stage"}}]},
            {"actions.0.params.value": ["This field cannot be left empty; choose a value."]},
        ),
        (
            {"actions": [{"type": "customers.set_field", "params": {"field": "name", "value": "x"}}]},
            {"actions.0.params.field": ["Choose a value from the list."]},
        ),
        (
            {"actions": [{"type": "customers.create_task", "params": {"title": "x", "due_in_days": 400}}]},
            {"actions.0.params.due_in_days": ["Enter a number from 0 to 365."]},
        ),
        (
            {"actions": [{"type": "call_webhook", "params": {"subscription_id": 999999}}]},
            {"actions.0.params.subscription_id": ["Choose a value from the list."]},
        ),
        (
            {"conditions": {"all": [{"field": "rating", "op": "eq", "value": "x"}]}},
            {"conditions.0.value": ["Enter a whole number."]},
        ),
    ],
)
def test_invalid_definitions_are_refused_at_their_place(
    org: Any, overrides: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    assert refused(org.actor("admin"), **overrides) == errors


def test_a_named_user_must_be_active(org: Any) -> None:
    gone = UserFactory(username="gone", team=org.north)
    gone.is_active = False
    gone.save()
    fields = refused(
        org.actor("admin"),
        actions=[{"type": "notify", "params": {"recipient": "user", "user_id": gone.pk, "title": "x"}}],
    )
    assert fields == {"actions.0.params.user_id": ["Choose an active user."]}


def test_a_template_of_another_channel_is_refused(org: Any) -> None:
    template = sms_template()
    fields = refused(
        org.actor("admin"),
        actions=[
            {"type": "send_message", "params": {"channel": "email", "template_id": template.pk, "purpose": "marketing"}}
        ],
    )
    assert fields == {"actions.0.params.template_id": ["This template is for SMS messages, not Email."]}
    marketing = refused(
        org.actor("admin"),
        actions=[
            {
                "type": "send_message",
                "params": {"channel": "sms", "template_id": template.pk, "purpose": "transactional"},
            }
        ],
    )
    assert marketing == {"actions.0.params.purpose": ["This is a marketing template: send it as a marketing message."]}


def test_unknown_merge_fields_are_refused(org: Any) -> None:
    fields = refused(
        org.actor("admin"), actions=[{"type": "notify", "params": {"recipient": "owner", "title": "Hi {nme}"}}]
    )
    assert fields == {
        "actions.0.params.title": ["Unknown merge field {nme}; use a field of the record such as {record} or {name}."]
    }


def test_every_problem_is_reported_at_once(org: Any) -> None:
    fields = refused(
        org.actor("admin"),
        trigger_config={"field": "lifecycle_stage", "to": "sleepy"},
        conditions={"all": [{"field": "nope", "op": "eq", "value": 1}]},
        actions=[{"type": "notify", "params": {"recipient": "nobody", "title": "x"}}],
    )
    assert set(fields) == {"trigger.to", "conditions.0.field", "actions.0.params.recipient"}


def test_an_author_may_only_add_actions_they_could_do(org: Any) -> None:
    automation_role = role("sales_manager")
    automation_role.permissions = [*automation_role.permissions, "automation.manage"]
    automation_role.save()
    manager = org.actor("manager_north")
    manager.user.refresh_from_db()
    fields = refused(manager, actions=[{"type": "call_webhook", "params": {"subscription_id": 1}}])
    assert fields == {
        "actions.0.type": [
            "You may not add “Call a webhook”: the rule runs with your rights, and you lack webhooks.manage."
        ]
    }


def test_reps_and_managers_may_not_manage_rules(org: Any) -> None:
    rule = make_rule(org.actor("admin"))
    for name in ("rep_north", "manager_north", "marketer"):
        actor = org.actor(name)
        with pytest.raises(PermissionDenied):
            rule_create(actor=actor, data=rule_data())
        with pytest.raises(PermissionDenied):
            rule_update(actor=actor, rule=rule, data={"name": "x"})
        with pytest.raises(PermissionDenied):
            rule_deactivate(actor=actor, rule=rule)
        with pytest.raises(PermissionDenied):
            rule_delete(actor=actor, rule=rule)


def test_an_update_is_checked_whole_and_takes_over_the_rule(org: Any) -> None:
    rule = make_rule(org.actor("admin"))
    other_admin = UserFactory(username="admin2", team=org.hq, role=role("administrator"))
    from tests.factories import actor

    with pytest.raises(ValidationFailed) as failed:
        rule_update(actor=actor(other_admin), rule=rule, data={"trigger_kind": "schedule"}, expected_version=1)
    assert failed.value.fields == {
        "trigger.frequency": ["Choose daily, weekly or monthly."],
        "trigger.hour": ["Enter the hour the rule runs at, from 0 to 23."],
    }
    updated = rule_update(
        actor=actor(other_admin),
        rule=rule,
        data={"trigger_kind": "schedule", "trigger_config": {"frequency": "daily", "hour": 7}},
        expected_version=1,
    )
    assert (updated.version, updated.run_as_id, updated.listens_to) == (2, other_admin.pk, [])
    with pytest.raises(StaleVersion):
        rule_update(actor=org.actor("admin"), rule=rule, data={"name": "x"}, expected_version=1)
    with pytest.raises(ValidationFailed) as unknown:
        rule_update(actor=org.actor("admin"), rule=rule, data={"colour": "red"})
    assert unknown.value.fields == {"colour": ["Unknown field."]}


def test_switching_on_checks_the_rule_again(org: Any) -> None:
    tag = Tag.objects.create(name="VIP", color="red")
    rule = make_rule(org.actor("admin"), is_active=False, actions=[{"type": "add_tag", "params": {"tag_id": tag.pk}}])
    tag.delete()
    with pytest.raises(ValidationFailed) as failed:
        rule_activate(actor=org.actor("admin"), rule=rule)
    assert failed.value.message == "This rule cannot be switched on until it is corrected."
    assert failed.value.fields == {"actions.0.params.tag_id": ["Choose a value from the list."]}
    assert not Rule.objects.get().is_active


def test_switching_on_and_off(org: Any) -> None:
    rule = make_rule(org.actor("admin"), is_active=False)
    on = rule_activate(actor=org.actor("admin"), rule=rule, expected_version=1)
    assert (on.is_active, on.version) == (True, 2) and on.activated_at is not None
    assert rule_activate(actor=org.actor("admin"), rule=rule).version == 2  # already on: nothing changes
    off = rule_deactivate(actor=org.actor("admin"), rule=rule)
    assert (off.is_active, off.activated_at, off.version) == (False, None, 3)
    rule_delete(actor=org.actor("admin"), rule=rule)
    assert not Rule.objects.exists()

"""Rules started by events: field changes (and creation), named events, conditions, loops, failures."""

from __future__ import annotations

from typing import Any

from guanxi.customers.models import Customer, Task
from guanxi.customers.services.customers import customer_update, customers_assign_owner
from guanxi.platform.automation.engine import handle_event
from guanxi.platform.automation.models import Rule, RuleRun
from guanxi.platform.events.registry import Event
from guanxi.platform.notifications.models import Notification
from tests.platform.automation.conftest import make_customer, make_rule, notify_owner


def _update(actor: Any, customer: Customer, capture: Any, **data: Any) -> Customer:
    with capture(execute=True):
        return customer_update(actor=actor, customer=customer, data=data)


def test_a_field_changing_to_the_value_runs_the_rule_and_logs_it(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    admin = org.actor("admin")
    rule = make_rule(admin, actions=[notify_owner("Win back {record} ({lifecycle_stage})")])
    customer = make_customer(
        admin, django_capture_on_commit_callbacks, owner_id=org.rep_north.pk, lifecycle_stage="active"
    )

    _update(admin, customer, django_capture_on_commit_callbacks, industry="零售")
    assert not RuleRun.objects.exists()
    _update(admin, customer, django_capture_on_commit_callbacks, lifecycle_stage="dormant")

    run = RuleRun.objects.get()
    assert (run.rule_id, run.record_type, run.record_id, run.status) == (
        rule.pk,
        "customers.customer",
        customer.pk,
        "succeeded",
    )
    assert run.trigger == "customer.updated" and run.occurrence_key.startswith("event:")
    assert run.outcomes == [
        {
            "type": "notify",
            "label": "Notify a user",
            "status": "succeeded",
            "summary": f"Notified {org.rep_north}: “Win back 王芳 (Dormant)”.",
            "data": {"recipient_id": org.rep_north.pk, "notification_id": Notification.objects.get().pk},
        }
    ]
    note = Notification.objects.get()
    assert (note.recipient_id, note.kind, note.title) == (
        org.rep_north.pk,
        "automation.rule",
        "Win back 王芳 (Dormant)",
    )
    assert note.url == f"/customers/{customer.pk}/"


def test_creation_counts_as_changing_to_the_initial_value(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    admin = org.actor("admin")
    make_rule(admin)
    make_customer(admin, django_capture_on_commit_callbacks, owner_id=org.rep_north.pk, lifecycle_stage="active")
    assert not RuleRun.objects.exists()
    created = make_customer(
        admin, django_capture_on_commit_callbacks, name="李雷", owner_id=org.rep_north.pk, lifecycle_stage="dormant"
    )
    run = RuleRun.objects.get()
    assert (run.record_id, run.trigger, run.status) == (created.pk, "customer.created", "succeeded")


def test_a_from_value_limits_the_rule_to_that_transition(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    admin = org.actor("admin")
    make_rule(admin, trigger_config={"field": "lifecycle_stage", "to": "dormant", "from": "loyal"})
    active = make_customer(admin, django_capture_on_commit_callbacks, lifecycle_stage="active")
    loyal = make_customer(admin, django_capture_on_commit_callbacks, name="李雷", lifecycle_stage="loyal")
    _update(admin, active, django_capture_on_commit_callbacks, lifecycle_stage="dormant")
    _update(admin, loyal, django_capture_on_commit_callbacks, lifecycle_stage="dormant")
    assert list(RuleRun.objects.values_list("record_id", flat=True)) == [loyal.pk]


def test_a_named_event_runs_the_rule(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    admin = org.actor("admin")
    make_rule(
        admin,
        trigger_kind="event",
        trigger_config={"event": "customer.owner_changed"},
        actions=[{"type": "customers.create_task", "params": {"title": "Welcome {record}", "due_in_days": 2}}],
    )
    customer = make_customer(admin, django_capture_on_commit_callbacks, owner_id=org.rep_north.pk)
    with django_capture_on_commit_callbacks(execute=True):
        customers_assign_owner(actor=admin, customer_ids=[customer.pk], owner_id=org.rep_south.pk)

    run = RuleRun.objects.get()
    assert (run.trigger, run.status) == ("customer.owner_changed", "succeeded")
    task = Task.objects.get()
    assert (task.title, task.assignee_id, task.customer_id) == ("Welcome 王芳", org.rep_south.pk, customer.pk)
    assert run.outcomes[0]["data"] == {"task_id": task.pk}


def test_conditions_not_met_log_a_skipped_run_with_the_actual_values(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    admin = org.actor("admin")
    make_rule(admin, conditions={"all": [{"field": "rating", "op": "gte", "value": 4}]})
    customer = make_customer(admin, django_capture_on_commit_callbacks, rating=2)
    _update(admin, customer, django_capture_on_commit_callbacks, lifecycle_stage="dormant")

    run = RuleRun.objects.get()
    assert (run.status, run.outcomes) == ("skipped", [])
    assert [(line["path"], line["result"], line["actual"], line["expected"]) for line in run.conditions] == [
        ("conditions", False, "", ""),
        ("conditions.0", False, "2", "4"),
    ]
    assert not Notification.objects.exists()


def test_a_rule_never_runs_again_on_the_change_its_own_action_made(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    admin = org.actor("admin")
    rule = make_rule(
        admin,
        name="Round up the rating",
        trigger_config={"field": "rating"},
        actions=[{"type": "customers.set_field", "params": {"field": "rating", "value": 5}}],
    )
    customer = make_customer(admin, django_capture_on_commit_callbacks, rating=1)
    assert RuleRun.objects.count() == 1  # creation with rating 1 counts as a change of the rating
    _update(admin, customer, django_capture_on_commit_callbacks, rating=3)

    assert Customer.objects.get(pk=customer.pk).rating == 5
    assert RuleRun.objects.filter(rule=rule).count() == 2
    assert set(RuleRun.objects.values_list("status", flat=True)) == {"succeeded"}


def test_rules_chain_into_each_other_but_not_back(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    admin = org.actor("admin")
    first = make_rule(
        admin,
        name="Dormant means one star",
        actions=[{"type": "customers.set_field", "params": {"field": "rating", "value": 1}}],
    )
    second = make_rule(
        admin,
        name="One star means dormant",
        trigger_config={"field": "rating", "to": 1},
        actions=[{"type": "customers.set_field", "params": {"field": "lifecycle_stage", "value": "dormant"}}],
    )
    customer = make_customer(admin, django_capture_on_commit_callbacks, rating=3)
    _update(admin, customer, django_capture_on_commit_callbacks, lifecycle_stage="dormant")

    assert list(RuleRun.objects.order_by("id").values_list("rule_id", flat=True)) == [first.pk, second.pk]
    assert Customer.objects.get(pk=customer.pk).rating == 1


def test_a_failing_action_fails_the_run_and_nothing_else(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    admin = org.actor("admin")
    failing = make_rule(
        admin,
        name="Task then manager",
        actions=[
            {"type": "customers.create_task", "params": {"title": "Call {record}"}},
            {"type": "notify", "params": {"recipient": "team_manager", "title": "Dormant: {record}"}},
            notify_owner(),
        ],
    )
    fine = make_rule(admin, name="Tell the owner")
    customer = make_customer(admin, django_capture_on_commit_callbacks, owner_id=org.rep_south.pk)
    _update(admin, customer, django_capture_on_commit_callbacks, lifecycle_stage="dormant")

    assert Customer.objects.get(pk=customer.pk).lifecycle_stage == "dormant"  # the write stands
    failed = RuleRun.objects.get(rule=failing)
    assert failed.status == "failed"
    assert failed.error == "The record's team has no manager to notify."
    assert [o["status"] for o in failed.outcomes] == ["rolled_back", "failed", "not_run"]
    assert not Task.objects.exists()  # the task of the failed run was rolled back
    assert RuleRun.objects.get(rule=fine).status == "succeeded"
    assert Notification.objects.get().title == "Check 王芳"


def test_a_redelivered_event_runs_each_rule_once(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    admin = org.actor("admin")
    make_rule(admin, trigger_kind="event", trigger_config={"event": "customer.updated"})
    customer = make_customer(admin, django_capture_on_commit_callbacks)
    event = Event(
        id="3f1c",
        name="customer.updated",
        record_type="customers.customer",
        payload={"record_id": customer.pk, "changes": {"industry": ["", "IT"]}},
        occurred_at="2025-01-01T00:00:00Z",
    )
    handle_event(event)
    handle_event(event)
    assert RuleRun.objects.count() == 1


def test_inactive_rules_and_rules_of_other_events_do_not_run(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    admin = org.actor("admin")
    make_rule(admin, is_active=False)
    make_rule(admin, trigger_kind="event", trigger_config={"event": "customer.deleted"})
    customer = make_customer(admin, django_capture_on_commit_callbacks)
    _update(admin, customer, django_capture_on_commit_callbacks, lifecycle_stage="dormant")
    assert not RuleRun.objects.exists()
    assert Rule.objects.count() == 2


def test_a_rule_whose_run_as_user_left_fails_with_the_reason(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    admin = org.actor("admin")
    make_rule(admin)
    customer = make_customer(admin, django_capture_on_commit_callbacks)
    org.admin.is_active = False
    org.admin.save()
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=org.actor("manager_north"), customer=customer, data={"lifecycle_stage": "dormant"})
    run = RuleRun.objects.get()
    assert run.status == "failed"
    assert run.error.startswith(f"The rule runs as {org.admin}, who is no longer active.")


def test_rules_of_one_event_run_in_order_and_see_each_others_changes(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    admin = org.actor("admin")
    created = {"trigger_kind": "event", "trigger_config": {"event": "customer.created"}}
    assign = make_rule(
        admin,
        name="Assign",
        **created,
        actions=[{"type": "customers.assign_owner", "params": {"method": "load", "team_id": org.south.pk}}],
    )
    unowned = make_rule(
        admin,
        name="Unowned",
        **created,
        conditions={"all": [{"field": "owner", "op": "is_empty"}]},
        actions=[notify_owner()],
    )
    with django_capture_on_commit_callbacks(execute=True):
        from guanxi.customers.services.customers import customer_create

        customer = customer_create(actor=admin, data={"name": "无主", "owner_id": ""})
    assert Customer.objects.get(pk=customer.pk).owner_id == org.rep_south.pk
    assert RuleRun.objects.get(rule=assign).status == "succeeded"
    assert RuleRun.objects.get(rule=unowned).status == "skipped"

"""Each action, run by a rule through the event subscriber: customers' (assign, set a field, create a task,
return to the pool) and the platform's (notify, tag, message, webhook, approval)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.models import Customer, Task
from guanxi.customers.services.customers import customer_update
from guanxi.customers.services.interactions import interaction_log
from guanxi.customers.services.leads import lead_create
from guanxi.platform.annotations.models import Tag, TaggedItem
from guanxi.platform.approvals.definitions import approval_process_save
from guanxi.platform.approvals.models import ApprovalRequest
from guanxi.platform.automation.models import Rule, RuleRun
from guanxi.platform.automation.values import installation_today
from guanxi.platform.channels.models import MessageTemplate, OutboundMessage
from guanxi.platform.customfields.models import CustomFieldDefinition
from guanxi.platform.notifications.models import Notification
from guanxi.platform.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.customers.pool_data import make_pool
from tests.factories import CustomerFactory
from tests.platform.automation.conftest import make_customer, make_rule

CREATED = {"trigger_kind": "event", "trigger_config": {"event": "customer.created"}}


def on_create(org: Any, *actions: dict[str, Any], **extra: Any) -> Rule:
    return make_rule(org.actor("admin"), **{**CREATED, **extra}, actions=list(actions))


def create(org: Any, capture: Any, **data: Any) -> Customer:
    customer = make_customer(org.actor("admin"), capture, **data)
    return Customer.objects.get(pk=customer.pk)


def last_run() -> RuleRun:
    return RuleRun.objects.order_by("-id").first()  # type: ignore[return-value]


# Assigning -------------------------------------------------------------------------------------------------


def test_round_robin_takes_turns_within_the_team(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    on_create(org, {"type": "customers.assign_owner", "params": {"method": "round_robin", "team_id": org.north.pk}})
    owners = [create(org, django_capture_on_commit_callbacks, name=f"客户{n}").owner_id for n in range(3)]
    members = sorted([org.manager_north.pk, org.rep_north.pk])
    assert owners == [members[0], members[1], members[0]]
    assert last_run().outcomes[0]["summary"] == f"Assigned to {Customer.objects.get(name='客户2').owner}."


def test_round_robin_counts_sub_teams_when_asked(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    on_create(
        org,
        {
            "type": "customers.assign_owner",
            "params": {"method": "round_robin", "team_id": org.north.pk, "include_sub_teams": True},
        },
    )
    owners = {create(org, django_capture_on_commit_callbacks, name=f"客户{n}").owner_id for n in range(3)}
    assert owners == {org.manager_north.pk, org.rep_north.pk, org.rep_north_sub.pk}


def test_by_load_goes_to_the_member_with_fewest_open_customers(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    for _ in range(2):
        CustomerFactory(owner=org.rep_north)
    CustomerFactory(owner=org.manager_north)
    for _ in range(3):
        CustomerFactory(owner=org.manager_north, lifecycle_stage="churned")  # churned ones are not open
    on_create(org, {"type": "customers.assign_owner", "params": {"method": "load", "team_id": org.north.pk}})
    customer = create(org, django_capture_on_commit_callbacks)
    assert customer.owner_id == org.manager_north.pk
    assert customer.team_id == org.north.pk


def test_a_team_without_active_members_fails_the_run(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    on_create(org, {"type": "customers.assign_owner", "params": {"method": "load", "team_id": org.north_sub.pk}})
    org.rep_north_sub.is_active = False
    org.rep_north_sub.save()
    customer = create(org, django_capture_on_commit_callbacks, owner_id=org.rep_south.pk)
    run = last_run()
    assert run.status == "failed"
    assert run.error == f"The team “{org.north_sub.name}” has no active member who can take customers."
    assert customer.owner_id == org.rep_south.pk


# Setting fields ------------------------------------------------------------------------------------------------


def test_set_field_writes_a_custom_field_and_a_relative_date(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    tiers = [
        {"value": "gold", "label_zh": "金", "label_en": "Gold"},
        {"value": "silver", "label_zh": "银", "label_en": "Silver"},
    ]
    CustomFieldDefinition.objects.create(
        target="customers.customer", key="tier", label_zh="等级", label_en="Tier", field_type="choice", choices=tiers
    )
    CustomFieldDefinition.objects.create(
        target="customers.customer", key="review_on", label_zh="复核", label_en="Review on", field_type="date"
    )
    on_create(
        org,
        {"type": "customers.set_field", "params": {"field": "custom_fields.tier", "value": "gold"}},
        {"type": "customers.set_field", "params": {"field": "custom_fields.review_on", "value": "today+7"}},
        {"type": "customers.set_field", "params": {"field": "industry", "value": "制造"}},
    )
    customer = create(org, django_capture_on_commit_callbacks, industry="零售")
    expected_day = (installation_today() + dt.timedelta(days=7)).isoformat()
    assert customer.custom_fields == {"tier": "gold", "review_on": expected_day}
    assert customer.industry == "制造"
    assert [o["summary"] for o in last_run().outcomes] == [
        "Tier set to Gold.",
        "Review on set to today +7.",
        "Industry set to 制造.",
    ]


def test_set_field_through_a_task_changes_its_customer(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    from guanxi.customers.services.tasks import task_create

    make_rule(
        org.actor("admin"),
        record_type="customers.task",
        trigger_kind="event",
        trigger_config={"event": "task.created"},
        actions=[{"type": "customers.set_field", "params": {"field": "lifecycle_stage", "value": "active"}}],
    )
    customer = CustomerFactory(owner=org.rep_north, lifecycle_stage="new")
    with django_capture_on_commit_callbacks(execute=True):
        task_create(actor=org.actor("rep_north"), data={"title": "Visit", "customer_id": customer.pk})
    assert Customer.objects.get(pk=customer.pk).lifecycle_stage == "active"


# Tasks --------------------------------------------------------------------------------------------------------------


def test_create_task_for_a_named_user_with_merge_fields(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    on_create(
        org,
        {
            "type": "customers.create_task",
            "params": {
                "title": "Welcome {record} ({lifecycle_stage})",
                "description": "Owner: {owner}",
                "due_in_days": 3,
                "assignee": "user",
                "user_id": org.manager_north.pk,
                "priority": "high",
            },
        },
    )
    before = timezone.now()
    customer = create(org, django_capture_on_commit_callbacks, owner_id=org.rep_north.pk, lifecycle_stage="new")
    task = Task.objects.get()
    assert (task.title, task.description, task.assignee_id, task.customer_id, task.priority) == (
        "Welcome 王芳 (New)",
        f"Owner: {org.rep_north}",
        org.manager_north.pk,
        customer.pk,
        "high",
    )
    assert before + dt.timedelta(days=3) <= task.due_at <= timezone.now() + dt.timedelta(days=3)


def test_an_interaction_rule_creates_a_follow_up_on_its_customer(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_rule(
        org.actor("admin"),
        record_type="customers.interaction",
        trigger_kind="event",
        trigger_config={"event": "interaction.logged"},
        conditions={"all": [{"field": "outcome", "op": "eq", "value": "interested"}]},
        actions=[{"type": "customers.create_task", "params": {"title": "Follow up {customer.name}"}}],
    )
    customer = CustomerFactory(owner=org.rep_north, name="韩梅梅")
    with django_capture_on_commit_callbacks(execute=True):
        interaction_log(
            actor=org.actor("rep_north"), customer=customer, data={"channel": "call", "outcome": "interested"}
        )
    task = Task.objects.get()
    assert (task.title, task.customer_id, task.assignee_id) == ("Follow up 韩梅梅", customer.pk, org.rep_north.pk)


def test_a_lead_rule_creates_a_task_on_the_lead(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    make_rule(
        org.actor("admin"),
        record_type="customers.lead",
        trigger_kind="event",
        trigger_config={"event": "lead.created"},
        actions=[{"type": "customers.create_task", "params": {"title": "Qualify {record}", "due_in_days": 1}}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_create(actor=org.actor("rep_north"), data={"name": "赵六", "phone": "13800000001"})
    task = Task.objects.get()
    assert (task.title, task.lead_id, task.customer_id, task.assignee_id) == (
        "Qualify 赵六",
        lead.pk,
        None,
        org.rep_north.pk,
    )


# The pool --------------------------------------------------------------------------------------------------------


def test_return_to_pool_moves_owned_customers_and_leaves_others(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pool = make_pool(name="公海", is_default=True)
    make_rule(
        org.actor("admin"),
        trigger_config={"field": "lifecycle_stage", "to": "churned"},
        actions=[{"type": "customers.return_to_pool", "params": {"reason": "{record} churned"}}],
    )
    customer = create(org, django_capture_on_commit_callbacks, owner_id=org.rep_north.pk)
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=org.actor("admin"), customer=customer, data={"lifecycle_stage": "churned"})
    moved = Customer.objects.get(pk=customer.pk)
    assert (moved.owner_id, moved.pool_id) == (None, pool.pk)
    assert last_run().outcomes[0]["summary"] == "Returned to the pool “公海”."
    assert moved.pool_events.get().reason == "王芳 churned"


# Notifications and tags -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "recipient"),
    [
        ({"recipient": "user", "user_id": "analyst"}, "analyst"),
        ({"recipient": "team_manager"}, "manager_north"),
        ({"recipient": "owner"}, "rep_north"),
    ],
)
def test_notify_reaches_the_chosen_user(
    org: Any, params: dict[str, Any], recipient: str, django_capture_on_commit_callbacks: Any
) -> None:
    if "user_id" in params:
        params = {**params, "user_id": getattr(org, params["user_id"]).pk}
    on_create(
        org, {"type": "notify", "params": {**params, "title": "New: {record}", "body": "Stage {lifecycle_stage}"}}
    )
    create(org, django_capture_on_commit_callbacks, owner_id=org.rep_north.pk)
    note = Notification.objects.get()
    assert (note.recipient_id, note.title, note.body) == (getattr(org, recipient).pk, "New: 王芳", "Stage Prospect")


def test_add_tag_tags_the_record_once(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    tag = Tag.objects.create(name="VIP", color="red")
    on_create(org, {"type": "add_tag", "params": {"tag_id": tag.pk}})
    customer = create(org, django_capture_on_commit_callbacks)
    assert TaggedItem.objects.filter(tag=tag, target="customers.customer", object_id=customer.pk).exists()
    assert last_run().outcomes[0]["summary"] == "Tag “VIP” added."


# Messages, webhooks, approvals -------------------------------------------------------------------------------------


def _email_template(**extra: Any) -> MessageTemplate:
    fields: dict[str, Any] = {
        "name": "Win back",
        "channel": "email",
        "purpose": "marketing",
        "record_type": "customers.customer",
        "subject_zh": "好久不见",
        "body_zh": "{{ name }}，您好",
        "subject_en": "We miss you",
        "body_en": "Hello {{ name }}",
    }
    fields.update(extra)
    return MessageTemplate.objects.create(**fields)


def test_send_message_queues_the_template_to_the_customer(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    template = _email_template()
    on_create(
        org,
        {"type": "send_message", "params": {"channel": "email", "template_id": template.pk, "purpose": "marketing"}},
    )
    customer = create(
        org,
        django_capture_on_commit_callbacks,
        owner_id=org.rep_north.pk,
        contact_points=[{"kind": "email", "value": "wang@example.com", "consent": "granted", "is_primary": True}],
    )
    message = OutboundMessage.objects.get()
    assert (message.record_type, message.record_id, message.template_id, message.to_address) == (
        "customers.customer",
        customer.pk,
        template.pk,
        "wang@example.com",
    )
    run = last_run()
    assert run.status == "succeeded" and run.outcomes[0]["data"]["message_id"] == message.pk


def test_send_message_without_an_address_fails_the_run(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    template = _email_template()
    on_create(
        org,
        {"type": "send_message", "params": {"channel": "email", "template_id": template.pk, "purpose": "marketing"}},
    )
    create(org, django_capture_on_commit_callbacks)
    run = last_run()
    assert run.status == "failed"
    assert "This record has no email address." in run.error
    assert not OutboundMessage.objects.exists()


def test_call_webhook_queues_a_signed_delivery_with_the_record(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    subscription = WebhookSubscription.objects.create(
        name="ERP", url="http://127.0.0.1:9/hook", event_types=[], secret_encrypted="x", secret_hint="x"
    )
    rule = on_create(
        org, {"type": "call_webhook", "params": {"subscription_id": subscription.pk, "event_name": "customer.welcome"}}
    )
    with django_capture_on_commit_callbacks(execute=False):
        customer = create(org, django_capture_on_commit_callbacks, owner_id=org.rep_north.pk, rating=3)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.subscription_id, delivery.event_name) == (subscription.pk, "customer.welcome")
    payload = delivery.payload
    assert payload["rule"] == {"id": rule.pk, "name": rule.name}
    assert (payload["record_type"], payload["record_id"]) == ("customers.customer", customer.pk)
    assert payload["record"]["name"] == "王芳" and payload["record"]["rating"] == 3
    assert payload["record"]["owner"] == org.rep_north.pk
    assert payload["event"]["name"] == "customer.created"


def test_start_approval_submits_the_customer_with_its_owner_as_requester(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    process = approval_process_save(
        actor=org.actor("admin"),
        process=None,
        name="大客户审批",
        approvable_type="customers.customer",
        steps=[{"approver_kind": "user", "user_id": org.admin.pk, "name": "总经理"}],
    )
    on_create(org, {"type": "start_approval", "params": {"process_id": process.pk, "comment": "New {record}"}})
    customer = create(org, django_capture_on_commit_callbacks, owner_id=org.rep_north.pk)
    request = ApprovalRequest.objects.get()
    assert (request.process_id, request.object_id, request.requester_id) == (process.pk, customer.pk, org.rep_north.pk)
    assert last_run().outcomes[0]["data"] == {"approval_request_id": request.pk}


def test_an_approval_rule_acts_on_the_approved_customer(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    from guanxi.platform.approvals.services import approval_decide, approval_start

    process = approval_process_save(
        actor=org.actor("admin"),
        process=None,
        name="激活审批",
        approvable_type="customers.customer",
        steps=[{"approver_kind": "user", "user_id": org.admin.pk, "name": "总经理"}],
    )
    make_rule(
        org.actor("admin"),
        record_type="approvals.request",
        trigger_kind="event",
        trigger_config={"event": "approval.approved"},
        conditions={"all": [{"field": "approvable_type", "op": "eq", "value": "customers.customer"}]},
        actions=[
            {"type": "customers.set_field", "params": {"field": "lifecycle_stage", "value": "active"}},
            {"type": "notify", "params": {"recipient": "owner", "title": "Approved: {record}"}},
        ],
    )
    customer = CustomerFactory(owner=org.rep_north, name="王芳", lifecycle_stage="new")
    with django_capture_on_commit_callbacks(execute=True):
        request = approval_start(
            actor=None,
            process_id=process.pk,
            approvable_type="customers.customer",
            object_id=customer.pk,
            requester_id=org.rep_north.pk,
        )
    with django_capture_on_commit_callbacks(execute=True):
        approval_decide(actor=org.actor("admin"), request_id=request.pk, decision="approve")
    assert Customer.objects.get(pk=customer.pk).lifecycle_stage == "active"
    run = last_run()
    assert (run.record_type, run.record_id, run.status) == ("approvals.request", request.pk, "succeeded")
    assert Notification.objects.filter(recipient=org.rep_north, title="Approved: 王芳").exists()

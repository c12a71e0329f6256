"""The customers app publishes its domain events after commit, with exact payloads (no ID numbers)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.services.customers import customer_create, customer_delete, customer_update
from guanxi.customers.services.handover import handover_run
from guanxi.customers.services.interactions import interaction_log
from guanxi.customers.services.leads import lead_convert, lead_create
from guanxi.customers.services.pool import customer_claim_from_pool, customer_return_to_pool, pool_auto_return
from guanxi.customers.services.tasks import task_complete, task_create, task_reopen, task_update, tasks_publish_overdue
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.events.registry import Event
from tests.customers.pool_data import make_pool, owned_customer, pool_customer
from tests.factories import CustomerFactory, TaskFactory


def names(events: list[Event]) -> list[str]:
    return [event.name for event in events]


def test_creating_a_customer_publishes_customer_created(
    org: Any, delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        customer = customer_create(actor=org.actor("rep_north"), data={"name": "王芳", "lifecycle_stage": "new"})

    assert names(delivered) == ["customer.created"]
    assert delivered[0].payload == {
        "record_id": customer.pk, "kind": "person", "name": "王芳", "owner_id": org.rep_north.pk,
        "team_id": org.north.pk, "lifecycle_stage": "new",
    }  # fmt: skip
    assert delivered[0].actor_id == org.rep_north.pk


def test_updating_publishes_each_changed_field_with_before_and_after(
    org: Any, delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    customer = CustomerFactory(owner=org.rep_north, lifecycle_stage="active", custom_fields={})
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(
            actor=org.actor("rep_north"),
            customer=customer,
            data={
                "lifecycle_stage": "dormant",
                "rating": 4,
                "birthday": "1990-05-01",
                "id_number": "11010519491231002X",
            },
        )

    assert names(delivered) == ["customer.updated"]
    changes = delivered[0].payload["changes"]
    assert changes["lifecycle_stage"] == ["active", "dormant"]
    assert changes["rating"] == [0, 4]
    assert changes["birthday"] == [None, "1990-05-01"]
    assert changes["id_number"][0] == "" and "0519491231" not in changes["id_number"][1]
    assert set(changes) == {"lifecycle_stage", "rating", "birthday", "id_number"}


def test_saving_without_a_change_publishes_nothing(
    org: Any, delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    customer = CustomerFactory(owner=org.rep_north, lifecycle_stage="active")
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=org.actor("rep_north"), customer=customer, data={"lifecycle_stage": "active"})

    assert delivered == []


def test_a_refused_update_publishes_nothing(
    org: Any, delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationFailed):
        customer_update(actor=org.actor("rep_north"), customer=customer, data={"rating": 9})

    assert delivered == []


def test_changing_the_owner_publishes_owner_changed(
    org: Any, delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=org.actor("admin"), customer=customer, data={"owner_id": org.rep_south.pk})

    assert names(delivered) == ["customer.updated", "customer.owner_changed"]
    assert delivered[0].payload["changes"]["owner_id"] == [org.rep_north.pk, org.rep_south.pk]
    assert delivered[0].payload["changes"]["team_id"] == [org.north.pk, org.south.pk]
    assert delivered[1].payload == {
        "record_id": customer.pk, "from_owner_id": org.rep_north.pk, "to_owner_id": org.rep_south.pk,
        "team_id": org.south.pk,
    }  # fmt: skip


def test_custom_field_changes_are_named_by_their_key(
    org: Any, delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    from guanxi.platform.customfields.models import CustomFieldDefinition

    CustomFieldDefinition.objects.create(
        target="customers.customer", key="vip_level", label_zh="会员等级", label_en="VIP level", field_type="text"
    )
    customer = CustomerFactory(owner=org.rep_north, custom_fields={})
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=org.actor("rep_north"), customer=customer, data={"custom_fields": {"vip_level": "金卡"}})

    assert delivered[0].payload["changes"] == {"custom_fields.vip_level": [None, "金卡"]}


def test_deleting_publishes_customer_deleted(
    org: Any, delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    customer = CustomerFactory(owner=org.rep_north, name="删除我")
    customer_id = customer.pk
    with django_capture_on_commit_callbacks(execute=True):
        customer_delete(actor=org.actor("admin"), customer=customer)

    assert [(event.name, event.payload) for event in delivered] == [
        ("customer.deleted", {"record_id": customer_id, "name": "删除我"})
    ]


def test_pool_claim_and_return_publish_pool_events_and_owner_changes(
    org: Any, delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    pool = make_pool(is_default=True)
    waiting = pool_customer(pool, team=org.north)
    with django_capture_on_commit_callbacks(execute=True):
        claimed = customer_claim_from_pool(actor=org.actor("rep_north"), customer_id=waiting.pk)
    with django_capture_on_commit_callbacks(execute=True):
        customer_return_to_pool(actor=org.actor("rep_north"), customer=claimed, reason="无意向")

    assert names(delivered) == [
        "pool.claimed", "customer.updated", "customer.owner_changed",
        "pool.returned", "customer.updated", "customer.owner_changed",
    ]  # fmt: skip
    assert delivered[0].payload == {"record_id": waiting.pk, "pool_id": pool.pk, "owner_id": org.rep_north.pk}
    assert delivered[3].payload == {
        "record_id": waiting.pk, "pool_id": pool.pk, "from_owner_id": org.rep_north.pk, "reason": "无意向",
        "automatic": False,
    }  # fmt: skip
    assert delivered[4].payload["changes"]["owner_id"] == [org.rep_north.pk, None]
    assert delivered[4].payload["changes"]["pool_id"] == [None, pool.pk]


def test_automatic_return_publishes_pool_returned_once_per_customer(
    org: Any, delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    pool = make_pool(is_default=True, return_after_days_without_follow_up=30)
    stale = owned_customer(org.rep_north, owned_days=60, last_contact_days=45)
    owned_customer(org.rep_north, owned_days=60, last_contact_days=5)
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert pool_auto_return(now) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert pool_auto_return(now) == 0

    returned = [event for event in delivered if event.name == "pool.returned"]
    assert [(event.record_id, event.payload["automatic"], event.actor_id) for event in returned] == [
        (stale.pk, True, None)
    ]
    assert returned[0].payload["pool_id"] == pool.pk


def test_handover_publishes_an_owner_change_per_customer(
    org: Any, delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    first, second = CustomerFactory(owner=org.rep_north), CustomerFactory(owner=org.rep_north)
    with django_capture_on_commit_callbacks(execute=True):
        handover_run(
            actor=org.actor("admin"), from_user_id=org.rep_north.pk, to_user_id=org.rep_south.pk, reason="调岗"
        )

    owner_changes = [event for event in delivered if event.name == "customer.owner_changed"]
    assert sorted(event.record_id for event in owner_changes) == sorted([first.pk, second.pk])
    assert {event.payload["to_owner_id"] for event in owner_changes} == {org.rep_south.pk}


def test_logging_an_interaction_publishes_interaction_logged(
    org: Any, delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    with django_capture_on_commit_callbacks(execute=True):
        interaction = interaction_log(actor=org.actor("rep_north"), customer=customer, data={"channel": "wechat"})

    logged = [event for event in delivered if event.name == "interaction.logged"]
    assert len(logged) == 1
    assert logged[0].payload == {
        "record_id": interaction.pk, "customer_id": customer.pk, "lead_id": None, "channel": "wechat",
        "direction": "outbound", "user_id": org.rep_north.pk, "occurred_at": interaction.occurred_at.isoformat(),
    }  # fmt: skip


def test_task_created_completed_and_overdue_once(
    org: Any, delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    due = timezone.now() + dt.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        task = task_create(
            actor=org.actor("rep_north"), data={"title": "回访", "customer_id": customer.pk, "due_at": due.isoformat()}
        )
    later = due + dt.timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks_publish_overdue(timezone.now()) == 0
        assert tasks_publish_overdue(later) == 1
        assert tasks_publish_overdue(later) == 0
    with django_capture_on_commit_callbacks(execute=True):
        task_complete(actor=org.actor("rep_north"), task=task)

    assert names(delivered) == ["task.created", "task.overdue", "task.completed"]
    assert delivered[1].payload == {
        "record_id": task.pk, "title": "回访", "assignee_id": org.rep_north.pk, "customer_id": customer.pk,
        "lead_id": None, "due_at": due.isoformat(),
    }  # fmt: skip


def test_a_task_is_overdue_again_after_its_due_time_moves_or_it_is_reopened(
    org: Any, delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    now = timezone.now()
    task = TaskFactory(assignee=org.rep_north, due_at=now - dt.timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks_publish_overdue(now) == 1
        task_update(actor=org.actor("rep_north"), task=task, data={"due_at": (now - dt.timedelta(hours=1)).isoformat()})
        assert tasks_publish_overdue(now) == 1
        task.refresh_from_db()
        task_complete(actor=org.actor("rep_north"), task=task)
        task.refresh_from_db()
        task_reopen(actor=org.actor("rep_north"), task=task)
        assert tasks_publish_overdue(now) == 1

    assert names(delivered).count("task.overdue") == 3


def test_lead_created_and_converted(org: Any, delivered: list[Event], django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_create(actor=org.actor("rep_north"), data={"name": "李娜", "phone": "13900001111"})
    with django_capture_on_commit_callbacks(execute=True):
        result = lead_convert(actor=org.actor("rep_north"), lead=lead)

    assert delivered[0].name == "lead.created"
    assert delivered[0].payload == {"record_id": lead.pk, "name": "李娜", "source": "", "owner_id": org.rep_north.pk}
    converted = [event for event in delivered if event.name == "lead.converted"]
    assert [event.payload for event in converted] == [
        {"record_id": lead.pk, "customer_id": result.customer.pk, "contact_id": result.contact.pk,
         "organisation_created": False}
    ]  # fmt: skip
    assert "customer.created" in names(delivered)

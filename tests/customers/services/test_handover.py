"""Handover (客户交接): everything a user owns moves to another user or to a pool in one action."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.customers.models import Customer, Handover, Lead, PoolEvent, Task
from guanxi.customers.models.choices import LeadStatus, PoolAction, TaskStatus
from guanxi.customers.selectors.pool import handover_list, handover_preview
from guanxi.customers.services.handover import handover_run
from guanxi.platform.core.errors import PermissionDenied, ValidationFailed
from guanxi.platform.notifications.models import Notification
from tests.customers.pool_data import make_pool
from tests.factories import CustomerFactory, LeadFactory, TaskFactory, UserFactory


@pytest.fixture
def leaving_rep(org: Any) -> dict[str, Any]:
    """rep_north owns 3 customers, 2 open tasks (+1 done), 2 open leads (+1 converted); others own one each."""
    rep = org.rep_north
    return {
        "customers": CustomerFactory.create_batch(3, owner=rep),
        "open_tasks": TaskFactory.create_batch(2, assignee=rep),
        "done_task": TaskFactory(assignee=rep, status=TaskStatus.DONE),
        "leads": LeadFactory.create_batch(2, owner=rep),
        "converted_lead": LeadFactory(owner=rep, status=LeadStatus.CONVERTED),
        "someone_elses": CustomerFactory(owner=org.rep_north_sub),
    }


def test_preview_counts_what_would_move(org: Any, leaving_rep: dict[str, Any]) -> None:
    counts = handover_preview(actor=org.actor("manager_north"), from_user_id=org.rep_north.pk)

    assert (counts.customers, counts.open_tasks, counts.leads) == (3, 2, 2)


def test_handover_to_a_user_moves_customers_tasks_and_leads(org: Any, leaving_rep: dict[str, Any]) -> None:
    handover = handover_run(
        actor=org.actor("manager_north"), from_user_id=org.rep_north.pk, to_user_id=org.rep_north_sub.pk,
        reason="离职交接",
    )  # fmt: skip

    assert (handover.customers_moved, handover.tasks_moved, handover.leads_moved) == (3, 2, 2)
    assert (handover.from_user_id, handover.to_user_id, handover.to_pool_id, handover.actor_id) == (
        org.rep_north.pk, org.rep_north_sub.pk, None, org.manager_north.pk,
    )  # fmt: skip
    moved_ids = [c.pk for c in leaving_rep["customers"]]
    moved = Customer.objects.filter(pk__in=moved_ids)
    assert set(moved.values_list("owner_id", "team_id")) == {(org.rep_north_sub.pk, org.north_sub.pk)}
    assert all(c.owner_since is not None and c.version == 2 for c in moved)
    assert not Customer.objects.filter(owner=org.rep_north).exists()
    assert set(
        Task.objects.filter(pk__in=[t.pk for t in leaving_rep["open_tasks"]]).values_list("assignee_id", flat=True)
    ) == {org.rep_north_sub.pk}
    assert Task.objects.get(pk=leaving_rep["done_task"].pk).assignee_id == org.rep_north.pk
    assert set(
        Lead.objects.filter(pk__in=[lead.pk for lead in leaving_rep["leads"]]).values_list("owner_id", flat=True)
    ) == {org.rep_north_sub.pk}
    assert Lead.objects.get(pk=leaving_rep["converted_lead"].pk).owner_id == org.rep_north.pk
    events = PoolEvent.objects.filter(action=PoolAction.HANDED_OVER)
    assert set(events.values_list("customer_id", flat=True)) == set(moved_ids)
    assert set(events.values_list("from_user_id", "to_user_id", "reason")) == {
        (org.rep_north.pk, org.rep_north_sub.pk, "离职交接")
    }
    history = Customer.history.filter(id=moved_ids[0]).latest("history_date")  # type: ignore[attr-defined]
    assert (history.owner_id, history.history_user_id) == (org.rep_north_sub.pk, org.manager_north.pk)
    assert history.history_change_reason == "Handover: 离职交接"


def test_handover_notifies_both_users(org: Any, leaving_rep: dict[str, Any]) -> None:
    handover_run(actor=org.actor("admin"), from_user_id=org.rep_north.pk, to_user_id=org.rep_south.pk, reason="调岗")

    to_note = Notification.objects.get(recipient=org.rep_south)
    from_note = Notification.objects.get(recipient=org.rep_north)
    assert to_note.title == f"You received 3 customers from {org.rep_north}"
    assert to_note.body == "3 customers, 2 open tasks and 2 leads are now yours. Reason: 调岗"
    assert from_note.title == f"Your customers were handed over to {org.rep_south}"
    assert to_note.kind == from_note.kind == "customers.handover"


def test_handover_to_the_pool_frees_the_customers_and_gives_the_work_to_the_actor(
    org: Any, leaving_rep: dict[str, Any]
) -> None:
    pool = make_pool(name="华北公海", team=org.north)

    handover = handover_run(
        actor=org.actor("manager_north"), from_user_id=org.rep_north.pk, to_pool_id=pool.pk, reason="离职"
    )

    assert (handover.customers_moved, handover.to_pool_id, handover.to_user_id) == (3, pool.pk, None)
    moved = Customer.objects.filter(pk__in=[c.pk for c in leaving_rep["customers"]])
    assert set(moved.values_list("owner_id", "pool_id", "team_id")) == {(None, pool.pk, org.north.pk)}
    assert all(c.pool_entered_at is not None and c.owner_since is None for c in moved)
    assert set(Task.objects.filter(status=TaskStatus.OPEN).values_list("assignee_id", flat=True)) == {
        org.manager_north.pk
    }
    assert set(PoolEvent.objects.values_list("action", "pool_id", "to_user_id")) == {
        (PoolAction.HANDED_OVER, pool.pk, None)
    }
    assert Notification.objects.filter(recipient=org.rep_north).count() == 1
    assert list(handover_list(actor=org.actor("manager_north"))) == [handover]
    assert list(handover_list(actor=org.actor("admin"))) == [handover]


def test_handover_to_the_same_user_is_refused(org: Any, leaving_rep: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as exc:
        handover_run(actor=org.actor("admin"), from_user_id=org.rep_north.pk, to_user_id=org.rep_north.pk, reason="x")

    assert exc.value.fields == {"to_user_id": ["Choose someone other than the user handing over."]}
    assert Customer.objects.filter(owner=org.rep_north).count() == 3
    assert not Handover.objects.exists()


def test_handover_to_an_inactive_user_is_refused(org: Any, leaving_rep: dict[str, Any]) -> None:
    gone = UserFactory(team=org.north, is_active=False)

    with pytest.raises(ValidationFailed) as exc:
        handover_run(actor=org.actor("admin"), from_user_id=org.rep_north.pk, to_user_id=gone.pk, reason="x")

    assert exc.value.fields == {"to_user_id": ["Choose an active user."]}
    assert not PoolEvent.objects.exists()


def test_handover_needs_exactly_one_target_and_a_reason(org: Any, leaving_rep: dict[str, Any]) -> None:
    pool = make_pool()
    with pytest.raises(ValidationFailed) as exc:
        handover_run(actor=org.actor("admin"), from_user_id=org.rep_north.pk, reason="")
    assert set(exc.value.fields) == {"to_user_id", "reason"}
    with pytest.raises(ValidationFailed) as exc:
        handover_run(
            actor=org.actor("admin"), from_user_id=org.rep_north.pk, to_user_id=org.rep_south.pk, to_pool_id=pool.pk,
            reason="x",
        )  # fmt: skip
    assert exc.value.fields == {"to_user_id": ["Choose either a user or a pool to hand over to."]}


def test_only_managers_of_the_users_team_may_hand_over(org: Any, leaving_rep: dict[str, Any]) -> None:
    south_customer = CustomerFactory(owner=org.rep_south)

    with pytest.raises(PermissionDenied):
        handover_run(actor=org.actor("rep_north_sub"), from_user_id=org.rep_north.pk, to_user_id=org.rep_north_sub.pk,
                     reason="x")  # fmt: skip
    with pytest.raises(PermissionDenied) as exc:
        handover_run(actor=org.actor("manager_north"), from_user_id=org.rep_south.pk, to_user_id=org.rep_north.pk,
                     reason="x")  # fmt: skip

    assert "teams you manage" in exc.value.message
    assert Customer.objects.get(pk=south_customer.pk).owner_id == org.rep_south.pk
    assert list(handover_list(actor=org.actor("manager_north"))) == []

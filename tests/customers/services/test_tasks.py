"""Tasks: create and edit rules, complete/reopen/cancel, next follow-up recomputation, due reminders."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.customers.models import Customer, Task
from guanxi.customers.models.choices import TaskStatus
from guanxi.customers.services.tasks import (
    task_cancel,
    task_complete,
    task_create,
    task_reopen,
    task_update,
    tasks_send_due_reminders,
)
from guanxi.platform.core.errors import NotFound, PermissionDenied, StaleVersion, ValidationFailed
from guanxi.platform.core.jobs import periodic_jobs, run_periodic_job
from guanxi.platform.notifications.models import Notification
from tests.factories import CustomerFactory, LeadFactory, TaskFactory, UserFactory


def _in(hours: float) -> dt.datetime:
    return (timezone.now() + dt.timedelta(hours=hours)).replace(microsecond=0)


def _next_follow_up(customer: Customer) -> dt.datetime | None:
    customer.refresh_from_db()
    return customer.next_follow_up_at


def test_a_task_defaults_to_the_actor_and_sets_the_customers_next_follow_up(org):
    customer = CustomerFactory(owner=org.rep_north)
    due = _in(5)
    task = task_create(
        actor=org.actor("rep_north"),
        data={
            "title": " 回访 ",
            "due_at": due.isoformat(),
            "remind_at": due - dt.timedelta(hours=1),
            "customer_id": customer.pk,
        },
    )
    task.refresh_from_db()
    assert (task.title, task.assignee, task.created_by, task.status) == ("回访", org.rep_north, org.rep_north, "open")
    assert (task.kind, task.priority, task.version) == ("follow_up", "normal", 1)
    assert task.remind_at == due - dt.timedelta(hours=1)
    assert _next_follow_up(customer) == due


def test_next_follow_up_is_the_earliest_open_due_time(org):
    rep = org.actor("rep_north")
    customer = CustomerFactory(owner=org.rep_north)
    first = task_create(actor=rep, data={"title": "a", "due_at": _in(1), "customer_id": customer.pk})
    second = task_create(actor=rep, data={"title": "b", "due_at": _in(3), "customer_id": customer.pk})
    task_create(actor=rep, data={"title": "no due time", "customer_id": customer.pk})
    assert _next_follow_up(customer) == first.due_at
    task_complete(actor=rep, task=first, result="Done by phone")
    assert _next_follow_up(customer) == second.due_at
    task_cancel(actor=rep, task=second)
    assert _next_follow_up(customer) is None
    task_reopen(actor=rep, task=first)
    assert _next_follow_up(customer) == first.due_at
    later = _in(10)  # once: a second call may fall in the next second
    task_update(actor=rep, task=first, data={"due_at": later})
    assert _next_follow_up(customer) == later


def test_moving_a_task_to_another_customer_recomputes_both(org):
    rep = org.actor("rep_north")
    one, two = CustomerFactory(owner=org.rep_north), CustomerFactory(owner=org.rep_north)
    task = task_create(actor=rep, data={"title": "a", "due_at": _in(2), "customer_id": one.pk})
    task_update(actor=rep, task=task, data={"customer_id": two.pk}, expected_version=1)
    assert _next_follow_up(one) is None
    assert _next_follow_up(two) == task.due_at


def test_next_follow_up_is_recomputed_with_one_update_whatever_the_number_of_tasks(org):
    rep = org.actor("rep_north")
    customer = CustomerFactory(owner=org.rep_north)
    TaskFactory.create_batch(30, assignee=org.rep_north, customer=customer, due_at=_in(4))
    soon = _in(1)  # once: a second call may fall in the next second
    with CaptureQueriesContext(connection) as queries:
        task_create(actor=rep, data={"title": "x", "due_at": soon, "customer_id": customer.pk})
    customer_updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "customers_customer"')]
    assert len(customer_updates) == 1
    assert "customers_task" in customer_updates[0]
    assert _next_follow_up(customer) == soon


def test_the_reminder_must_not_be_after_the_due_time(org):
    rep = org.actor("rep_north")
    due = _in(2)
    with pytest.raises(ValidationFailed) as caught:
        task_create(actor=rep, data={"title": "a", "due_at": due, "remind_at": due + dt.timedelta(minutes=1)})
    assert caught.value.fields == {"remind_at": ["Set the reminder at or before the due time."]}
    task = task_create(actor=rep, data={"title": "a", "due_at": due, "remind_at": due})
    with pytest.raises(ValidationFailed) as caught:
        task_update(actor=rep, task=task, data={"due_at": due - dt.timedelta(hours=1)})
    assert list(caught.value.fields) == ["remind_at"]


def test_every_bad_field_is_reported(org):
    with pytest.raises(ValidationFailed) as caught:
        task_create(
            actor=org.actor("rep_north"),
            data={
                "title": "",
                "kind": "party",
                "priority": "urgent",
                "due_at": "soon",
                "assignee_id": "x",
                "colour": 1,
            },
        )
    assert sorted(caught.value.fields) == ["assignee_id", "colour", "due_at", "kind", "priority", "title"]
    assert Task.objects.count() == 0


def test_the_assignee_must_be_active(org):
    gone = UserFactory(team=org.north, is_active=False)
    with pytest.raises(ValidationFailed) as caught:
        task_create(actor=org.actor("rep_north"), data={"title": "a", "assignee_id": gone.pk})
    assert caught.value.fields == {"assignee_id": ["Choose an active user."]}


def test_assigning_to_someone_else_needs_them_to_see_the_customer(org):
    customer = CustomerFactory(owner=org.rep_north)
    with pytest.raises(ValidationFailed) as caught:
        task_create(
            actor=org.actor("manager_north"),
            data={"title": "a", "customer_id": customer.pk, "assignee_id": org.rep_south.pk},
        )
    assert caught.value.fields == {"assignee_id": ["This user cannot see the customer or lead of this task."]}
    task = task_create(
        actor=org.actor("rep_north"),
        data={"title": "a", "customer_id": customer.pk, "assignee_id": org.manager_north.pk},
    )
    assert task.assignee == org.manager_north
    with pytest.raises(ValidationFailed):
        task_update(actor=org.actor("manager_north"), task=task, data={"assignee_id": org.rep_south.pk})
    # Without a customer or lead anyone active may be asked.
    assert (
        task_create(actor=org.actor("rep_north"), data={"title": "b", "assignee_id": org.rep_south.pk}).assignee
        == org.rep_south
    )


def test_a_customer_or_lead_the_actor_cannot_see_is_refused_like_a_missing_one(org):
    hidden = CustomerFactory(owner=org.rep_south)
    with pytest.raises(ValidationFailed) as caught:
        task_create(actor=org.actor("rep_north"), data={"title": "a", "customer_id": hidden.pk})
    with pytest.raises(ValidationFailed) as missing:
        task_create(actor=org.actor("rep_north"), data={"title": "a", "customer_id": 999999})
    assert caught.value.fields == missing.value.fields == {"customer_id": ["Choose a customer you can see."]}
    with pytest.raises(ValidationFailed) as caught:
        task_create(actor=org.actor("rep_north"), data={"title": "a", "lead_id": LeadFactory(owner=org.rep_south).pk})
    assert list(caught.value.fields) == ["lead_id"]


def test_a_task_is_about_a_customer_or_a_lead_not_both(org):
    with pytest.raises(ValidationFailed) as caught:
        task_create(
            actor=org.actor("rep_north"),
            data={
                "title": "a",
                "customer_id": CustomerFactory(owner=org.rep_north).pk,
                "lead_id": LeadFactory(owner=org.rep_north).pk,
            },
        )
    assert list(caught.value.fields) == ["lead_id"]


def test_updates_check_the_version_and_visibility(org):
    task = task_create(
        actor=org.actor("rep_north"), data={"title": "a", "customer_id": CustomerFactory(owner=org.rep_north).pk}
    )
    task_update(actor=org.actor("rep_north"), task=task, data={"title": "b"}, expected_version=1)
    with pytest.raises(StaleVersion):
        task_update(actor=org.actor("rep_north"), task=task, data={"title": "c"}, expected_version=1)
    for action in (
        lambda: task_update(actor=org.actor("rep_south"), task=task, data={"title": "x"}),
        lambda: task_complete(actor=org.actor("rep_south"), task=task),
        lambda: task_cancel(actor=org.actor("rep_south"), task=task),
        lambda: task_reopen(actor=org.actor("rep_south"), task=task),
    ):
        with pytest.raises(NotFound):
            action()
    with pytest.raises(PermissionDenied):
        task_complete(actor=org.actor("analyst"), task=task)
    task.refresh_from_db()
    assert (task.title, task.status, task.version) == ("b", "open", 2)


def test_the_assignee_may_complete_a_task_about_a_customer_they_cannot_see(org):
    customer = CustomerFactory(owner=org.rep_south)
    task = TaskFactory(assignee=org.rep_north, customer=customer)
    done = task_complete(actor=org.actor("rep_north"), task=task, result="ok")
    assert done.status == TaskStatus.DONE


def test_completing_records_who_when_and_the_result_and_is_idempotent(org):
    task = task_create(actor=org.actor("rep_north"), data={"title": "a"})
    done = task_complete(actor=org.actor("rep_north"), task=task, result="  Signed  ")
    assert (done.status, done.completed_by, done.result, done.version) == ("done", org.rep_north, "Signed", 2)
    assert done.completed_at is not None
    again = task_complete(actor=org.actor("rep_north"), task=task, result="other")
    assert (again.version, again.result) == (2, "Signed")
    reopened = task_reopen(actor=org.actor("rep_north"), task=task)
    assert (reopened.status, reopened.completed_at, reopened.completed_by) == ("open", None, None)


# Reminders ---------------------------------------------------------------------------------------


def test_due_reminders_are_sent_once_to_the_assignee(org):
    customer = CustomerFactory(owner=org.rep_north, name="王芳")
    due = task_create(
        actor=org.actor("rep_north"),
        data={"title": "Call back", "due_at": _in(1), "remind_at": _in(-0.1), "customer_id": customer.pk},
    )
    task_create(actor=org.actor("rep_north"), data={"title": "Later", "due_at": _in(5), "remind_at": _in(4)})
    finished = task_create(actor=org.actor("rep_north"), data={"title": "Done", "remind_at": _in(-1)})
    task_complete(actor=org.actor("rep_north"), task=finished)

    assert tasks_send_due_reminders() == 1
    assert tasks_send_due_reminders() == 0
    note = Notification.objects.get()
    assert (note.recipient, note.kind, note.title) == (org.rep_north, "task_reminder", "Reminder: Call back")
    assert "About 王芳." in note.body
    assert note.url == f"/customers/{customer.pk}/"
    due.refresh_from_db()
    assert due.reminded_at is not None


def test_a_moved_reminder_is_sent_again(org):
    task = task_create(actor=org.actor("rep_north"), data={"title": "a", "remind_at": _in(-1)})
    assert tasks_send_due_reminders() == 1
    task_update(actor=org.actor("rep_north"), task=task, data={"remind_at": _in(-0.5)})
    assert tasks_send_due_reminders() == 1
    assert Notification.objects.count() == 2


def test_reminders_wait_for_their_time(org):
    task_create(actor=org.actor("rep_north"), data={"title": "a", "remind_at": _in(2)})
    assert tasks_send_due_reminders() == 0
    assert tasks_send_due_reminders(now=timezone.now() + dt.timedelta(hours=3)) == 1
    assert tasks_send_due_reminders(now=timezone.now() + dt.timedelta(hours=3)) == 0


def test_the_reminder_job_is_registered_every_minute_and_idempotent(org):
    job = next(j for j in periodic_jobs() if j.name == "customers.task_reminders")
    assert (job.minute, job.hour, job.day) == ("*", "*", "*")
    task_create(actor=org.actor("rep_north"), data={"title": "a", "remind_at": _in(-1)})
    assert run_periodic_job("customers.task_reminders") == 1
    assert run_periodic_job("customers.task_reminders") == 0
    assert Notification.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_the_same_reminder_twice(org):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    for n in range(40):
        TaskFactory(assignee=org.rep_north, title=f"t{n}", remind_at=_in(-1))
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def worker() -> None:
        try:
            barrier.wait()
            counts.append(tasks_send_due_reminders())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 40
    assert Notification.objects.count() == 40

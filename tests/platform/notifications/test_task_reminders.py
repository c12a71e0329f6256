"""Task reminders (the customers app's periodic job `customers.task_reminders`) go through the
notification preferences: with email on, the assignee gets one email at the reminder time, never twice."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.utils import timezone

from guanxi.customers.services.tasks import REMINDER_KIND, task_create, tasks_send_due_reminders
from guanxi.platform.core.jobs import run_periodic_job
from guanxi.platform.notifications.models import DigestItem, Notification
from guanxi.platform.notifications.services import notification_preferences_save
from tests.factories import CustomerFactory
from tests.platform.notifications.conftest import with_email


def _in(hours: float) -> dt.datetime:
    return (timezone.now() + dt.timedelta(hours=hours)).replace(microsecond=0)


def test_a_reminder_with_email_on_is_emailed_once_at_its_time(org, django_capture_on_commit_callbacks):
    with_email(org.rep_north, language="zh-hans")
    notification_preferences_save(actor=org.actor("rep_north"), types=[{"kind": REMINDER_KIND, "email": True}])
    customer = CustomerFactory(owner=org.rep_north, name="王芳")
    task_create(
        actor=org.actor("rep_north"),
        data={"title": "回访", "due_at": _in(3), "remind_at": _in(2), "customer_id": customer.pk},
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks_send_due_reminders() == 0  # not yet
    assert mail.outbox == []
    at_reminder_time = timezone.now() + dt.timedelta(hours=2, minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks_send_due_reminders(now=at_reminder_time) == 1
        assert tasks_send_due_reminders(now=at_reminder_time + dt.timedelta(minutes=1)) == 0
    (message,) = mail.outbox
    note = Notification.objects.get()
    assert message.to == ["rep_north@example.com"] and message.subject == "提醒：回访"
    assert "王芳" in message.body
    assert f"http://127.0.0.1:8000/notifications/{note.pk}/open/" in message.body


def test_the_periodic_job_emails_a_due_reminder_once(org, django_capture_on_commit_callbacks):
    with_email(org.rep_north)
    notification_preferences_save(actor=org.actor("rep_north"), types=[{"kind": REMINDER_KIND, "email": True}])
    task_create(actor=org.actor("rep_north"), data={"title": "Call back", "remind_at": _in(-0.1)})
    with django_capture_on_commit_callbacks(execute=True):
        assert run_periodic_job("customers.task_reminders") == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert run_periodic_job("customers.task_reminders") == 0
    assert [m.subject for m in mail.outbox] == ["Reminder: Call back"]


def test_reminders_follow_the_in_app_and_digest_choices(org, django_capture_on_commit_callbacks):
    with_email(org.rep_north)
    notification_preferences_save(
        actor=org.actor("rep_north"), digest_enabled=True, types=[{"kind": REMINDER_KIND, "in_app": False}]
    )
    task_create(actor=org.actor("rep_north"), data={"title": "Quietly", "remind_at": _in(-0.1)})
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks_send_due_reminders() == 1
    assert Notification.objects.count() == 0 and mail.outbox == []  # email is off by default
    assert DigestItem.objects.get().title == "Reminder: Quietly"

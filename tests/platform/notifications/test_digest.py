"""The daily digest: sent once a day at the user's hour in their time zone, idempotent (two runs, two
workers, a retried email), listing what happened since the last digest."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings

from guanxi.platform.core.jobs import periodic_jobs, run_periodic_job
from guanxi.platform.notifications import emails
from guanxi.platform.notifications.models import Digest, DigestItem, NotificationSettings
from guanxi.platform.notifications.services import (
    digest_send,
    notification_preferences_save,
    notification_send,
    notifications_send_daily_digests,
)
from tests.factories import UserFactory
from tests.platform.notifications.conftest import PLAIN, QUIET, with_email

UTC = dt.UTC


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def _digest_user(user: Any, *, hour: int = 8, time_zone: str = "Asia/Shanghai", language: str = "en") -> Any:
    with_email(user, time_zone=time_zone, language=language)
    notification_preferences_save(actor=_actor(user), digest_enabled=True, digest_hour=hour)
    return user


def _actor(user: Any) -> Any:
    from guanxi.platform.core.actors import Actor

    return Actor(user=user)


def _notify(user: Any, title: str, kind: str = PLAIN, url: str = "") -> None:
    notification_send(recipient_id=user.pk, kind=kind, title=title, body=f"{title} body", url=url)


def test_two_runs_send_one_email(org, django_capture_on_commit_callbacks):
    _digest_user(org.rep_north)
    _notify(org.rep_north, "first", url="/customers/1/")
    _notify(org.rep_north, "second")
    now = _at(2026, 3, 2, 0, 30)  # 08:30 in Shanghai
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_send_daily_digests(now=now) == 1
        assert notifications_send_daily_digests(now=now) == 0
        assert notifications_send_daily_digests(now=now + dt.timedelta(hours=5)) == 0
    (message,) = mail.outbox
    assert message.to == ["rep_north@example.com"]
    assert message.subject == "Your daily digest: 2 notifications"
    assert "first" in message.body and "second body" in message.body
    assert message.body.index("first") < message.body.index("second")
    digest = Digest.objects.get()
    assert (digest.recipient, digest.local_date, digest.item_count) == (org.rep_north, dt.date(2026, 3, 2), 2)
    assert digest.sent_at is not None
    assert DigestItem.objects.filter(digest__isnull=True).count() == 0
    assert NotificationSettings.objects.get(user=org.rep_north).last_digest_on == dt.date(2026, 3, 2)


def test_the_next_day_lists_only_what_came_since(org, django_capture_on_commit_callbacks):
    _digest_user(org.rep_north)
    _notify(org.rep_north, "monday")
    with django_capture_on_commit_callbacks(execute=True):
        notifications_send_daily_digests(now=_at(2026, 3, 2, 0, 5))
    _notify(org.rep_north, "tuesday")
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_send_daily_digests(now=_at(2026, 3, 3, 0, 5)) == 1
    first, second = mail.outbox
    assert "monday" in first.body and "tuesday" not in first.body
    assert "tuesday" in second.body and "monday" not in second.body
    assert second.subject == "Your daily digest: 1 notification"


@pytest.mark.parametrize(
    ("time_zone", "hour", "before", "after"),
    [
        # 08:00 in Shanghai (UTC+8) is 00:00 UTC.
        ("Asia/Shanghai", 8, _at(2026, 3, 1, 23, 59), _at(2026, 3, 2, 0, 0)),
        # 18:00 in New York in March (EDT, UTC-4) is 22:00 UTC.
        ("America/New_York", 18, _at(2026, 3, 10, 21, 30), _at(2026, 3, 10, 22, 5)),
        # 01:00 at UTC+14 is 11:00 UTC the day before: the local date is a day ahead of UTC's.
        ("Pacific/Kiritimati", 1, _at(2026, 3, 1, 10, 30), _at(2026, 3, 1, 11, 0)),
    ],
)
def test_the_digest_waits_for_the_users_hour_in_their_time_zone(
    org, django_capture_on_commit_callbacks, time_zone, hour, before, after
):
    _digest_user(org.rep_north, hour=hour, time_zone=time_zone)
    _notify(org.rep_north, "something")
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_send_daily_digests(now=before) == 0
        assert mail.outbox == []
        assert notifications_send_daily_digests(now=after) == 1
    assert len(mail.outbox) == 1
    local_day = after.astimezone(__import__("zoneinfo").ZoneInfo(time_zone)).date()
    assert Digest.objects.get().local_date == local_day


def test_a_missed_hour_is_caught_up_later_the_same_day(org, django_capture_on_commit_callbacks):
    _digest_user(org.rep_north, hour=8)
    _notify(org.rep_north, "x")
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_send_daily_digests(now=_at(2026, 3, 2, 6, 5)) == 1  # 14:05 local
    assert len(mail.outbox) == 1


def test_a_day_without_notifications_sends_nothing_but_is_claimed(org, django_capture_on_commit_callbacks):
    _digest_user(org.rep_north)
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_send_daily_digests(now=_at(2026, 3, 2, 0, 5)) == 0
    assert mail.outbox == [] and Digest.objects.count() == 0
    assert NotificationSettings.objects.get(user=org.rep_north).last_digest_on == dt.date(2026, 3, 2)
    # What comes later that day waits for the next day's digest.
    _notify(org.rep_north, "late")
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_send_daily_digests(now=_at(2026, 3, 2, 9, 5)) == 0
        assert notifications_send_daily_digests(now=_at(2026, 3, 3, 0, 5)) == 1
    assert "late" in mail.outbox[0].body


def test_users_without_the_digest_an_address_or_activity_are_skipped(org, django_capture_on_commit_callbacks):
    _digest_user(org.rep_north)
    _notify(org.rep_north, "north")
    _digest_user(org.rep_south)
    _notify(org.rep_south, "south")
    org.rep_south.is_active = False
    org.rep_south.save(update_fields=["is_active"])
    with_email(org.manager_north)  # no digest
    _notify(org.manager_north, "manager")
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_send_daily_digests(now=_at(2026, 3, 2, 0, 5)) == 1
    assert [m.to for m in mail.outbox] == [["rep_north@example.com"]]


def test_switching_the_digest_off_drops_what_waited(org):
    _digest_user(org.rep_north)
    _notify(org.rep_north, "waiting")
    assert DigestItem.objects.count() == 1
    notification_preferences_save(actor=_actor(org.rep_north), digest_enabled=False)
    assert DigestItem.objects.count() == 0
    _notify(org.rep_north, "not kept")
    assert DigestItem.objects.count() == 0


def test_types_left_out_of_the_digest_are_not_listed(org, django_capture_on_commit_callbacks):
    _digest_user(org.rep_north)
    _notify(org.rep_north, "listed")
    _notify(org.rep_north, "quiet", kind=QUIET)
    with django_capture_on_commit_callbacks(execute=True):
        notifications_send_daily_digests(now=_at(2026, 3, 2, 0, 5))
    assert "listed" in mail.outbox[0].body and "quiet" not in mail.outbox[0].body


@override_settings(GUANXI_BASE_URL="https://crm.example.cn")
def test_the_digest_is_in_the_recipients_language_and_time_zone(org, django_capture_on_commit_callbacks):
    _digest_user(org.rep_north, language="zh-hans", time_zone="Asia/Shanghai")
    _notify(org.rep_north, "回访王芳", url="/customers/3/")
    with django_capture_on_commit_callbacks(execute=True):
        notifications_send_daily_digests(now=_at(2026, 3, 2, 0, 5))
    (message,) = mail.outbox
    assert "回访王芳" in message.body and "年" in message.body
    assert "通知: https://crm.example.cn/notifications/" in message.body
    assert "https://crm.example.cn/notifications/" in message.alternatives[0][0]
    assert 'lang="zh-hans"' in message.alternatives[0][0]


def test_a_long_day_lists_the_first_items_and_how_many_more(org, django_capture_on_commit_callbacks):
    _digest_user(org.rep_north)
    for n in range(emails.DIGEST_EMAIL_MAX_ITEMS + 3):
        _notify(org.rep_north, f"item {n:03d}")
    with django_capture_on_commit_callbacks(execute=True):
        notifications_send_daily_digests(now=_at(2026, 3, 2, 0, 5))
    (message,) = mail.outbox
    assert message.subject == f"Your daily digest: {emails.DIGEST_EMAIL_MAX_ITEMS + 3} notifications"
    assert "item 099" in message.body and "item 100" not in message.body and "And 3 more." in message.body


def test_a_failed_digest_email_is_tried_again_by_a_later_run_and_sent_once(org, django_capture_on_commit_callbacks):
    _digest_user(org.rep_north)
    _notify(org.rep_north, "x")
    now = _at(2026, 3, 2, 0, 5)
    with (
        mock.patch.object(emails, "_send", side_effect=OSError("smtp down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert notifications_send_daily_digests(now=now) == 1
    digest = Digest.objects.get()
    assert (digest.sent_at, digest.attempts, mail.outbox) == (None, 1, [])
    notifications_send_daily_digests(now=now + dt.timedelta(minutes=30))  # too soon to try again
    assert mail.outbox == []
    notifications_send_daily_digests(now=now + dt.timedelta(hours=2))
    assert len(mail.outbox) == 1
    assert digest_send(digest_id=digest.pk) is False
    notifications_send_daily_digests(now=now + dt.timedelta(hours=3))
    assert len(mail.outbox) == 1
    digest.refresh_from_db()
    assert digest.sent_at is not None and digest.attempts == 2


def test_a_digest_that_keeps_failing_is_given_up_after_three_tries(org, django_capture_on_commit_callbacks):
    _digest_user(org.rep_north)
    _notify(org.rep_north, "x")
    now = _at(2026, 3, 2, 0, 5)
    with mock.patch.object(emails, "_send", side_effect=OSError("smtp down")):
        with django_capture_on_commit_callbacks(execute=True):
            notifications_send_daily_digests(now=now)
        for hours in (2, 4, 6, 8):
            notifications_send_daily_digests(now=now + dt.timedelta(hours=hours))
    digest = Digest.objects.get()
    assert (digest.sent_at, digest.attempts) == (None, 3)
    assert digest_send(digest_id=digest.pk) is False and mail.outbox == []


def test_old_sent_digests_are_deleted(org, django_capture_on_commit_callbacks):
    _digest_user(org.rep_north)
    _notify(org.rep_north, "x")
    with django_capture_on_commit_callbacks(execute=True):
        notifications_send_daily_digests(now=_at(2026, 3, 2, 0, 5))
    notifications_send_daily_digests(now=_at(2026, 4, 10, 0, 5))
    assert (Digest.objects.count(), DigestItem.objects.count()) == (0, 0)


def test_the_digest_job_is_registered_hourly_and_idempotent(org, django_capture_on_commit_callbacks):
    job = next(j for j in periodic_jobs() if j.name == "notifications.daily_digest")
    assert (job.minute, job.hour, job.day) == ("5", "*", "*")
    _digest_user(org.rep_north, hour=0, time_zone="UTC")
    _notify(org.rep_north, "x")
    with django_capture_on_commit_callbacks(execute=True):
        assert run_periodic_job("notifications.daily_digest") == 1
        assert run_periodic_job("notifications.daily_digest") == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_the_same_digest_twice(org):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    users = [_digest_user(UserFactory(username=f"digest{n}")) for n in range(12)]
    for user in users:
        _notify(user, f"for {user.username}")
    barrier = threading.Barrier(2)
    counts: list[int] = []
    now = _at(2026, 3, 2, 0, 5)

    def worker() -> None:
        try:
            barrier.wait()
            counts.append(notifications_send_daily_digests(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 12
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)
    assert Digest.objects.count() == 12

"""notification_send honours each user's preferences: the in-app row, the email (after commit, in the
recipient's language, with absolute links) and the daily digest; inactive users get nothing."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings

from guanxi.platform.notifications import registry
from guanxi.platform.notifications.models import DigestItem, Notification, NotificationPreference
from guanxi.platform.notifications.services import notification_preferences_save, notification_send
from tests.platform.notifications.conftest import EMAILED, PLAIN, QUIET, with_email


def _send(user: Any, kind: str = PLAIN, **extra: Any) -> Notification | None:
    return notification_send(recipient_id=user.pk, kind=kind, title=extra.pop("title", "Hello"), **extra)


def test_defaults_of_the_type_apply_when_the_user_chose_nothing(org, django_capture_on_commit_callbacks):
    with_email(org.rep_north)
    with django_capture_on_commit_callbacks(execute=True):
        plain = _send(org.rep_north, PLAIN)
        emailed = _send(org.rep_north, EMAILED, title="Mailed")
        quiet = _send(org.rep_north, QUIET)
    assert plain is not None and emailed is not None and quiet is None
    assert list(Notification.objects.values_list("kind", flat=True).order_by("id")) == [PLAIN, EMAILED]
    assert [m.subject for m in mail.outbox] == ["Mailed"]
    assert mail.outbox[0].to == ["rep_north@example.com"]


def test_a_users_choice_overrides_the_defaults(org, django_capture_on_commit_callbacks):
    with_email(org.rep_north)
    notification_preferences_save(
        actor=org.actor("rep_north"),
        types=[{"kind": PLAIN, "in_app": False, "email": True}, {"kind": EMAILED, "email": False}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert _send(org.rep_north, PLAIN, title="Only by mail") is None
        assert _send(org.rep_north, EMAILED) is not None
    assert Notification.objects.get().kind == EMAILED
    assert [m.subject for m in mail.outbox] == ["Only by mail"]
    # Another user keeps the defaults.
    with django_capture_on_commit_callbacks(execute=True):
        assert _send(org.rep_south, PLAIN) is not None


def test_the_email_waits_for_the_commit(org, django_capture_on_commit_callbacks):
    with_email(org.rep_north)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _send(org.rep_north, EMAILED)
    assert mail.outbox == [] and len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1


@override_settings(GUANXI_BASE_URL="https://crm.example.cn")
def test_the_email_is_in_the_recipients_language_with_absolute_links(org, django_capture_on_commit_callbacks):
    with_email(org.rep_north, language="zh-hans", time_zone="Asia/Shanghai")
    with_email(org.rep_south, language="en")
    with django_capture_on_commit_callbacks(execute=True):
        zh = _send(org.rep_north, EMAILED, title="提醒：回访", body="明天上午", url="/customers/7/")
        _send(org.rep_south, EMAILED, title="Reminder", url="https://evil.example/phish")
    assert zh is not None
    chinese, english = sorted(mail.outbox, key=lambda m: m.to[0])
    assert chinese.subject == "提醒：回访"
    assert "年" in chinese.body and "通知: https://crm.example.cn/notifications/" in chinese.body
    assert f"https://crm.example.cn/notifications/{zh.pk}/open/" in chinese.body
    html, mime = chinese.alternatives[0]
    assert mime == "text/html" and 'lang="zh-hans"' in html and "明天上午" in html
    assert "Notifications: https://crm.example.cn/notifications/" in english.body and "年" not in english.body
    assert "https://crm.example.cn/notifications/settings/" in english.body
    assert 'lang="en"' in english.alternatives[0][0]


def test_without_an_in_app_row_the_email_links_to_local_paths_only(org, django_capture_on_commit_callbacks):
    with_email(org.rep_north)
    notification_preferences_save(actor=org.actor("rep_north"), types=[{"kind": EMAILED, "in_app": False}])
    with django_capture_on_commit_callbacks(execute=True):
        _send(org.rep_north, EMAILED, title="local", url="/customers/7/")
        _send(org.rep_north, EMAILED, title="external", url="https://evil.example/")
    local, external = mail.outbox
    assert "http://127.0.0.1:8000/customers/7/" in local.body
    assert "evil.example" not in external.body and "Open it in guanxi" not in external.body


def test_no_email_without_an_address(org, django_capture_on_commit_callbacks):
    with_email(org.rep_north, email="")
    with django_capture_on_commit_callbacks(execute=True):
        assert _send(org.rep_north, EMAILED) is not None
    assert mail.outbox == []


def test_inactive_users_get_nothing(org, django_capture_on_commit_callbacks):
    with_email(org.rep_north)
    notification_preferences_save(actor=org.actor("rep_north"), digest_enabled=True)
    org.rep_north.is_active = False
    org.rep_north.save(update_fields=["is_active"])
    with django_capture_on_commit_callbacks(execute=True):
        assert _send(org.rep_north, EMAILED) is None
        assert notification_send(recipient_id=987654321, kind=PLAIN, title="nobody") is None
    assert (Notification.objects.count(), DigestItem.objects.count(), len(mail.outbox)) == (0, 0, 0)


def test_digest_items_are_kept_only_with_the_digest_on_and_an_address(org):
    with_email(org.rep_north)
    _send(org.rep_north, PLAIN, title="before")
    notification_preferences_save(actor=org.actor("rep_north"), digest_enabled=True)
    note = _send(org.rep_north, PLAIN, title="kept", url="/tasks/1/")
    _send(org.rep_north, QUIET, title="not in the digest by default")
    with_email(org.rep_south, email="")
    notification_preferences_save(actor=org.actor("rep_south"), digest_enabled=True)
    _send(org.rep_south, PLAIN)
    item = DigestItem.objects.get()
    assert (item.recipient, item.title, item.url, item.notification, item.digest) == (
        org.rep_north,
        "kept",
        "/tasks/1/",
        note,
        None,
    )


def test_a_type_only_in_the_digest_still_reaches_it(org):
    with_email(org.rep_north)
    notification_preferences_save(
        actor=org.actor("rep_north"), digest_enabled=True, types=[{"kind": PLAIN, "in_app": False, "digest": True}]
    )
    assert _send(org.rep_north, PLAIN, title="digest only") is None
    item = DigestItem.objects.get()
    assert (item.title, item.notification) == ("digest only", None)


def test_unknown_kinds_use_the_defaults_and_are_logged_once(org, caplog):
    registry._warned_unknown.discard("tests.unregistered")
    with caplog.at_level(logging.WARNING, logger="guanxi.platform.notifications.registry"):
        first = _send(org.rep_north, "tests.unregistered")
        _send(org.rep_north, "tests.unregistered")
    assert first is not None and first.kind == "tests.unregistered"
    warnings = [r for r in caplog.records if "tests.unregistered" in r.getMessage()]
    assert len(warnings) == 1


def test_long_values_are_cut_to_fit(org):
    note = _send(org.rep_north, PLAIN, title="t" * 250, url="/" + "u" * 400)
    assert note is not None and len(note.title) == 200 and len(note.url) == 300


def test_preference_rows_are_per_user_and_kind(org):
    notification_preferences_save(actor=org.actor("rep_north"), types=[{"kind": PLAIN, "email": True}])
    notification_preferences_save(actor=org.actor("rep_north"), types=[{"kind": PLAIN, "digest": False}])
    row = NotificationPreference.objects.get()
    assert (row.user, row.kind, row.in_app, row.email, row.digest, row.version) == (
        org.rep_north,
        PLAIN,
        True,
        True,
        False,
        2,
    )


@pytest.mark.parametrize("code", ["", " padded", "x" * 51])
def test_registering_a_bad_code_is_refused(code):
    with pytest.raises(ValueError):
        registry.register_notification_type(code, "bad")

"""Notification preferences: defaults from the registered types, a user's overrides, the daily digest
switch and hour; the settings page and GET/PUT /api/v1/notification-preferences; bad input refused whole."""

from __future__ import annotations

import pytest
from django.urls import reverse

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.notifications.models import NotificationPreference, NotificationSettings
from guanxi.platform.notifications.selectors import notification_preferences
from guanxi.platform.notifications.services import notification_preferences_save
from tests.platform.notifications.conftest import EMAILED, PLAIN, QUIET, signed_in, with_email

API = "/api/v1/notification-preferences"


def _choices(prefs) -> dict[str, tuple[bool, bool, bool]]:
    return {c.kind: (c.in_app, c.email, c.digest) for c in prefs.types if c.kind.startswith("tests.")}


def test_without_rows_every_type_has_its_defaults(org):
    prefs = notification_preferences(actor=org.actor("rep_north"))
    assert _choices(prefs) == {
        PLAIN: (True, False, True),
        EMAILED: (True, True, True),
        QUIET: (False, False, False),
    }
    assert (prefs.digest_enabled, prefs.digest_hour, prefs.has_email) == (False, 8, False)
    assert not any(c.customised for c in prefs.types)


def test_the_customers_types_are_registered(org):
    kinds = {c.kind for c in notification_preferences(actor=org.actor("rep_north")).types}
    assert {"task_reminder", "customers.handover", "customers.pool_auto_return"} <= kinds


def test_saving_changes_only_what_was_sent(org):
    prefs = notification_preferences_save(
        actor=org.actor("rep_north"),
        types=[{"kind": PLAIN, "email": True}, {"kind": QUIET, "in_app": True}],
        digest_enabled=True,
        digest_hour=18,
    )
    assert _choices(prefs) == {
        PLAIN: (True, True, True),
        EMAILED: (True, True, True),
        QUIET: (True, False, False),
    }
    assert (prefs.digest_enabled, prefs.digest_hour) == (True, 18)
    assert {c.kind for c in prefs.types if c.customised} == {PLAIN, QUIET}
    prefs = notification_preferences_save(actor=org.actor("rep_north"), digest_hour=7)
    assert (prefs.digest_enabled, prefs.digest_hour) == (True, 7)
    assert _choices(notification_preferences(actor=org.actor("rep_south")))[PLAIN] == (True, False, True)


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        (
            {"types": [{"kind": "rockets", "email": True}]},
            {"types[0].kind": ["Unknown notification type “rockets”. Choose one of: "]},
        ),
        ({"types": [{"kind": PLAIN, "email": "yes"}]}, {"types[0].email": ["Enter true or false."]}),
        ({"digest_hour": 24}, {"digest.hour": ["Choose an hour from 0 to 23."]}),
        ({"digest_hour": -1}, {"digest.hour": ["Choose an hour from 0 to 23."]}),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(org, kwargs, fields):
    with pytest.raises(ValidationFailed) as failed:
        notification_preferences_save(
            actor=org.actor("rep_north"), digest_enabled=True, **{"types": [{"kind": PLAIN, "email": True}], **kwargs}
        )
    assert set(failed.value.fields) == set(fields)
    for name, (message,) in fields.items():
        assert failed.value.fields[name][0].startswith(message)
    assert NotificationPreference.objects.count() == 0 and NotificationSettings.objects.count() == 0


def test_a_type_listed_twice_takes_the_later_entry(org):
    prefs = notification_preferences_save(
        actor=org.actor("rep_north"),
        types=[{"kind": PLAIN, "email": True, "digest": False}, {"kind": PLAIN, "email": False}],
    )
    assert _choices(prefs)[PLAIN] == (True, False, False)


def test_the_settings_page_shows_and_saves_the_choices(org):
    client = signed_in(org.rep_north)
    page = client.get(reverse("notifications:preferences"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Plain things" in html and "Anything plain." in html and "Task reminders" in html
    assert 'name="email:tests.emailed" checked' in html and 'name="email:tests.plain" >' in html
    assert "Your account has no email address" in html
    response = client.post(
        reverse("notifications:preferences"),
        {"in_app:tests.plain": "on", "email:tests.plain": "on", "digest_enabled": "on", "digest_hour": "20"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("notifications:preferences")
    prefs = notification_preferences(actor=org.actor("rep_north"))
    # Every type is saved as posted: unticked boxes are off.
    assert _choices(prefs) == {
        PLAIN: (True, True, False),
        EMAILED: (False, False, False),
        QUIET: (False, False, False),
    }
    assert (prefs.digest_enabled, prefs.digest_hour) == (True, 20)


def test_the_settings_page_refuses_a_bad_hour_and_keeps_everything(org):
    client = signed_in(org.rep_north)
    response = client.post(reverse("notifications:preferences"), {"digest_enabled": "on", "digest_hour": "25"})
    assert response.status_code == 422
    assert "Choose an hour from 0 to 23." in response.content.decode()
    assert NotificationPreference.objects.count() == 0 and NotificationSettings.objects.count() == 0


def test_the_settings_page_renders_in_chinese(org):
    with_email(org.rep_north, language="zh-hans")
    html = signed_in(org.rep_north).get(reverse("notifications:preferences")).content.decode()
    assert '<html lang="zh-hans">' in html and "保存" in html


def test_the_preferences_page_links_to_the_notification_settings(org):
    html = signed_in(org.rep_north).get(reverse("ui:preferences")).content.decode()
    assert reverse("notifications:preferences") in html


def test_api_reads_the_preferences(org):
    with_email(org.rep_north, time_zone="Asia/Tokyo")
    body = signed_in(org.rep_north).get(API).json()
    assert body["has_email"] is True
    assert body["digest"] == {"enabled": False, "hour": 8, "time_zone": "Asia/Tokyo"}
    plain = next(t for t in body["types"] if t["kind"] == PLAIN)
    assert plain == {
        "kind": PLAIN,
        "label": "Plain things",
        "description": "Anything plain.",
        "in_app": True,
        "email": False,
        "digest": True,
        "default_in_app": True,
        "default_email": False,
        "default_digest": True,
        "customised": False,
    }


def test_api_changes_the_preferences(org):
    client = signed_in(org.rep_north)
    response = client.put(
        API,
        {"digest": {"enabled": True, "hour": 6}, "types": [{"kind": PLAIN, "in_app": False, "email": True}]},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["digest"]["enabled"] is True and body["digest"]["hour"] == 6
    plain = next(t for t in body["types"] if t["kind"] == PLAIN)
    assert (plain["in_app"], plain["email"], plain["digest"], plain["customised"]) == (False, True, True, True)
    assert client.get(API).json() == body


def test_api_refuses_an_unknown_type_with_a_clear_message_and_writes_nothing(org):
    response = signed_in(org.rep_north).put(
        API,
        {"digest": {"enabled": True}, "types": [{"kind": PLAIN, "email": True}, {"kind": "rockets", "email": True}]},
        content_type="application/json",
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    (message,) = error["fields"]["types[1].kind"]
    assert message.startswith("Unknown notification type “rockets”. Choose one of: ") and PLAIN in message
    assert NotificationPreference.objects.count() == 0 and NotificationSettings.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"digest": {"hour": 24}}, "digest.hour"),
        ({"types": [{"kind": PLAIN, "email": "sometimes"}]}, "types[0].email"),
        ({"types": [{"kind": PLAIN, "colour": "red"}]}, "types[0].colour"),
    ],
)
def test_api_refuses_bad_values(org, payload, field):
    response = signed_in(org.rep_north).put(API, payload, content_type="application/json")
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]

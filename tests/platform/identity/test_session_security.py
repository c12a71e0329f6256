"""Sessions: idle and absolute timeouts, background polls that do not count as activity, a new session
key at sign-in, and cookie flags."""

from __future__ import annotations

import time
from typing import Any

from django.test import Client, override_settings
from django.urls import reverse

from guanxi.platform.identity.session_security import LAST_ACTIVITY_KEY, SIGNED_IN_AT_KEY

IDLE = 8 * 3600
IDLE_MESSAGE = "You were signed out after a period without activity. Please sign in again."


def _signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _set(client: Client, **values: int) -> None:
    session = client.session
    for key, value in values.items():
        session[key] = value
    session.save()


def test_signing_in_starts_both_clocks(org: Any) -> None:
    client = _signed_in(org.rep_south)
    now = int(time.time())
    assert now - 5 <= client.session[LAST_ACTIVITY_KEY] <= now
    assert client.session[SIGNED_IN_AT_KEY] == client.session[LAST_ACTIVITY_KEY]


def test_a_session_idle_for_longer_than_the_limit_is_signed_out(org: Any) -> None:
    client = _signed_in(org.rep_south)
    _set(client, **{LAST_ACTIVITY_KEY: int(time.time()) - IDLE - 1})
    response = client.get("/customers/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("ui:login"))
    assert "_auth_user_id" not in client.session
    assert IDLE_MESSAGE in client.get(reverse("ui:login")).content.decode()


def test_activity_within_the_limit_keeps_the_session_and_moves_the_clock(org: Any) -> None:
    client = _signed_in(org.rep_south)
    _set(client, **{LAST_ACTIVITY_KEY: int(time.time()) - IDLE + 120})
    assert client.get("/").status_code == 200
    assert client.session[LAST_ACTIVITY_KEY] >= int(time.time()) - 5


def test_background_polls_do_not_count_as_activity(org: Any) -> None:
    client = _signed_in(org.rep_south)
    earlier = int(time.time()) - 600
    _set(client, **{LAST_ACTIVITY_KEY: earlier})
    response = client.get(reverse("notifications:badge"), HTTP_HX_REQUEST="true", HTTP_X_GUANXI_BACKGROUND="1")
    assert response.status_code == 200
    assert client.session[LAST_ACTIVITY_KEY] == earlier


def test_an_htmx_request_on_an_expired_session_reloads_the_login_page(org: Any) -> None:
    client = _signed_in(org.rep_south)
    _set(client, **{LAST_ACTIVITY_KEY: int(time.time()) - IDLE - 1})
    response = client.get("/customers/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("ui:login")


@override_settings(GUANXI_SESSION_MAX_SECONDS=3600)
def test_a_session_ends_after_the_absolute_limit_however_active(org: Any) -> None:
    client = _signed_in(org.rep_south)
    _set(client, **{SIGNED_IN_AT_KEY: int(time.time()) - 3601})
    assert client.get("/").status_code == 302
    assert "Your session has ended; please sign in again." in client.get(reverse("ui:login")).content.decode()


@override_settings(GUANXI_SESSION_IDLE_SECONDS=60)
def test_the_idle_limit_comes_from_the_setting(org: Any) -> None:
    client = _signed_in(org.rep_south)
    _set(client, **{LAST_ACTIVITY_KEY: int(time.time()) - 61})
    assert client.get("/").status_code == 302


def test_signing_in_gives_a_new_session_key(org: Any) -> None:
    client = Client()
    session = client.session  # an anonymous session, as an attacker could plant it
    session["language_hint"] = "en"
    session.save()
    planted = session.session_key
    response = client.post(reverse("ui:login"), {"username": "rep_south", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert client.cookies["sessionid"].value != planted
    assert client.session.session_key != planted


def test_session_and_csrf_cookies_are_http_only_and_same_site(org: Any) -> None:
    client = Client()
    client.get(reverse("ui:login"))
    response = client.post(reverse("ui:login"), {"username": "rep_south", "password": "correct-horse-battery"})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == IDLE
    csrf = client.get(reverse("ui:login")).cookies.get("csrftoken") or client.cookies["csrftoken"]
    assert csrf["samesite"] == "Lax"

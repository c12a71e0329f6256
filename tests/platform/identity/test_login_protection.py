"""Login rate limiting (django-axes): five failures lock a user name on one IP address for the cool-off
period; the login page says so; other addresses, other users and API tokens are unaffected; an
administrator can unlock with `guanxi axes_reset_username`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from guanxi.platform.identity.login_protection import attempted_username, client_ip
from guanxi.platform.identity.services import api_token_create

PASSWORD = "correct-horse-battery"
LOCKED = (
    "Too many failed sign-in attempts. Sign-in for this user name from this computer is locked for 15 minutes. "
    "Try again later, or ask an administrator to unlock it."
)
WRONG = "Please enter a correct username and password."


def _sign_in(client: Client, username: str, password: str, ip: str = "127.0.0.1") -> Any:
    return client.post(reverse("ui:login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def _fail(client: Client, username: str, times: int, ip: str = "127.0.0.1") -> list[int]:
    return [_sign_in(client, username, "wrong-password", ip).status_code for _ in range(times)]


def test_the_fifth_failure_locks_the_user_name_on_this_address_with_a_clear_message(org: Any) -> None:
    client = Client()
    assert _fail(client, "rep_south", 4) == [200, 200, 200, 200]
    fifth = _sign_in(client, "rep_south", "wrong-password")
    assert fifth.status_code == 429
    assert LOCKED in fifth.content.decode()
    assert WRONG not in fifth.content.decode()

    right_password = _sign_in(client, "rep_south", PASSWORD)
    assert right_password.status_code == 429
    assert LOCKED in right_password.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_below_the_limit_says_only_that(org: Any) -> None:
    response = _sign_in(Client(), "rep_south", "wrong-password")
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert LOCKED not in response.content.decode()


def test_case_variants_of_the_user_name_share_one_counter(org: Any) -> None:
    client = Client()
    for name in ("Rep_South", "REP_SOUTH", "rep_south", "rep_South"):
        assert _sign_in(client, name, "wrong-password").status_code == 200
    assert _sign_in(client, " rep_SOUTH", "wrong-password").status_code == 429


def test_the_same_user_from_another_address_and_another_user_here_can_still_sign_in(org: Any) -> None:
    _fail(Client(), "rep_south", 5)
    assert _sign_in(Client(), "rep_south", PASSWORD, ip="10.1.2.3").status_code == 302
    assert _sign_in(Client(), "rep_north", PASSWORD).status_code == 302


def test_a_success_resets_the_count(org: Any) -> None:
    _fail(Client(), "rep_south", 4)
    assert _sign_in(Client(), "rep_south", PASSWORD).status_code == 302
    assert _fail(Client(), "rep_south", 4) == [200, 200, 200, 200]


def test_the_lock_ends_after_the_cool_off_period(org: Any) -> None:
    _fail(Client(), "rep_south", 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    assert _sign_in(Client(), "rep_south", PASSWORD).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3, AXES_COOLOFF_TIME=dt.timedelta(minutes=1))
def test_limit_and_cool_off_come_from_the_settings(org: Any) -> None:
    client = Client()
    assert _fail(client, "rep_south", 3) == [200, 200, 429]
    assert "is locked for 1 minute." in _sign_in(client, "rep_south", PASSWORD).content.decode()


def test_api_tokens_keep_working_for_a_locked_out_user(org: Any) -> None:
    _token, secret = api_token_create(
        actor=org.actor("rep_south"), name="shop sync", scopes=["customers:read"], expires_at=None
    )
    _fail(Client(), "rep_south", 5)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == "rep_south"


def test_an_administrator_lists_and_unlocks_with_the_axes_commands(
    org: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _fail(Client(), "rep_south", 5)
    call_command("axes_list_attempts")
    assert "rep_south" in capsys.readouterr().out
    call_command("axes_reset_username", "rep_south")
    assert not AccessAttempt.objects.filter(username="rep_south").exists()
    assert _sign_in(Client(), "rep_south", PASSWORD).status_code == 302


def test_attempted_user_names_are_counted_lower_case() -> None:
    request = RequestFactory().post("/login/", {"username": "  Wang.Fang "})
    assert attempted_username(request) == "wang.fang"
    assert attempted_username(request, {"username": "LI"}) == "li"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no trusted proxy: a client-written header is ignored
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.7, 203.0.113.9", "203.0.113.9"),  # the client forged the first entry
        (2, "198.51.100.7, 203.0.113.9, 10.0.0.5", "203.0.113.9"),
        (2, "203.0.113.9", "10.0.0.1"),  # fewer entries than proxies: not trustworthy
    ],
)
def test_the_client_address_trusts_only_the_configured_proxies(proxies: int, forwarded: str, expected: str) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(GUANXI_TRUSTED_PROXY_COUNT=proxies):
        assert client_ip(request) == expected

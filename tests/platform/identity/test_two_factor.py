"""Two-factor authentication end to end with the test client: set-up with a QR code, sign-in with a
code (wrong codes refused and throttled, too many end the session), recovery codes, turning it off,
the administrator's reset, mandatory set-up for administrators, and the API on a half-signed-in session."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from guanxi.platform.core.errors import PermissionDenied, ValidationFailed
from guanxi.platform.identity import two_factor
from guanxi.platform.identity.session_security import TWO_FACTOR_ATTEMPTS_KEY

PASSWORD = "correct-horse-battery"
VERIFY = "/login/verify/"
WRONG_CODE = "That code is not right. Enter the current 6-digit code from your app, or a recovery code."


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The app's code now (or `steps_ahead` 30-second steps later, to avoid re-using a code)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def enrolled(user: Any) -> tuple[TOTPDevice, list[str]]:
    """`user` with a confirmed authenticator; returns it and the recovery codes."""
    from guanxi.platform.core.actors import Actor

    enrolment = two_factor.two_factor_start(actor=Actor(user=user))
    return two_factor.two_factor_confirm(actor=Actor(user=user), code=code_for(enrolment.device))


def password_client(username: str) -> Client:
    client = Client()
    response = client.post(reverse("ui:login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_setting_up_shows_a_qr_code_and_the_secret_then_confirms_with_a_code(org: Any) -> None:
    client = Client()
    client.force_login(org.rep_south)
    page = client.get(reverse("identity:two_factor_setup"))
    assert page.status_code == 200
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=org.rep_south)
    assert device.confirmed is False
    assert '<svg width="' in html and 'id="qr-path"' in html and "<script" not in html.split("<svg", 1)[1][:50000]
    assert two_factor.secret_for_display(device) in html
    assert page["Cache-Control"] == "no-store"

    wrong = client.post(reverse("identity:two_factor_setup"), {"code": "000000"})
    assert wrong.status_code == 422
    assert WRONG_CODE in wrong.content.decode()
    device.refresh_from_db()
    assert device.confirmed is False

    device.throttle_reset()
    done = client.post(reverse("identity:two_factor_setup"), {"code": code_for(device)})
    assert done.status_code == 200
    assert done["Cache-Control"] == "no-store"
    device.refresh_from_db()
    assert device.confirmed is True
    codes = list(StaticToken.objects.filter(device__user=org.rep_south).values_list("token", flat=True))
    assert len(codes) == 10
    for code in codes:
        assert two_factor.format_recovery_code(code) in done.content.decode()
    assert client.get("/").status_code == 200  # this session is verified by the code it just entered


def test_reloading_the_set_up_page_keeps_the_same_secret(org: Any) -> None:
    client = Client()
    client.force_login(org.rep_south)
    client.get(reverse("identity:two_factor_setup"))
    client.get(reverse("identity:two_factor_setup"))
    assert TOTPDevice.objects.filter(user=org.rep_south).count() == 1


def test_sign_in_with_two_factor_needs_the_code_before_any_page(org: Any) -> None:
    device, _codes = enrolled(org.rep_south)
    client = password_client("rep_south")
    before = client.session.session_key

    home = client.get("/customers/?q=x")
    assert home.status_code == 302
    assert home["Location"] == f"{VERIFY}?next=%2Fcustomers%2F%3Fq%3Dx"
    htmx = client.get("/customers/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 204 and htmx["HX-Redirect"] == VERIFY
    assert client.get(reverse("identity:two_factor")).status_code == 302
    assert client.get("/api/v1/me").status_code == 401

    page = client.get(VERIFY)
    assert page.status_code == 200
    assert 'class="topbar"' not in page.content.decode()  # no navigation before the code

    wrong = client.post(VERIFY, {"code": "000000", "next": "/customers/"})
    assert wrong.status_code == 422
    assert WRONG_CODE in wrong.content.decode()
    assert client.get("/").status_code == 302

    device.refresh_from_db()
    device.throttle_reset()
    right = client.post(VERIFY, {"code": code_for(device, steps_ahead=1), "next": "/customers/"})
    assert right.status_code == 302 and right["Location"] == "/customers/"
    assert client.session.session_key != before
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me").status_code == 200


def test_a_wrong_code_is_throttled_so_even_the_right_one_waits(org: Any) -> None:
    device, _codes = enrolled(org.rep_south)
    client = password_client("rep_south")
    client.post(VERIFY, {"code": "000000"})
    response = client.post(VERIFY, {"code": code_for(device, steps_ahead=1)})
    assert response.status_code == 422
    assert "Too many wrong codes. Wait " in response.content.decode()
    assert client.get("/").status_code == 302


def test_too_many_wrong_codes_end_the_session(org: Any) -> None:
    enrolled(org.rep_south)
    client = password_client("rep_south")
    statuses = [client.post(VERIFY, {"code": "000000"}).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 422]
    assert client.session[TWO_FACTOR_ATTEMPTS_KEY] == 4
    last = client.post(VERIFY, {"code": "000000"})
    assert last.status_code == 302 and last["Location"] == reverse("ui:login")
    assert "_auth_user_id" not in client.session
    login = client.get(reverse("ui:login"))
    assert "Too many wrong codes. Please sign in again." in login.content.decode()


def test_a_recovery_code_signs_in_once(org: Any) -> None:
    _device, codes = enrolled(org.rep_south)
    client = password_client("rep_south")
    assert client.post(VERIFY, {"code": codes[0].upper()}).status_code == 302
    assert client.get("/").status_code == 200
    assert StaticToken.objects.filter(device__user=org.rep_south).count() == 9

    again = password_client("rep_south")
    assert again.post(VERIFY, {"code": codes[0]}).status_code == 422


def test_users_without_two_factor_sign_in_with_the_password_alone(org: Any) -> None:
    client = password_client("rep_south")
    assert client.get("/").status_code == 200


def test_turning_off_needs_a_current_code(org: Any) -> None:
    device, codes = enrolled(org.rep_south)
    client = Client()
    client.force_login(org.rep_south)
    client.post(VERIFY, {"code": codes[1]})

    wrong = client.post(reverse("identity:two_factor_disable"), {"disable-code": "000000"}, follow=True)
    assert WRONG_CODE in wrong.content.decode()
    assert two_factor.user_has_two_factor(org.rep_south)

    device.refresh_from_db()
    device.throttle_reset()
    off = client.post(reverse("identity:two_factor_disable"), {"disable-code": code_for(device, 1)}, follow=True)
    assert "Two-factor authentication is off." in off.content.decode()
    assert not TOTPDevice.objects.filter(user=org.rep_south).exists()
    assert not StaticDevice.objects.filter(user=org.rep_south).exists()
    assert client.get("/").status_code == 200


def test_new_recovery_codes_replace_the_old_ones(org: Any) -> None:
    device, old = enrolled(org.rep_south)
    client = Client()
    client.force_login(org.rep_south)
    client.post(VERIFY, {"code": old[0]})
    response = client.post(reverse("identity:two_factor_recovery_codes"), {"renew-code": code_for(device, 1)})
    assert response.status_code == 200
    tokens = set(StaticToken.objects.filter(device__user=org.rep_south).values_list("token", flat=True))
    assert len(tokens) == 10 and not tokens & {code.replace("-", "") for code in old}


def test_an_administrator_resets_someone_elses_two_factor(org: Any) -> None:
    enrolled(org.rep_south)
    client = Client()
    client.force_login(org.admin)
    response = client.post(reverse("identity:user_two_factor_reset", args=[org.rep_south.pk]))
    assert response.status_code == 302
    assert not two_factor.user_has_two_factor(org.rep_south)
    assert password_client("rep_south").get("/").status_code == 200


def test_only_user_managers_reset_two_factor_and_never_their_own(org: Any) -> None:
    enrolled(org.rep_north)
    with pytest.raises(PermissionDenied):
        two_factor.two_factor_reset(actor=org.actor("rep_south"), user=org.rep_north)
    with pytest.raises(PermissionDenied):
        two_factor.two_factor_reset(actor=org.actor("admin"), user=org.admin)
    assert two_factor.user_has_two_factor(org.rep_north)


def test_codes_are_read_without_spaces_or_hyphens(org: Any) -> None:
    _device, codes = enrolled(org.rep_south)
    assert isinstance(two_factor.two_factor_verify(user=org.rep_south, code=f" {codes[2].upper()} "), StaticDevice)
    with pytest.raises(ValidationFailed) as failed:
        two_factor.two_factor_verify(user=org.rep_south, code="   ")
    assert failed.value.fields == {"code": ["Enter the code."]}


@override_settings(GUANXI_REQUIRE_2FA_FOR_ADMINS=True)
def test_administrators_must_set_up_two_factor_before_anything_else(org: Any) -> None:
    client = Client()
    client.force_login(org.admin)
    response = client.get("/settings/users/")
    assert response.status_code == 302
    assert response["Location"] == "/account/two-factor/setup/?next=%2Fsettings%2Fusers%2F"
    assert client.get("/api/v1/me").status_code == 401
    page = client.get(reverse("identity:two_factor_setup"))
    assert page.status_code == 200
    assert "Administrators must set up two-factor authentication before continuing." in page.content.decode()

    device = TOTPDevice.objects.get(user=org.admin)
    assert client.post(reverse("identity:two_factor_setup"), {"code": code_for(device)}).status_code == 200
    assert client.get("/settings/users/").status_code == 200

    with pytest.raises(PermissionDenied):
        two_factor.two_factor_disable(actor=org.actor("admin"), code=code_for(device, 1))


@override_settings(GUANXI_REQUIRE_2FA_FOR_ADMINS=True)
def test_mandatory_two_factor_leaves_other_roles_alone(org: Any) -> None:
    client = Client()
    client.force_login(org.rep_south)
    assert client.get("/").status_code == 200


def test_the_user_page_offers_the_reset_only_for_someone_elses_two_factor(org: Any) -> None:
    client = Client()
    client.force_login(org.admin)
    button = "Turn off two-factor authentication"
    assert button not in client.get(reverse("identity:user_edit", args=[org.rep_south.pk])).content.decode()
    enrolled(org.rep_south)
    assert button in client.get(reverse("identity:user_edit", args=[org.rep_south.pk])).content.decode()

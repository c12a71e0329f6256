"""Two-factor authentication: an authenticator app (TOTP, django-otp) plus one-time recovery codes.

This module owns the writes and reads of a user's second factor: enrolment (an unconfirmed TOTP
device until the first code from the app matches), confirmation (which issues ten recovery codes,
shown once), checking a code at sign-in, new recovery codes, turning it off (which needs a current
code) and an administrator's reset for someone who lost their phone. Wrong codes are throttled by
django-otp per device (1, 2, 4, 8 ... seconds between attempts). Which pages a session that still owes
its code may reach is decided in `session_security.py`.
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import Conflict, PermissionDenied, ValidationFailed
from guanxi.platform.identity.models import User
from guanxi.platform.identity.permissions import IDENTITY_MANAGE
from guanxi.platform.identity.roles import ADMINISTRATOR
from guanxi.platform.identity.scoping import require_permission

security_log = logging.getLogger("guanxi.security")

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery codes"
_TOTP_CODE = re.compile(r"^\d{6}\Z")
_SEPARATORS = re.compile(r"[\s-]+")


@dataclass(frozen=True)
class Enrolment:
    """What the set-up page shows: the QR code (inline SVG) and the same secret for typing in."""

    device: TOTPDevice
    qr_svg: str
    secret: str


# Reads -------------------------------------------------------------------------------------------


def user_has_two_factor(user: User) -> bool:
    """Whether the user has a confirmed authenticator app, so sign-in asks for a code."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def is_administrator(user: User) -> bool:
    """Superusers and holders of the built-in administrator role (those GUANXI_REQUIRE_2FA_FOR_ADMINS covers)."""
    return bool(user.is_superuser or (user.role_id and user.role is not None and user.role.code == ADMINISTRATOR))


def two_factor_required_for(user: User) -> bool:
    """Whether this user must set up two-factor authentication before using the application."""
    return bool(getattr(settings, "GUANXI_REQUIRE_2FA_FOR_ADMINS", False)) and is_administrator(user)


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def secret_for_display(device: TOTPDevice) -> str:
    """The base32 secret in groups of four, as authenticator apps accept it typed in."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(data: str) -> str:
    """An inline SVG QR code of `data` (a single <path>, no styles or scripts, so CSP needs no exception)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    return str(svg)


def format_recovery_code(code: str) -> str:
    """Recovery codes are shown as "abcd-efgh"; the hyphen is optional when typed."""
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


def normalise_code(raw: str) -> str:
    """Spaces and hyphens removed, lower-case: "123 456" -> "123456", "ABCD-EFGH" -> "abcdefgh"."""
    return _SEPARATORS.sub("", raw or "").lower()


# Writes ------------------------------------------------------------------------------------------


def _wrong_code() -> ValidationFailed:
    return ValidationFailed.for_field(
        "code", _("That code is not right. Enter the current 6-digit code from your app, or a recovery code.")
    )


def _throttled(device: Device, info: dict[str, object] | None) -> ValidationFailed:
    locked_until = (info or {}).get("locked_until")
    seconds = 1
    if locked_until is not None:
        seconds = max(1, int((locked_until - timezone.now()).total_seconds()) + 1)  # type: ignore[operator]
    message = ngettext(
        "Too many wrong codes. Wait %(seconds)s second before trying again.",
        "Too many wrong codes. Wait %(seconds)s seconds before trying again.",
        seconds,
    ) % {"seconds": seconds}
    return ValidationFailed.for_field("code", message)


def _check_code(device: Device | None, code: str) -> ValidationFailed | None:
    """None when `device` accepts `code`; otherwise the error to show. The throttle counts every miss."""
    if device is None:
        return _wrong_code()
    allowed, info = device.verify_is_allowed()
    if not allowed:
        return _throttled(device, info)
    if device.verify_token(code):
        return None
    return _wrong_code()


def two_factor_verify(*, user: User, code: str) -> Device:
    """The device that accepts `code` for `user`: the app for six digits, else a recovery code (used up).

    Raises ValidationFailed on a wrong or throttled code; the failure is recorded before raising.
    """
    code = normalise_code(code)
    if not code:
        raise ValidationFailed.for_field("code", _("Enter the code."))
    with transaction.atomic():
        model: type[Device] = TOTPDevice if _TOTP_CODE.match(code) else StaticDevice
        device = model.objects.select_for_update().filter(user=user, confirmed=True).order_by("id").first()
        error = _check_code(device, code)
    if error is not None or device is None:
        security_log.warning("two-factor code refused for user id %s", user.pk)
        raise error or _wrong_code()
    return device


def two_factor_start(*, actor: Actor) -> Enrolment:
    """The user's pending authenticator (created on first visit, reused on reload so the QR stays valid)."""
    user = actor.user
    if user_has_two_factor(user):
        raise Conflict(_("Two-factor authentication is already on."))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return Enrolment(device=device, qr_svg=qr_code_svg(device.config_url), secret=secret_for_display(device))


def _issue_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _index in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return [format_recovery_code(code) for code in codes]


def two_factor_confirm(*, actor: Actor, code: str) -> tuple[TOTPDevice, list[str]]:
    """Turn the pending authenticator on when `code` matches; returns it and the new recovery codes."""
    user = actor.user
    code = normalise_code(code)
    if not _TOTP_CODE.match(code):
        raise ValidationFailed.for_field("code", _("Enter the 6-digit code your app shows."))
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("id").first()
        if device is None:
            error: ValidationFailed | None = ValidationFailed.for_field(
                "code", _("The set-up expired. Reload the page and scan the new QR code.")
            )
        else:
            error = _check_code(device, code)
    if error is not None or device is None:
        raise error or _wrong_code()
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        codes = _issue_recovery_codes(user)
    security_log.info("two-factor authentication turned on for user id %s", user.pk)
    return device, codes


def two_factor_recovery_codes_renew(*, actor: Actor, code: str) -> list[str]:
    """New recovery codes (the old ones stop working), after a current code from the app."""
    user = actor.user
    if not user_has_two_factor(user):
        raise Conflict(_("Two-factor authentication is off."))
    two_factor_verify(user=user, code=code)
    with transaction.atomic():
        codes = _issue_recovery_codes(user)
    security_log.info("recovery codes renewed for user id %s", user.pk)
    return codes


def _remove_devices(user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def two_factor_disable(*, actor: Actor, code: str) -> None:
    """Turn two-factor authentication off for oneself; needs a current code (app or recovery)."""
    user = actor.user
    if two_factor_required_for(user):
        raise PermissionDenied(_("Administrators must keep two-factor authentication on."))
    if not user_has_two_factor(user):
        raise Conflict(_("Two-factor authentication is off."))
    two_factor_verify(user=user, code=code)
    with transaction.atomic():
        _remove_devices(user)
    security_log.info("two-factor authentication turned off by user id %s", user.pk)


def two_factor_reset(*, actor: Actor, user: User) -> None:
    """An administrator turns someone's two-factor authentication off (they lost their phone and codes)."""
    require_permission(actor, IDENTITY_MANAGE)
    if user.pk == actor.user.pk:
        raise PermissionDenied(_("Turn your own two-factor authentication off on your security page."))
    with transaction.atomic():
        _remove_devices(user)
    security_log.info("two-factor authentication of user id %s reset by user id %s", user.pk, actor.user.pk)

"""The notification types apps send, with their defaults; each user's preferences override them per type.

Apps register their types from `AppConfig.ready()` (customers: `customers/registrations.py`). A kind that
nobody registered still works: it is delivered with the defaults below, and logged once so the sender can be
found and registered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils.functional import Promise

logger = logging.getLogger(__name__)

KIND_MAX_LENGTH = 50  # Notification.kind and NotificationPreference.kind


@dataclass(frozen=True)
class NotificationType:
    """A kind of notification and whether users get it in the app, by email and in the daily digest unless
    they choose otherwise."""

    code: str
    label: Promise | str
    description: Promise | str = ""
    default_in_app: bool = True
    default_email: bool = False
    default_digest: bool = True


_types: dict[str, NotificationType] = {}
_warned_unknown: set[str] = set()


def register_notification_type(
    code: str,
    label: Promise | str,
    *,
    description: Promise | str = "",
    default_in_app: bool = True,
    default_email: bool = False,
    default_digest: bool = True,
) -> NotificationType:
    """Register (or replace) the type `code`, such as "customers.handover"; returns it."""
    if not code or len(code) > KIND_MAX_LENGTH or code != code.strip():
        raise ValueError(f"A notification type code is 1 to {KIND_MAX_LENGTH} characters without spaces: {code!r}")
    spec = NotificationType(
        code=code,
        label=label,
        description=description,
        default_in_app=default_in_app,
        default_email=default_email,
        default_digest=default_digest,
    )
    _types[code] = spec
    return spec


def notification_types() -> list[NotificationType]:
    """Every registered type, in the order the apps registered them."""
    return list(_types.values())


def notification_type(code: str) -> NotificationType | None:
    return _types.get(code)


def is_known_type(code: str) -> bool:
    return code in _types


def type_or_default(code: str) -> NotificationType:
    """The registered type, or one with the default settings for a kind nobody registered (logged once)."""
    spec = _types.get(code)
    if spec is not None:
        return spec
    if code not in _warned_unknown:
        _warned_unknown.add(code)
        logger.warning(
            "notification kind %r is not registered; sent with the default preferences. "
            "Register it with register_notification_type().",
            code,
        )
    return NotificationType(code=code, label=code)

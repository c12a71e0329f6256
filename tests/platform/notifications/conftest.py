"""Fixtures for notification tests: registered test types, users with addresses and languages, clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from guanxi.platform.notifications import registry

PLAIN = "tests.plain"  # the registry's defaults: in the app, not by email, in the digest
EMAILED = "tests.emailed"  # emailed by default
QUIET = "tests.quiet"  # neither in the app nor in the digest by default


@pytest.fixture(autouse=True)
def test_types() -> Iterator[None]:
    """Register the test types for one test, and leave the registry as it was afterwards."""
    saved = dict(registry._types)
    registry.register_notification_type(PLAIN, "Plain things", description="Anything plain.")
    registry.register_notification_type(EMAILED, "Emailed things", default_email=True)
    registry.register_notification_type(QUIET, "Quiet things", default_in_app=False, default_digest=False)
    yield
    registry._types.clear()
    registry._types.update(saved)


def with_email(user: Any, *, email: str | None = None, language: str = "en", time_zone: str = "") -> Any:
    user.email = email if email is not None else f"{user.username}@example.com"
    user.language = language
    user.time_zone = time_zone
    user.save(update_fields=["email", "language", "time_zone"])
    return user


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client

"""The channels settings (`GUANXI_CHANNELS`), read with their defaults in one place."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULT_BACKEND = "guanxi.platform.channels.backends.console.ConsoleBackend"


def channels_settings() -> dict[str, Any]:
    return dict(getattr(settings, "GUANXI_CHANNELS", {}) or {})


def backend_settings(channel: str) -> tuple[str, dict[str, Any]]:
    """(backend class path, its OPTIONS) for `channel`."""
    conf = channels_settings().get(channel) or {}
    return str(conf.get("BACKEND") or DEFAULT_BACKEND), dict(conf.get("OPTIONS") or {})


def public_url() -> str:
    """The address people reach this installation at, for links in messages (no trailing slash)."""
    return str(channels_settings().get("public_url") or "http://localhost:8000").rstrip("/")


def max_attempts() -> int:
    return max(1, int(channels_settings().get("max_attempts", 5)))


def retry_base_seconds() -> int:
    return max(1, int(channels_settings().get("retry_base_seconds", 60)))


def retry_max_seconds() -> int:
    return max(retry_base_seconds(), int(channels_settings().get("retry_max_seconds", 6 * 3600)))


def claim_seconds() -> int:
    """How long one delivery attempt owns a message before the retry job may take it over."""
    return max(30, int(channels_settings().get("claim_seconds", 600)))


def callback_token() -> str:
    """The secret path segment of the delivery-report webhooks; empty turns them off."""
    return str(channels_settings().get("callback_token") or "")

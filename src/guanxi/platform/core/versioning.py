"""Optimistic locking: a write names the version it read; a different current version is refused."""

from __future__ import annotations

from guanxi.platform.core.errors import StaleVersion
from guanxi.platform.core.models import TimestampedModel


def ensure_version(record: TimestampedModel, expected_version: int | None) -> None:
    """Raise StaleVersion when the caller read an older version than the one stored."""
    if expected_version is not None and int(expected_version) != record.version:
        raise StaleVersion()

"""Writing the access log. Never log the personal values themselves, only which record was seen."""

from __future__ import annotations

from typing import Any

from guanxi.platform.audit.models import AccessLogEntry
from guanxi.platform.core.actors import Actor


def access_log_record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | None = None,
    record_count: int = 1,
    detail: dict[str, Any] | None = None,
) -> AccessLogEntry:
    return AccessLogEntry.objects.create(
        user=actor.user,
        action=action,
        object_type=object_type,
        object_id=object_id,
        record_count=record_count,
        channel=actor.channel,
        detail=detail or {},
    )

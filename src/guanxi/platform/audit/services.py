"""Writing the access log. Never log the personal values themselves, only which record was seen."""

from __future__ import annotations

from collections.abc import Sequence
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


def personal_data_view_record(
    *, actor: Actor, object_type: str, object_ids: Sequence[int], detail: dict[str, Any] | None = None
) -> AccessLogEntry | None:
    """One entry saying whose personal data the actor was shown in clear (one record or a page of them).

    Nothing is written when no record was shown. A single record is named by `object_id`; several by the
    "ids" of the detail.
    """
    ids = [int(pk) for pk in object_ids]
    if not ids:
        return None
    extra = dict(detail or {})
    if len(ids) > 1:
        extra["ids"] = ids
    return access_log_record(
        actor=actor,
        action=AccessLogEntry.Action.VIEW_PERSONAL_DATA,
        object_type=object_type,
        object_id=ids[0] if len(ids) == 1 else None,
        record_count=len(ids),
        detail=extra,
    )

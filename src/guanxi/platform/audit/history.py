"""Reading change history: a record's simple-history rows turned into "who, when, field: before -> after"."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models

HIDDEN_FIELDS = {"version", "updated_at", "id_number_encrypted", "id_number_hash", "search_key"}


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: Any
    after: Any


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime
    user_id: int | None
    user_name: str
    kind: str  # "+" created, "~" changed, "-" deleted
    record_label: str
    changes: list[FieldChange]
    reason: str


def _label(model: type[models.Model], field_name: str) -> str:
    try:
        return str(getattr(model._meta.get_field(field_name), "verbose_name", field_name))
    except Exception:  # noqa: BLE001 - fields of the history model only
        return field_name


def history_entries(records: list[Any], *, model: type[models.Model], limit: int = 100) -> list[HistoryEntry]:
    """Turn historical rows (newest first, of one or several objects) into displayable entries.

    `records` must be ordered newest first and have `prev_record` resolvable; we compute diffs
    pairwise per object so the caller fetches the rows with a single query.
    """
    by_object: dict[Any, list[Any]] = {}
    for row in records:
        by_object.setdefault(row.id, []).append(row)
    previous: dict[int, Any] = {}
    for rows in by_object.values():
        for newer, older in itertools.pairwise(rows):
            previous[newer.history_id] = older
    entries = []
    for row in records[:limit]:
        older = previous.get(row.history_id)
        changes: list[FieldChange] = []
        if older is not None and row.history_type == "~":
            delta = row.diff_against(older)
            for change in delta.changes:
                if change.field in HIDDEN_FIELDS:
                    continue
                changes.append(FieldChange(change.field, _label(model, change.field), change.old, change.new))
            if not changes:
                continue
        user = row.history_user
        entries.append(
            HistoryEntry(
                when=row.history_date,
                user_id=row.history_user_id,
                user_name=str(user) if user else "",
                kind=row.history_type,
                record_label=str(getattr(row, "value", "") or getattr(row, "name", "") or ""),
                changes=changes,
                reason=row.history_change_reason or "",
            )
        )
    return entries

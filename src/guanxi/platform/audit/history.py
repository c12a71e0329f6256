"""Change history on top of django-simple-history: writing it (`ChangeHistory`, `attribute_history`) and
reading it (a record's historical rows turned into "who, when, field: before -> after").

Services call `attribute_history(record, actor, reason)` before saving so each row names who made the
change, also where there is no request (API tokens, the worker). `record_history` gives one record's
history in a fixed number of queries, with values made readable: names of referenced records, choice
labels, yes/no, and added/removed items of list fields.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from simple_history.models import HistoricalRecords

from guanxi.platform.core.actors import Actor

HIDDEN_FIELDS = {
    "version",
    "updated_at",
    "id_number_encrypted",
    "id_number_hash",
    "search_key",
    "password",
    "last_login",
    "path",
    "depth",
}
DEFAULT_LIMIT = 50


def attribute_history(record: models.Model, actor: Actor | None, reason: str = "") -> None:
    """Tell django-simple-history who made this change (API and worker writes have no request)."""
    if actor is not None:
        record._history_user = actor.user  # type: ignore[attr-defined]
    if reason:
        record._change_reason = reason  # type: ignore[attr-defined]


class ChangeHistory(HistoricalRecords):
    """`HistoricalRecords` that writes no row for a save touching only fields the history leaves out
    (the last login on each sign-in, a team's path), unless the service gave a reason for it (a new
    password: the fact is recorded, never the hash)."""

    def post_save(self, instance: models.Model, created: bool, using: str | None = None, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if (
            not created
            and update_fields
            and set(update_fields) <= set(self.excluded_fields or ())
            and not getattr(instance, "_change_reason", "")
        ):
            return
        super().post_save(instance, created, using=using, **kwargs)


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: Any
    after: Any
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


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
            if not changes and not row.history_change_reason:
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


# Readable values -------------------------------------------------------------------------------------

ValueFormatter = Callable[[Any], str]


def _item_text(item: Any) -> str:
    if isinstance(item, str):
        return item
    return json.dumps(item, ensure_ascii=False, sort_keys=True)


def _as_items(value: Any) -> list[str]:
    return [_item_text(item) for item in value] if isinstance(value, list | tuple) else []


def list_change(change: FieldChange, item_label: ValueFormatter = _item_text) -> FieldChange:
    """A list field's change as the items added and removed (permission codes, choices), each labelled."""
    before, after = _as_items(change.before), _as_items(change.after)
    originals = {
        _item_text(item): item
        for value in (change.before, change.after)
        if isinstance(value, list | tuple)
        for item in value
    }
    added = tuple(item_label(originals[i]) for i in after if i not in before)
    removed = tuple(item_label(originals[i]) for i in before if i not in after)
    return dataclasses.replace(change, before="", after="", added=added, removed=removed)


def mapping_change(
    change: FieldChange, key_label: ValueFormatter = str, value_label: ValueFormatter = str
) -> FieldChange:
    """A dict field's change as "key: value" of the keys whose value changed (data scopes per record type)."""
    before = change.before if isinstance(change.before, dict) else {}
    after = change.after if isinstance(change.after, dict) else {}
    keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]

    def side(values: dict[str, Any]) -> str:
        return "; ".join(f"{key_label(k)}: {value_label(values[k]) if k in values else '—'}" for k in keys)

    return dataclasses.replace(change, before=side(before), after=side(after))


class _Readable:
    """Turns raw diff values into what a person reads, with one query per kind of referenced record."""

    def __init__(self, model: type[models.Model], entries: list[HistoryEntry]) -> None:
        self.model = model
        self.names: dict[str, dict[Any, str]] = {}
        self.choices: dict[str, dict[Any, str]] = {}
        wanted: dict[str, set[Any]] = {}
        for change in (c for entry in entries for c in entry.changes):
            field = self._field(change.field)
            if isinstance(field, models.ForeignKey):
                wanted.setdefault(change.field, set()).update(
                    v for v in (change.before, change.after) if v not in (None, "")
                )
            elif field is not None and getattr(field, "flatchoices", None):
                self.choices[change.field] = {value: str(label) for value, label in field.flatchoices}
        by_model: dict[type[models.Model], set[Any]] = {}
        for name, ids in wanted.items():
            related = self._field(name).related_model  # type: ignore[union-attr]
            by_model.setdefault(related, set()).update(ids)
        found = {
            related: {obj.pk: str(obj) for obj in related._base_manager.filter(pk__in=ids)}
            for related, ids in by_model.items()
            if ids
        }
        for name in wanted:
            self.names[name] = found.get(self._field(name).related_model, {})  # type: ignore[union-attr, arg-type]

    def _field(self, name: str) -> Any:
        try:
            return self.model._meta.get_field(name)
        except Exception:  # noqa: BLE001 - a field the model no longer has
            return None

    def value(self, field: str, value: Any) -> Any:
        if value is None or value == "":
            return ""
        if field in self.names:
            return self.names[field].get(value, f"#{value}")
        if field in self.choices:
            return self.choices[field].get(value, value)
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, list | dict):
            return json.dumps(value, ensure_ascii=False)
        return value


def readable_entries(
    entries: list[HistoryEntry],
    *,
    model: type[models.Model],
    formatters: Mapping[str, Callable[[FieldChange], FieldChange]] | None = None,
) -> list[HistoryEntry]:
    """`entries` with readable values; `formatters` turn the changes of particular fields (lists, dicts)."""
    formatters = formatters or {}
    readable = _Readable(model, entries)

    def change_text(change: FieldChange) -> FieldChange:
        if change.field in formatters:
            return formatters[change.field](change)
        if isinstance(change.before, list) or isinstance(change.after, list):
            return list_change(change)
        return dataclasses.replace(
            change,
            before=readable.value(change.field, change.before),
            after=readable.value(change.field, change.after),
        )

    return [dataclasses.replace(e, changes=[change_text(c) for c in e.changes]) for e in entries]


def record_history(
    record: models.Model,
    *,
    limit: int = DEFAULT_LIMIT,
    formatters: Mapping[str, Callable[[FieldChange], FieldChange]] | None = None,
) -> list[HistoryEntry]:
    """One record's history, newest first and readable, in a fixed number of queries (its rows with
    their users, then one query per kind of referenced record). The caller checks the actor's rights."""
    model = type(record)
    manager = getattr(model, model._meta.simple_history_manager_attribute)  # type: ignore[attr-defined]
    rows = list(
        manager.filter(id=record.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: limit + 1]
    )
    return readable_entries(history_entries(rows, model=model, limit=limit), model=model, formatters=formatters)


def labelled(labels: Mapping[str, str]) -> ValueFormatter:
    """A formatter showing "label (code)" for codes that have a label, the code otherwise."""

    def label(code: Any) -> str:
        text = str(code)
        return f"{labels[text]} ({text})" if text in labels else text

    return label

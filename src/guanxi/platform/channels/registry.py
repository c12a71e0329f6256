"""Recipient sources: the record types messages can be sent to, registered by domain apps.

The platform knows no customer. A domain app registers each record type that has addresses
(`register_recipient_source("customers.customer", ...)`, from `AppConfig.ready()`) with functions that:

- `resolve(record_id, channel)`: the record's recipients on that channel, the preferred one first, each with
  its address, contact point id, consent state and language (an empty list when it has none);
- `merge_fields()`: the merge fields a template for this record type may use (name + label);
- `merge_context(record_id, language)`: their values for one record, rendered in `language`;
- `withdraw_consent(channel, address, source)`: withdraw consent of every contact point with that address
  (unsubscribe links and keywords); returns how many were changed;
- `is_visible(actor, record_id)`: whether the actor may see the record (actor None: whether it exists);
- `visible_ids(actor)`: a queryset of the ids the actor may see (used as a subquery to scope the message log),
  or None when the actor sees every record of the type;
- `record_labels(ids)`: display names of records, for the log (one query for a page);
- `record_url(record_id)`: the record's page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.functional import Promise

from guanxi.platform.core.actors import Actor


@dataclass(frozen=True)
class Recipient:
    address: str
    consent: str  # a ConsentState value
    contact_point_id: int | None = None
    language: str = ""  # "zh-hans" or "en"; empty: the installation's default language
    label: str = ""


@dataclass(frozen=True)
class MergeField:
    name: str  # as written in a template: "name", "custom_fields.tier"
    label: str | Promise


@dataclass(frozen=True)
class RecipientSource:
    record_type: str
    label: str | Promise
    resolve: Callable[[int, str], list[Recipient]]
    merge_fields: Callable[[], list[MergeField]]
    merge_context: Callable[[int, str], dict[str, Any]]
    withdraw_consent: Callable[[str, str, str], int]
    is_visible: Callable[[Actor | None, int], bool]
    visible_ids: Callable[[Actor], QuerySet[Any] | None]
    record_labels: Callable[[list[int]], dict[int, str]]
    record_url: Callable[[int], str]


_sources: dict[str, RecipientSource] = {}


def register_recipient_source(
    record_type: str,
    *,
    label: str | Promise,
    resolve: Callable[[int, str], list[Recipient]],
    merge_fields: Callable[[], list[MergeField]],
    merge_context: Callable[[int, str], dict[str, Any]],
    withdraw_consent: Callable[[str, str, str], int],
    is_visible: Callable[[Actor | None, int], bool],
    visible_ids: Callable[[Actor], QuerySet[Any] | None],
    record_labels: Callable[[list[int]], dict[int, str]],
    record_url: Callable[[int], str],
) -> RecipientSource:
    """Register (or replace: apps' ready() may run twice in tests) the recipient source of `record_type`."""
    source = RecipientSource(
        record_type=record_type,
        label=label,
        resolve=resolve,
        merge_fields=merge_fields,
        merge_context=merge_context,
        withdraw_consent=withdraw_consent,
        is_visible=is_visible,
        visible_ids=visible_ids,
        record_labels=record_labels,
        record_url=record_url,
    )
    _sources[record_type] = source
    return source


def recipient_source(record_type: str) -> RecipientSource | None:
    return _sources.get(record_type)


def recipient_sources() -> dict[str, RecipientSource]:
    return dict(_sources)


def record_type_choices() -> list[tuple[str, str]]:
    return [(code, str(source.label)) for code, source in sorted(_sources.items())]

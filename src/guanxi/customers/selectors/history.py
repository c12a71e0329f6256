"""A customer's change history: its own simple-history rows and those of its contact points, on one list.

Values are made readable (choice labels, names of users, teams and pools instead of ids) and personal
contact values are masked for roles without the "see personal data" permission. The number of queries
does not depend on the length of the history.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from guanxi.customers.models import ContactPoint, Customer, Pool
from guanxi.customers.models.choices import ContactKind
from guanxi.customers.permissions import CUSTOMERS_VIEW
from guanxi.customers.selectors.presentation import display_contact_value
from guanxi.platform.audit.history import FieldChange, HistoryEntry, history_entries
from guanxi.platform.core.actors import Actor
from guanxi.platform.identity.models import Team, User
from guanxi.platform.identity.scoping import can_see_personal_data, require_permission

DEFAULT_LIMIT = 100
CONTACT_VALUE_FIELDS = frozenset({"value", "raw_value", "address"})
USER_FIELDS = frozenset({"owner", "created_by"})


def _choice_labels(model: type[models.Model]) -> dict[str, dict[Any, str]]:
    labels: dict[str, dict[Any, str]] = {}
    for field in model._meta.get_fields():
        choices = getattr(field, "flatchoices", None)
        if choices:
            labels[field.name] = {value: str(label) for value, label in choices}
    return labels


def _ids(changes: Iterable[FieldChange], names: frozenset[str]) -> set[int]:
    ids: set[int] = set()
    for change in changes:
        if change.field in names:
            ids.update(v for v in (change.before, change.after) if isinstance(v, int))
    return ids


class _Readable:
    """Turns raw diff values into what a person reads, with one query per kind of referenced record."""

    def __init__(self, actor: Actor, entries: list[HistoryEntry], point_kinds: dict[str, str]):
        changes = [change for entry in entries for change in entry.changes]
        self.unmasked = can_see_personal_data(actor)
        self.point_kinds = point_kinds
        self.choices = {**_choice_labels(ContactPoint), **_choice_labels(Customer)}
        self.names: dict[str, dict[int, str]] = {"owner": {}, "team": {}, "pool": {}, "organisation": {}}
        user_ids = _ids(changes, USER_FIELDS)
        if user_ids:
            users = {u.pk: str(u) for u in User.objects.select_related(None).filter(pk__in=user_ids)}
            self.names["owner"] = users
        team_ids = _ids(changes, frozenset({"team"}))
        if team_ids:
            self.names["team"] = dict(Team.objects.filter(pk__in=team_ids).values_list("id", "name"))
        pool_ids = _ids(changes, frozenset({"pool"}))
        if pool_ids:
            self.names["pool"] = dict(Pool.objects.filter(pk__in=pool_ids).values_list("id", "name"))
        org_ids = _ids(changes, frozenset({"organisation"}))
        if org_ids:
            visible = Customer.objects.visible_to(actor).filter(pk__in=org_ids)
            self.names["organisation"] = dict(visible.values_list("id", "name"))

    def contact(self, value: Any, kind: str | None) -> str:
        if value in (None, "", {}):
            return ""
        if isinstance(value, dict):
            value = " ".join(str(part) for part in value.values() if part)
        text = str(value)
        return display_contact_value(kind or ContactKind.ADDRESS, text, unmasked=self.unmasked)

    def value(self, field: str, value: Any, kind: str | None) -> Any:
        if field in CONTACT_VALUE_FIELDS and kind is not None:
            return self.contact(value, kind)
        if value is None or value == "":
            return ""
        if field in USER_FIELDS:
            return self.names["owner"].get(value, f"#{value}")
        if field in ("team", "pool", "organisation"):
            return self.names[field].get(value, f"#{value}")
        if field in self.choices:
            return self.choices[field].get(value, value)
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        return value

    def entry(self, entry: HistoryEntry, *, is_point: bool) -> HistoryEntry:
        kind = self.point_kinds.get(entry.record_label) if is_point else None
        label = entry.record_label
        if is_point:
            kind_label = ContactKind(kind).label if kind in ContactKind.values else _("Contact")
            label = f"{kind_label}: {self.contact(entry.record_label, kind)}"
        changes = [
            dataclasses.replace(
                change,
                before=self.value(change.field, change.before, kind),
                after=self.value(change.field, change.after, kind),
            )
            for change in entry.changes
        ]
        return dataclasses.replace(entry, record_label=label, changes=changes)


def customer_history(*, actor: Actor, customer: Customer, limit: int = DEFAULT_LIMIT) -> list[HistoryEntry]:
    """Newest first: changes to the customer and to its contact points (also removed ones).

    `customer` must come from a selector that applied visibility (customer_get).
    """
    require_permission(actor, CUSTOMERS_VIEW)
    customer_rows = list(
        Customer.history.filter(id=customer.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: limit + 1]
    )
    # Several points share the window, so fetch more rows to keep each entry's previous version at hand.
    point_rows = list(
        ContactPoint.history.filter(customer_id=customer.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: limit * 2]
    )
    customer_entries = history_entries(customer_rows, model=Customer, limit=limit)
    point_entries = history_entries(point_rows, model=ContactPoint, limit=limit)
    point_kinds = {row.value: row.kind for row in point_rows}
    readable = _Readable(actor, [*customer_entries, *point_entries], point_kinds)
    merged = [readable.entry(e, is_point=False) for e in customer_entries] + [
        readable.entry(e, is_point=True) for e in point_entries
    ]
    merged.sort(key=lambda e: e.when, reverse=True)
    return merged[:limit]

"""Keyset (cursor) pagination: the same speed on page 1 and page 10,000.

A cursor is an opaque token holding the last row's sort value and id. Nullable sort fields put
NULLs last in either direction; ties are broken by id in the sort's direction.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, Model, Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.platform.core.errors import ValidationFailed

T = TypeVar("T", bound=Model)
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    page_size: int


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    return value


def _decode_value(raw: Any) -> Any:
    if isinstance(raw, dict):
        if "dt" in raw:
            return dt.datetime.fromisoformat(raw["dt"])
        if "d" in raw:
            return dt.date.fromisoformat(raw["d"])
        if "dec" in raw:
            return Decimal(raw["dec"])
    return raw


def encode_cursor(sort: str, value: Any, pk: int) -> str:
    payload = json.dumps({"s": sort, "v": _encode_value(value), "id": pk}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        if payload["s"] != sort:
            raise ValueError
        return _decode_value(payload["v"]), int(payload["id"])
    except (ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationFailed.for_field(
            "cursor", _("This page link is not valid; start from the first page.")
        ) from None


def _is_nullable(qs: QuerySet[Any], field: str) -> bool:
    """Whether the model field `field` may be NULL (an annotation or unknown name counts as not)."""
    try:
        return bool(qs.model._meta.get_field(field).null)
    except FieldDoesNotExist:
        return False


def keyset_paginate(
    qs: QuerySet[T], *, sort: str, cursor: str | None, page_size: int, nullable: bool | None = None
) -> Page[T]:
    """Order `qs` by `sort` ("-field" or "field") then id, and return one page after `cursor`.

    `nullable` (whether the sort field may be NULL) is read from the model unless given.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationFailed.for_field("limit", _("Ask for 1 to %(n)s rows.") % {"n": MAX_PAGE_SIZE})
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    if nullable is None:
        nullable = field != "id" and _is_nullable(qs, field)
    id_order = "-id" if descending else "id"
    if field == "id":
        qs = qs.order_by(id_order)
    else:
        expr = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
        qs = qs.order_by(expr, id_order)
    if cursor:
        value, last_id = decode_cursor(cursor, sort)
        after_id = Q(id__lt=last_id) if descending else Q(id__gt=last_id)
        if field == "id":
            qs = qs.filter(after_id)
        elif value is None:
            qs = qs.filter(Q(**{f"{field}__isnull": True}) & after_id)
        else:
            beyond = Q(**{f"{field}__lt" if descending else f"{field}__gt": value})
            same = Q(**{field: value}) & after_id
            condition = beyond | same
            if nullable:
                condition |= Q(**{f"{field}__isnull": True})
            qs = qs.filter(condition)
    rows = list(qs[: page_size + 1])
    has_more = len(rows) > page_size
    items = rows[:page_size]
    next_cursor = None
    if has_more and items:
        last = items[-1]
        next_cursor = encode_cursor(sort, getattr(last, field) if field != "id" else last.pk, int(last.pk))
    return Page(items=items, next_cursor=next_cursor, page_size=page_size)

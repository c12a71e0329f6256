"""List filters read from query parameters, the same for a page's query string and an API call.

`FilterParams` turns raw parameter values into typed ones; every bad value is collected under its
parameter's name, and `check()` raises one ValidationFailed naming them all. `day_range_q` turns an
inclusive range of days into a filter on a date-time field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.platform.core.errors import ValidationFailed

CUSTOM_FIELD_PREFIX = "cf."
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})


class FilterParams:
    """Typed reads of query parameters; a bad value is recorded and read as "no filter"."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params
        self.errors: dict[str, list[str]] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def check(self) -> None:
        """Raise ValidationFailed naming every bad parameter read so far."""
        if self.errors:
            raise ValidationFailed(fields=self.errors)

    def text(self, name: str, *, max_length: int = 100) -> str:
        return str(self.params.get(name) or "").strip()[:max_length]

    def integer(self, name: str, raw: Any = None) -> int | None:
        """The parameter `name` (or `raw`, reported under `name`) as a whole number; empty is None."""
        value = self.params.get(name) if raw is None else raw
        if value in (None, ""):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            self.fail(name, _("Enter a whole number."))
            return None

    def date(self, name: str) -> dt.date | None:
        raw = self.params.get(name)
        if raw in (None, ""):
            return None
        if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
            return raw
        try:
            return dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            self.fail(name, _("Enter a date as YYYY-MM-DD."))
            return None

    def datetime(self, name: str) -> dt.datetime | None:
        """An ISO 8601 date and time; without an offset it is read in the current time zone."""
        raw = self.params.get(name)
        if raw in (None, ""):
            return None
        if isinstance(raw, dt.datetime):
            value = raw
        else:
            try:
                value = dt.datetime.fromisoformat(str(raw).strip())
            except ValueError:
                self.fail(name, _("Enter a date and time such as 2025-03-01T09:30."))
                return None
        return timezone.make_aware(value) if timezone.is_naive(value) else value

    def choice(self, name: str, choices: type[models.TextChoices] | Iterable[str]) -> str:
        raw = str(self.params.get(name) or "")
        allowed = choices.values if isinstance(choices, type) else list(choices)
        if raw and raw not in allowed:
            self.fail(name, _("Choose a value from the list."))
            return ""
        return raw

    def boolean(self, name: str) -> bool:
        """true/false (1/0, yes/no, on/off); anything else is an error; missing is false."""
        raw = self.params.get(name)
        if isinstance(raw, bool):
            return raw
        text = str(raw or "").strip().lower()
        if text in TRUE_WORDS:
            return True
        if text not in FALSE_WORDS:
            self.fail(name, _("Use true or false."))
        return False

    def yes_no(self, name: str) -> bool | None:
        """true/1 or false/0; missing (or anything else) is None: no filter."""
        raw = self.params.get(name)
        if isinstance(raw, bool):
            return raw
        return {"true": True, "1": True, "false": False, "0": False}.get(str(raw or "").strip().lower())

    def custom_fields(self) -> dict[str, str]:
        """The `cf.<key>` parameters that have a value, for `custom_field_filter_q`."""
        return {
            str(key): str(value)
            for key, value in self.params.items()
            if str(key).startswith(CUSTOM_FIELD_PREFIX) and value not in (None, "")
        }


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in the current time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def day_range_q(field: str, first: dt.date | None, last: dt.date | None) -> Q:
    """`field` (a date-time) on one of the days from `first` to `last`, both included; either may be open."""
    q = Q()
    if first is not None:
        q &= Q(**{f"{field}__gte": day_start(first)})
    if last is not None:
        q &= Q(**{f"{field}__lt": day_start(last + dt.timedelta(days=1))})
    return q

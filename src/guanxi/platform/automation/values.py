"""Values of rule fields: reading them from records, parsing what a rule author typed, showing them.

- `read_value(record, field)` follows the field's ORM lookup on a loaded record (attributes, then keys of
  JSON columns) and `normalise`s the result: Decimal for numbers (custom numbers are stored as strings),
  `date` / aware `datetime`, ids for users and teams, None for every kind of empty.
- `parse_scalar(field, raw)` checks one value a condition or a "set a field" action compares with or
  writes, returning its stored JSON form or raising ValueError with a message for the author.
- Dates in conditions may be relative: "today", "today+7", "today-90", read when the rule runs, in the
  time zone of the installation (settings.TIME_ZONE), like every date rules talk about.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from guanxi.platform.automation.registry import FieldKind, RecordField

RELATIVE_DATE = re.compile(r"^today\s*(?:([+-])\s*(\d{1,5}))?$")
TEXT_VALUE_MAX = 500
MAX_DAYS = 36_500
DECIMAL_LIMIT = Decimal("1e15")


def installation_today() -> dt.date:
    """Today in the installation's time zone (settings.TIME_ZONE), whatever the current user's is."""
    return timezone.localdate(timezone.now(), timezone.get_default_timezone())


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in the installation's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def follow_lookup(record: Any, lookup: str) -> Any:
    """The value at `lookup` ("owner__team_id", "custom_fields__tier") of a loaded record."""
    value = record
    for part in lookup.split("__"):
        if value is None:
            return None
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return value


def normalise(field: RecordField, raw: Any) -> Any:
    """A stored or attribute value as rules compare it (None when empty or unreadable)."""
    if isinstance(raw, models.Model):
        raw = raw.pk
    if is_empty(raw):
        return None
    kind = field.kind
    try:
        if kind == FieldKind.CHOICE and field.multiple:
            return [str(item) for item in raw] if isinstance(raw, list | tuple) else [str(raw)]
        if kind in (FieldKind.TEXT, FieldKind.CHOICE):
            return str(raw)
        if kind == FieldKind.NUMBER:
            return int(Decimal(str(raw)))
        if kind == FieldKind.DECIMAL:
            return Decimal(str(raw))
        if kind == FieldKind.DATE:
            if isinstance(raw, dt.datetime):
                return local_date(raw)
            if isinstance(raw, dt.date):
                return raw
            return dt.date.fromisoformat(str(raw)[:10])
        if kind == FieldKind.DATETIME:
            if isinstance(raw, dt.datetime):
                return raw if timezone.is_aware(raw) else timezone.make_aware(raw)
            if isinstance(raw, dt.date):
                return day_start(raw)
            parsed = parse_datetime(str(raw))
            if parsed is None:
                return day_start(dt.date.fromisoformat(str(raw)[:10]))
            return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
        if kind == FieldKind.BOOL:
            return bool(raw)
        if kind in (FieldKind.USER, FieldKind.TEAM):
            return int(raw)
    except (TypeError, ValueError, InvalidOperation, ArithmeticError):
        return None
    return raw


def read_value(record: Any, field: RecordField) -> Any:
    return normalise(field, follow_lookup(record, field.orm_lookup))


# Values a rule author typed -------------------------------------------------------------------------


def relative_days(text: str) -> int | None:
    """The day offset of "today", "today+7", "today-90"; None when `text` is not a relative date."""
    match = RELATIVE_DATE.match(text.strip().lower())
    if match is None:
        return None
    sign, days = match.groups()
    if days is None:
        return 0
    return int(days) if sign == "+" else -int(days)


def _parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on", "是", "y"}:
        return True
    if text in {"0", "false", "no", "off", "否", "n"}:
        return False
    raise ValueError(_("Answer yes or no."))


def _parse_date_value(raw: Any) -> str:
    if isinstance(raw, dt.datetime):
        return local_date(raw).isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    text = str(raw).strip().lower()
    days = relative_days(text)
    if days is not None:
        if abs(days) > MAX_DAYS:
            raise ValueError(_("Use at most %(n)s days before or after today.") % {"n": MAX_DAYS})
        return "today" if days == 0 else f"today{days:+d}"
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(_("Enter a date as YYYY-MM-DD, or today, today+7, today-30.")) from None


def parse_scalar(field: RecordField, raw: Any) -> Any:
    """One value for `field`, checked: its stored (JSON) form, or ValueError with a message."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValueError(_("Enter a value."))
    kind = field.kind
    if kind == FieldKind.TEXT:
        text = str(raw).strip()
        if len(text) > TEXT_VALUE_MAX:
            raise ValueError(_("Keep it under %(n)s characters.") % {"n": TEXT_VALUE_MAX})
        return text
    if kind == FieldKind.CHOICE:
        text = str(raw).strip()
        allowed = [value for value, _label in field.options]
        if text not in allowed:
            raise ValueError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(v for v in allowed if v) or "-"})
        return text
    if kind == FieldKind.NUMBER:
        if isinstance(raw, bool):
            raise ValueError(_("Enter a whole number."))
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValueError(_("Enter a whole number.")) from None
        if not number.is_finite() or number != number.to_integral_value() or abs(number) >= DECIMAL_LIMIT:
            raise ValueError(_("Enter a whole number."))
        return int(number)
    if kind == FieldKind.DECIMAL:
        if isinstance(raw, bool):
            raise ValueError(_("Enter a number."))
        try:
            number = Decimal(str(raw).strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(_("Enter a number.")) from None
        if not number.is_finite() or abs(number) >= DECIMAL_LIMIT:
            raise ValueError(_("Enter a number."))
        text = format(number.normalize(), "f")
        return "0" if text in ("-0", "") else text
    if kind in (FieldKind.DATE, FieldKind.DATETIME):
        return _parse_date_value(raw)
    if kind == FieldKind.BOOL:
        return _parse_bool(raw)
    if kind in (FieldKind.USER, FieldKind.TEAM):
        if isinstance(raw, bool):
            raise ValueError(_("Choose a user.") if kind == FieldKind.USER else _("Choose a team."))
        try:
            return int(str(raw).strip())
        except ValueError:
            raise ValueError(_("Choose a user.") if kind == FieldKind.USER else _("Choose a team.")) from None
    raise ValueError(_("This field cannot be compared."))


def resolve(field: RecordField, stored: Any, *, today: dt.date | None = None) -> Any:
    """A stored condition value as Python compares it with `read_value`: relative dates become dates."""
    if stored is None:
        return None
    if field.kind in (FieldKind.DATE, FieldKind.DATETIME):
        days = relative_days(str(stored))
        if days is not None:
            return (today or installation_today()) + dt.timedelta(days=days)
        return dt.date.fromisoformat(str(stored))
    if field.kind == FieldKind.DECIMAL:
        return Decimal(str(stored))
    if field.kind == FieldKind.NUMBER:
        return int(stored)
    return stored


# Showing values -------------------------------------------------------------------------------------


def display(field: RecordField, value: Any) -> str:
    """A normalised value (or a stored condition value) as people read it."""
    if is_empty(value):
        return "—"
    if isinstance(value, list):
        return ", ".join(display(field, item) for item in value)
    if field.kind == FieldKind.CHOICE:
        return field.choice_label(value)
    if field.kind == FieldKind.BOOL:
        return _("Yes") if value else _("No")
    if field.kind in (FieldKind.USER, FieldKind.TEAM):
        return _name_of(field.kind, value)
    if isinstance(value, dt.datetime):
        return timezone.localtime(value, timezone.get_default_timezone()).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str) and field.kind in (FieldKind.DATE, FieldKind.DATETIME):
        days = relative_days(value)
        if days is not None:
            if days == 0:
                return _("today")
            return _("today %(offset)s") % {"offset": f"{days:+d}"}
    return str(value)


def _name_of(kind: str, pk: Any) -> str:
    from guanxi.platform.identity.models import Team, User

    try:
        key = int(pk)
    except (TypeError, ValueError):
        return str(pk)
    if kind == FieldKind.USER:
        user = User.objects.filter(pk=key).first()
        return str(user) if user is not None else f"#{key}"
    team = Team.objects.filter(pk=key).first()
    return team.name if team is not None else f"#{key}"

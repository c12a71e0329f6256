"""What starts a rule: an event, a field changing to a value, a date being reached, or a schedule.

Trigger configurations (JSON, `Rule.trigger_config`):
- event:        {"event": "customer.owner_changed"} — any registered event about the rule's record type.
- field_change: {"field": "lifecycle_stage", "to": "dormant", "from": "active"} — "to" and "from" are
  optional (without "to", any change of the field). It listens to the record type's change event, whose
  payload reports `changes` ({field: [before, after]}); the creation of a record counts as a change from
  empty to its initial value (so "stage becomes dormant" also fires for a customer created dormant), unless
  "from" is given.
- date:         {"field": "birthday", "offset_days": 3, "direction": "before", "hour": 9, "yearly": true}
  — fires once per record and occurrence when the date plus or minus the offset is reached: date fields at
  `hour` o'clock of that day, date-time fields at that moment (checked every hour). `yearly` (date fields)
  repeats every year on the anniversary (birthdays); 29 February falls on 28 February in other years.
- schedule:     {"frequency": "weekly", "hour": 8, "weekday": 0} — daily, weekly (weekday 0 = Monday) or
  monthly (`day` 1-31; shorter months use their last day), at `hour` o'clock; the rule runs for every
  record that meets its conditions, once per slot.

Times are in the installation's time zone (settings.TIME_ZONE). Date and schedule occurrences before the
rule was switched on are never run; missed ones are caught up for DATE_LOOKBACK_DAYS / SCHEDULE_LOOKBACK.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.platform.automation.registry import FieldKind, RecordField, RecordType
from guanxi.platform.automation.values import (
    day_start,
    display,
    installation_today,
    local_date,
    normalise,
    parse_scalar,
    resolve,
)
from guanxi.platform.events.registry import Event, event_type

MAX_OFFSET_DAYS = 3650
DEFAULT_DATE_HOUR = 9
DATE_LOOKBACK_DAYS = 2
SCHEDULE_LOOKBACK = dt.timedelta(hours=24)


class TriggerKind(models.TextChoices):
    EVENT = "event", gettext_lazy("When an event happens")
    FIELD_CHANGE = "field_change", gettext_lazy("When a field changes to a value")
    DATE = "date", gettext_lazy("When a date is reached")
    SCHEDULE = "schedule", gettext_lazy("On a schedule")


class Frequency(models.TextChoices):
    DAILY = "daily", gettext_lazy("Every day")
    WEEKLY = "weekly", gettext_lazy("Every week")
    MONTHLY = "monthly", gettext_lazy("Every month")


class Direction(models.TextChoices):
    BEFORE = "before", gettext_lazy("days before")
    AFTER = "after", gettext_lazy("days after")


WEEKDAYS = (
    (0, gettext_lazy("Monday")),
    (1, gettext_lazy("Tuesday")),
    (2, gettext_lazy("Wednesday")),
    (3, gettext_lazy("Thursday")),
    (4, gettext_lazy("Friday")),
    (5, gettext_lazy("Saturday")),
    (6, gettext_lazy("Sunday")),
)


# Validation -----------------------------------------------------------------------------------------

SETTINGS: dict[TriggerKind, tuple[str, ...]] = {
    TriggerKind.EVENT: ("event",),
    TriggerKind.FIELD_CHANGE: ("field", "to", "from"),
    TriggerKind.DATE: ("field", "offset_days", "direction", "hour", "yearly"),
    TriggerKind.SCHEDULE: ("frequency", "hour", "weekday", "day"),
}


def _int_in(raw: Any, low: int, high: int) -> int | None:
    if isinstance(raw, bool) or raw in (None, ""):
        return None
    try:
        number = int(str(raw).strip())
    except ValueError:
        return None
    return number if low <= number <= high else None


def _as_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    return str(raw or "").strip().lower() in ("1", "true", "yes", "on")


def clean_trigger(
    kind: str, raw: Any, record_type: RecordType, fields: Mapping[str, RecordField]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The stored trigger configuration and the errors by field ("trigger.event", "trigger.hour"...)."""
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(f"trigger.{name}", []).append(message)

    if kind not in TriggerKind.values:
        return {}, {"trigger_kind": [_("Choose what starts the rule from the list.")]}
    config = dict(raw) if isinstance(raw, Mapping) else {}
    if raw not in (None, "") and not isinstance(raw, Mapping):
        return {}, {"trigger": [_("Send the trigger settings as an object.")]}
    cleaned: dict[str, Any] = {}
    if kind == TriggerKind.EVENT:
        name = str(config.get("event") or "")
        registered = event_type(name)
        if registered is None:
            fail("event", _("Choose an event from the list."))
        elif registered.record_type != record_type.key:
            fail(
                "event",
                _("“%(event)s” is about another kind of record (%(type)s), not %(label)s.")
                % {"event": name, "type": registered.record_type, "label": record_type.label},
            )
        cleaned["event"] = name
    elif kind == TriggerKind.FIELD_CHANGE:
        field = fields.get(str(config.get("field") or ""))
        if not record_type.change_event:
            fail("field", _("Changes of this kind of record are not reported; use another trigger."))
        elif field is None or field.change_key is None:
            fail("field", _("Choose a field whose changes are reported."))
        else:
            cleaned["field"] = field.path
            for end in ("to", "from"):
                value = config.get(end)
                if value in (None, "", []):
                    continue
                if field.multiple:
                    fail(end, _("For a multiple-choice field, a rule can only react to any change."))
                    continue
                try:
                    cleaned[end] = parse_scalar(field, value)
                except ValueError as exc:
                    fail(end, str(exc))
    elif kind == TriggerKind.DATE:
        field = fields.get(str(config.get("field") or ""))
        if field is None or field.kind not in (FieldKind.DATE, FieldKind.DATETIME):
            fail("field", _("Choose a date field."))
        else:
            cleaned["field"] = field.path
        offset = _int_in(config.get("offset_days", 0), 0, MAX_OFFSET_DAYS)
        if offset is None:
            fail("offset_days", _("Enter a number of days from 0 to %(n)s.") % {"n": MAX_OFFSET_DAYS})
        cleaned["offset_days"] = offset
        direction = str(config.get("direction") or Direction.BEFORE)
        if direction not in Direction.values:
            fail("direction", _("Choose before or after."))
        cleaned["direction"] = direction
        if field is not None and field.kind == FieldKind.DATE:
            hour = _int_in(config.get("hour", DEFAULT_DATE_HOUR), 0, 23)
            if hour is None:
                fail("hour", _("Enter an hour from 0 to 23."))
            cleaned["hour"] = hour
            cleaned["yearly"] = _as_bool(config.get("yearly"))
        elif _as_bool(config.get("yearly")):
            fail("yearly", _("Only date fields repeat every year."))
    elif kind == TriggerKind.SCHEDULE:
        frequency = str(config.get("frequency") or "")
        if frequency not in Frequency.values:
            fail("frequency", _("Choose daily, weekly or monthly."))
        cleaned["frequency"] = frequency
        hour = _int_in(config.get("hour"), 0, 23)
        if hour is None:
            fail("hour", _("Enter the hour the rule runs at, from 0 to 23."))
        cleaned["hour"] = hour
        if frequency == Frequency.WEEKLY:
            weekday = _int_in(config.get("weekday"), 0, 6)
            if weekday is None:
                fail("weekday", _("Choose a day of the week."))
            cleaned["weekday"] = weekday
        if frequency == Frequency.MONTHLY:
            day = _int_in(config.get("day"), 1, 31)
            if day is None:
                fail("day", _("Enter a day of the month from 1 to 31."))
            cleaned["day"] = day
    for name in sorted(set(config) - set(SETTINGS[TriggerKind(kind)])):
        fail(name, _("Unknown setting for this trigger."))
    return cleaned, errors


def listens_to(kind: str, config: Mapping[str, Any], record_type: RecordType) -> list[str]:
    """The events that may start a rule (none for date and schedule rules, which the jobs run)."""
    if kind == TriggerKind.EVENT:
        return [str(config["event"])]
    if kind == TriggerKind.FIELD_CHANGE:
        return [name for name in (record_type.change_event, record_type.create_event) if name]
    return []


def allows_changed(kind: str, config: Mapping[str, Any], record_type: RecordType) -> bool:
    """Whether conditions may test "changed": only rules started by a change (or creation) of the record."""
    if kind == TriggerKind.FIELD_CHANGE:
        return True
    return (
        kind == TriggerKind.EVENT
        and bool(record_type.change_event)
        and config.get("event")
        in (
            record_type.change_event,
            record_type.create_event,
        )
    )


def describe_trigger(kind: str, config: Mapping[str, Any], fields: Mapping[str, RecordField]) -> str:
    """The trigger in words: "When lifecycle stage changes to Dormant", "Every Monday at 08:00"."""
    if kind == TriggerKind.EVENT:
        registered = event_type(str(config.get("event", "")))
        return _("When: %(event)s") % {"event": registered.label if registered else config.get("event", "")}
    if kind == TriggerKind.FIELD_CHANGE:
        field = fields.get(str(config.get("field", "")))
        label = field.label if field else config.get("field", "")
        if field is not None and config.get("to") is not None:
            return _("When %(field)s changes to %(value)s") % {"field": label, "value": display(field, config["to"])}
        return _("When %(field)s changes") % {"field": label}
    if kind == TriggerKind.DATE:
        field = fields.get(str(config.get("field", "")))
        label = field.label if field else config.get("field", "")
        days = config.get("offset_days", 0)
        if days == 0:
            text = _("On %(field)s") % {"field": label}
        elif config.get("direction") == Direction.AFTER:
            text = _("%(days)s days after %(field)s") % {"days": days, "field": label}
        else:
            text = _("%(days)s days before %(field)s") % {"days": days, "field": label}
        if config.get("yearly"):
            text += _(", every year")
        if config.get("hour") is not None:
            text += _(", at %(hour)02d:00") % {"hour": config["hour"]}
        return text
    if kind == TriggerKind.SCHEDULE:
        hour = config.get("hour") or 0
        if config.get("frequency") == Frequency.WEEKLY:
            weekday = dict(WEEKDAYS).get(config.get("weekday") or 0, "")
            return _("Every %(weekday)s at %(hour)02d:00") % {"weekday": weekday, "hour": hour}
        if config.get("frequency") == Frequency.MONTHLY:
            return _("Every month on day %(day)s at %(hour)02d:00") % {"day": config.get("day"), "hour": hour}
        return _("Every day at %(hour)02d:00") % {"hour": hour}
    return ""


# Field-change triggers --------------------------------------------------------------------------------


def same_value(field: RecordField, actual: Any, expected: Any) -> bool:
    if actual is None:
        return False
    if field.kind == FieldKind.DATETIME and isinstance(actual, dt.datetime):
        actual = local_date(actual)
    return bool(actual == expected)


def field_change_fits(
    config: Mapping[str, Any], field: RecordField, record_type: RecordType, event: Event, record: Any
) -> bool:
    """Whether `event` is the field changing as the trigger asks (a creation compares the loaded record)."""
    to = resolve(field, config["to"]) if config.get("to") is not None else None
    if event.name == record_type.change_event:
        changes = event.payload.get("changes") or {}
        if field.change_key not in changes:
            return False
        before, after = changes[field.change_key]
        if to is not None and not same_value(field, normalise(field, after), to):
            return False
        return config.get("from") is None or same_value(field, normalise(field, before), resolve(field, config["from"]))
    if event.name == record_type.create_event and record is not None and config.get("from") is None:
        from guanxi.platform.automation.values import read_value

        value = read_value(record, field)
        return value is not None and (to is None or same_value(field, value, to))
    return False


# Date triggers ------------------------------------------------------------------------------------------


def _offset(config: Mapping[str, Any]) -> dt.timedelta:
    days = int(config.get("offset_days") or 0)
    return dt.timedelta(days=days if config.get("direction") == Direction.AFTER else -days)


def date_window(now: dt.datetime, active_since: dt.datetime | None) -> list[dt.date]:
    """The days whose occurrences the hourly job looks at: today and the missed ones before it."""
    today = local_date(now)
    first = today - dt.timedelta(days=DATE_LOOKBACK_DAYS)
    if active_since is not None:
        first = max(first, local_date(active_since))
    return [first + dt.timedelta(days=n) for n in range((today - first).days + 1)]


def date_day_q(
    config: Mapping[str, Any], field: RecordField, day: dt.date, now: dt.datetime, active_since: dt.datetime | None
) -> Q | None:
    """Records whose date occurrence falls on `day` and has come by `now` (after the rule was switched
    on); None when there is none on that day yet."""
    lookup, offset = field.orm_lookup, _offset(config)
    if field.kind == FieldKind.DATE:
        moment = day_start(day) + dt.timedelta(hours=int(config.get("hour") or 0))
        if moment > now or (active_since is not None and moment < active_since):
            return None
        value = day - offset
        if not config.get("yearly"):
            return Q(**{lookup: value.isoformat() if field.in_json else value})
        days = [value]
        if value.month == 2 and value.day == 28 and not calendar.isleap(value.year):
            days.append(dt.date(2000, 2, 29))
        q = Q()
        for anniversary in days:
            if field.in_json:
                q |= Q(**{f"{lookup}__endswith": f"-{anniversary:%m-%d}"})
            else:
                q |= Q(**{f"{lookup}__month": anniversary.month, f"{lookup}__day": anniversary.day})
        return q
    start, end = day_start(day), min(day_start(day + dt.timedelta(days=1)), now)
    if active_since is not None:
        start = max(start, active_since)
    if start >= end:
        return None
    return Q(**{f"{lookup}__gte": start - offset, f"{lookup}__lt": end - offset})


def date_occurrence(config: Mapping[str, Any], field: RecordField, value: Any, now: dt.datetime) -> dt.datetime | None:
    """When the rule runs (or ran) for a record whose date field holds `value`: for yearly rules the
    occurrence of this year's anniversary, or next year's once it has passed."""
    if value is None:
        return None
    offset = _offset(config)
    if field.kind == FieldKind.DATETIME:
        return value + offset
    hour = dt.timedelta(hours=int(config.get("hour") or 0))
    if not config.get("yearly"):
        return day_start(value + offset) + hour
    today = local_date(now)
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            anniversary = value.replace(year=year)
        except ValueError:  # 29 February in a common year
            anniversary = dt.date(year, 2, 28)
        moment = day_start(anniversary + offset) + hour
        if local_date(moment) >= today:
            return moment
    return None


# Schedules ------------------------------------------------------------------------------------------------


def _at(day: dt.date, hour: int) -> dt.datetime:
    return day_start(day) + dt.timedelta(hours=hour)


def _month_day(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def latest_slot(config: Mapping[str, Any], now: dt.datetime) -> dt.datetime:
    """The most recent scheduled time at or before `now`."""
    hour = int(config.get("hour") or 0)
    today = local_date(now)
    frequency = config.get("frequency")
    if frequency == Frequency.WEEKLY:
        day = today - dt.timedelta(days=(today.weekday() - int(config.get("weekday") or 0)) % 7)
        slot = _at(day, hour)
        return slot if slot <= now else _at(day - dt.timedelta(days=7), hour)
    if frequency == Frequency.MONTHLY:
        wanted = int(config.get("day") or 1)
        slot = _at(_month_day(today.year, today.month, wanted), hour)
        if slot <= now:
            return slot
        previous = today.replace(day=1) - dt.timedelta(days=1)
        return _at(_month_day(previous.year, previous.month, wanted), hour)
    slot = _at(today, hour)
    return slot if slot <= now else _at(today - dt.timedelta(days=1), hour)


def next_slot(config: Mapping[str, Any], now: dt.datetime) -> dt.datetime:
    """The first scheduled time after `now`."""
    hour = int(config.get("hour") or 0)
    today = local_date(now)
    frequency = config.get("frequency")
    if frequency == Frequency.WEEKLY:
        day = today + dt.timedelta(days=(int(config.get("weekday") or 0) - today.weekday()) % 7)
        slot = _at(day, hour)
        return slot if slot > now else _at(day + dt.timedelta(days=7), hour)
    if frequency == Frequency.MONTHLY:
        wanted = int(config.get("day") or 1)
        slot = _at(_month_day(today.year, today.month, wanted), hour)
        if slot > now:
            return slot
        following = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return _at(_month_day(following.year, following.month, wanted), hour)
    slot = _at(today, hour)
    return slot if slot > now else _at(today + dt.timedelta(days=1), hour)


def due_slot(config: Mapping[str, Any], now: dt.datetime, active_since: dt.datetime | None) -> dt.datetime | None:
    """The slot the schedule job should run now: the latest one, unless it came before the rule was switched
    on or more than SCHEDULE_LOOKBACK ago (a missed slot is caught up for a day, then dropped)."""
    slot = latest_slot(config, now)
    if active_since is not None and slot < active_since:
        return None
    if slot < now - SCHEDULE_LOOKBACK:
        return None
    return slot


def slot_key(slot: dt.datetime) -> str:
    return "schedule:" + timezone.localtime(slot, timezone.get_default_timezone()).strftime("%Y-%m-%dT%H:%M")


def date_key(day: dt.date) -> str:
    return f"date:{day.isoformat()}"


def today() -> dt.date:
    return installation_today()

"""Reading typed values out of text the way people type them in Chinese spreadsheets and forms: numbers and
amounts (`1,234.50`, `￥1.5万`, `(200)`), dates (`2024-01-05`, `2024/1/5`, `2024年1月5日`, Excel serial
numbers), yes/no answers (`是`/`否`, `Y`/`N`, `1`/`0`) and choices (by value or by label, in Chinese or English).

Each parser takes the raw cell (text, number, or an already typed value), returns the value, and raises only
`ValidationFailed` naming `field`, with a translated message; importers, forms and services share them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.text import clean_text

# Numbers ---------------------------------------------------------------------------------------------------

# Larger amounts are typing mistakes, and would not fit a DecimalField(max_digits=17, decimal_places=2) column.
MAX_NUMBER = Decimal("1e15")
_UNITS = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}
_CURRENCY_MARKS = ("¥", "￥", "元", "RMB", "CNY", "rmb", "cny")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?", re.ASCII)
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$", re.ASCII)


def _number_text(raw: str) -> tuple[str, Decimal]:
    """The digits of an amount without currency marks, brackets or a 万/亿 unit; and the unit's factor."""
    text = clean_text(raw).replace(" ", "")
    negative = text.startswith("(") and text.endswith(")")  # accountants write (200) for -200
    if negative:
        text = text[1:-1]
    for mark in _CURRENCY_MARKS:
        text = text.replace(mark, "")
    factor = Decimal(1)
    if text[-1:] in _UNITS:
        factor, text = _UNITS[text[-1]], text[:-1]
    if "," in text:
        if not _GROUPED.match(text):  # "1,2,3" is not a number; "1,234,567.5" is
            return "x", factor
        text = text.replace(",", "")
    if negative:
        text = "x" if text.startswith(("-", "+")) else f"-{text}"
    return text, factor


def parse_decimal(raw: Any, *, field: str = "value") -> Decimal:
    """A finite Decimal smaller than a million billion in size. Takes Decimal, int, float (by its shortest
    repr), or text with thousands separators, full-width digits, ¥/元/RMB, a 万 or 亿 unit, or (brackets)."""
    if isinstance(raw, bool):
        raise ValidationFailed.for_field(field, _("Enter a number."))
    if isinstance(raw, Decimal):
        number = raw
    elif isinstance(raw, int | float):
        number = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    else:
        text, factor = _number_text(str(raw) if raw is not None else "")
        if not _PLAIN_NUMBER.fullmatch(text):
            raise ValidationFailed.for_field(field, _("Enter a number."))
        try:
            with localcontext() as exact:  # as many digits as typed: 万 and 亿 must not round
                exact.prec = len(text) + 10
                number = Decimal(text) * factor
        except InvalidOperation:
            raise ValidationFailed.for_field(field, _("Enter a number.")) from None
    if not number.is_finite() or abs(number) >= MAX_NUMBER:
        raise ValidationFailed.for_field(field, _("Enter a number smaller than a million billion."))
    return abs(number) if number.is_zero() else number  # -0 is 0


# Dates -----------------------------------------------------------------------------------------------------

MIN_YEAR, MAX_YEAR = 1900, 2999
# Excel's day 1 is 1900-01-01 and it counts a 29 February 1900 that never was (serial 60), so from day 61 on
# the serial is the number of days since 1899-12-30.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_LAST = (dt.date(MAX_YEAR, 12, 31) - _EXCEL_EPOCH).days
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$", re.ASCII),  # 2024-01-05, 2024/1/5, 2024.1.5
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$", re.ASCII),  # 2024年1月5日
    re.compile(r"^(\d{4})(\d{2})(\d{2})$", re.ASCII),  # 20240105
)
_TIME_PART = re.compile(r"^(.+?)(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$", re.ASCII)
_SERIAL = re.compile(r"^\d{1,7}$", re.ASCII)


def excel_serial_to_date(serial: int) -> dt.date:
    """The date an Excel (1900 date system) serial number shows; serial 60, Excel's 1900-02-29, is refused."""
    if serial < 1 or serial == 60 or serial > _EXCEL_LAST:
        raise ValueError(serial)
    return _EXCEL_EPOCH + dt.timedelta(days=serial + (1 if serial < 60 else 0))


def date_to_excel_serial(day: dt.date) -> int:
    """The serial number Excel shows for `day` (1900 date system); the inverse of excel_serial_to_date."""
    days = (day - _EXCEL_EPOCH).days
    return days - 1 if days <= 60 else days


def _date_error(field: str) -> ValidationFailed:
    return ValidationFailed.for_field(field, _("Enter a date such as 2024-01-05, 2024/1/5 or 2024年1月5日."))


def _checked_year(day: dt.date, field: str) -> dt.date:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValidationFailed.for_field(
            field, _("Enter a date between %(first)s and %(last)s.") % {"first": MIN_YEAR, "last": MAX_YEAR}
        )
    return day


def parse_date(raw: Any, *, field: str = "date") -> dt.date:
    """A date from a date or datetime, an Excel serial number (a whole number, or its text), or text:
    2024-01-05, 2024/1/5, 2024.1.5, 2024年1月5日, 20240105, each optionally followed by a time of day."""
    if isinstance(raw, dt.datetime):
        return _checked_year(raw.date(), field)
    if isinstance(raw, dt.date):
        return _checked_year(raw, field)
    if isinstance(raw, bool):
        raise _date_error(field)
    if isinstance(raw, int | float | Decimal):
        number = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
        if not number.is_finite() or number != number.to_integral_value():
            raise _date_error(field)
        try:
            return excel_serial_to_date(int(number))
        except ValueError:
            raise _date_error(field) from None
    text = clean_text(str(raw) if raw is not None else "")
    if _SERIAL.match(text):
        return parse_date(int(text), field=field)
    match = _TIME_PART.match(text)
    day_text = match.group(1).strip() if match else text
    for pattern in _DATE_PATTERNS:
        found = pattern.match(day_text)
        if found:
            year, month, day = (int(part) for part in found.groups())
            try:
                return _checked_year(dt.date(year, month, day), field)
            except ValueError:
                raise _date_error(field) from None
    raise _date_error(field)


# Yes / no --------------------------------------------------------------------------------------------------

TRUE_WORDS = frozenset({"是", "对", "有", "真", "yes", "y", "true", "t", "1", "on", "✓", "√"})
FALSE_WORDS = frozenset({"否", "不", "不是", "无", "没有", "假", "no", "n", "false", "f", "0", "off", "✗", "×"})


def parse_bool(raw: Any, *, field: str = "value") -> bool:
    """True or False from a bool, 1/0, or a word: 是/否, 有/无, yes/no, Y/N, true/false, on/off, ✓/✗."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    text = clean_text(str(raw) if raw is not None else "").lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValidationFailed.for_field(field, _("Answer yes or no (是 or 否)."))


# Choices ---------------------------------------------------------------------------------------------------


def _spellings(value: str, label: Any) -> set[str]:
    """The ways a person may write a choice: its value and its label in Chinese and in English."""
    found = {value.lower()}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            found.add(clean_text(str(label)).lower())
    return found


def parse_choice(raw: Any, choices: type[models.TextChoices] | Iterable[str], *, field: str = "value") -> str:
    """The value of the choice `raw` names by its value or its label (Chinese or English), ignoring case."""
    pairs = choices.choices if isinstance(choices, type) else [(value, value) for value in choices]
    text = clean_text(str(raw) if raw is not None else "").lower()
    if text:
        for value, label in pairs:
            if text in _spellings(str(value), label):
                return str(value)
    expected = ", ".join(str(value) for value, _label in pairs)
    raise ValidationFailed.for_field(field, _("Choose one of: %(expected)s.") % {"expected": expected})

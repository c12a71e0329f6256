"""Property-based tests (hypothesis) of the parsers an importer uses (platform/core/parsing.py): whatever a
cell holds, they answer a value or ValidationFailed naming the field, and what they format they read back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from guanxi.customers.models.choices import LifecycleStage
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.parsing import (
    FALSE_WORDS,
    MAX_NUMBER,
    TRUE_WORDS,
    date_to_excel_serial,
    excel_serial_to_date,
    parse_bool,
    parse_choice,
    parse_date,
    parse_decimal,
)

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ANY_CELL = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.text(alphabet="0123456789,.-+()年月日号/ eE万亿¥元０１２３４５６７８９，．", max_size=20),
    st.dates(),
)
AMOUNTS = st.decimals(min_value=Decimal("-1e14"), max_value=Decimal("1e14"), places=2, allow_nan=False)
DAYS = st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2999, 12, 31))


def to_fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _only_validation_failed(parse: Any, raw: Any, field: str) -> Any:
    try:
        return parse(raw, field=field)
    except ValidationFailed as exc:
        assert list(exc.fields) == [field]
        assert all(message for message in exc.fields[field])
        return None


# --- numbers -----------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(ANY_CELL)
@example("1,2,3")
@example("(-5)")
@example("1e999")
@example("²")
@example("")
def test_parse_decimal_answers_a_bounded_number_or_validation_failed(raw):
    number = _only_validation_failed(parse_decimal, raw, "amount")
    if number is not None:
        assert number.is_finite()
        assert abs(number) < MAX_NUMBER
        assert parse_decimal(number) == number  # idempotent
        assert parse_decimal(str(number)) == number


@PROPERTY_SETTINGS
@given(AMOUNTS, st.booleans())
def test_amounts_as_spreadsheets_show_them_read_back(amount, fullwidth):
    for shown in (f"{amount:,.2f}", f"{amount:.2f}", f"¥{amount:,.2f}", f"{amount:.2f}元", f" {amount} "):
        typed = to_fullwidth(shown) if fullwidth else shown
        assert parse_decimal(typed) == amount, typed


@PROPERTY_SETTINGS
@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=2, allow_nan=False))
def test_accounting_brackets_and_chinese_units(amount):
    assert parse_decimal(f"({amount:,.2f})") == -amount
    assert parse_decimal(f"{amount}万") == amount * 10_000
    assert parse_decimal(f"{amount / 1000}亿") == amount * 100_000


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1,234.50", "1234.50"), ("￥1.5万", "15000.0"), ("(200)", "-200"), ("RMB 88", "88"), (3, "3"), (0.1, "0.1"),
     ("-0", "0"), ("１２３", "123"), ("2.5e3", "2.5e3")],
)  # fmt: skip
def test_parse_decimal_examples(raw, expected):
    assert parse_decimal(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", ["", "abc", "1,23", "1.2.3", "--1", "(-1)", True, None, float("inf"), "1e15", "NaN"])
def test_parse_decimal_refuses_with_a_message_for_the_field(raw):
    with pytest.raises(ValidationFailed) as exc:
        parse_decimal(raw, field="amount")
    assert list(exc.value.fields) == ["amount"]


# --- dates -------------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(ANY_CELL)
@example("2024-02-30")
@example("60")
@example("0")
@example("٢٠٢٤-01-05")
@example("99999999")
def test_parse_date_answers_a_date_in_range_or_validation_failed(raw):
    day = _only_validation_failed(parse_date, raw, "birthday")
    if day is not None:
        assert isinstance(day, dt.date) and not isinstance(day, dt.datetime)
        assert 1900 <= day.year <= 2999
        assert parse_date(day) == day
        assert parse_date(day.isoformat()) == day


@PROPERTY_SETTINGS
@given(DAYS, st.booleans())
def test_dates_in_every_spreadsheet_format_read_back(day, fullwidth):
    shown = [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month:02d}.{day.day:02d}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day:%Y%m%d}",
        f"{day.isoformat()} 00:00:00",
        str(date_to_excel_serial(day)),
    ]
    for text in shown:
        typed = to_fullwidth(text) if fullwidth else text
        assert parse_date(typed) == day, typed
    assert parse_date(date_to_excel_serial(day)) == day
    assert parse_date(float(date_to_excel_serial(day))) == day


@PROPERTY_SETTINGS
@given(st.integers(min_value=1, max_value=date_to_excel_serial(dt.date(2999, 12, 31))))
def test_excel_serials_round_trip(serial):
    if serial == 60:  # Excel's 1900-02-29, a day that never was
        with pytest.raises(ValueError):
            excel_serial_to_date(serial)
        return
    assert date_to_excel_serial(excel_serial_to_date(serial)) == serial


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2024-01-05", dt.date(2024, 1, 5)), ("2024/1/5", dt.date(2024, 1, 5)), ("2024年1月5日", dt.date(2024, 1, 5)),
     (45296, dt.date(2024, 1, 5)), ("45296", dt.date(2024, 1, 5)), (1, dt.date(1900, 1, 1)),
     (61, dt.date(1900, 3, 1)), ("2024-01-05 13:45", dt.date(2024, 1, 5)),
     (dt.datetime(2024, 1, 5, 9), dt.date(2024, 1, 5))],
)  # fmt: skip
def test_parse_date_examples(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["2024-13-01", "2024-02-30", "1899-12-31", "3000-01-01", 60, 45296.5, "", "昨天", True])
def test_parse_date_refuses_with_a_message_for_the_field(raw):
    with pytest.raises(ValidationFailed) as exc:
        parse_date(raw, field="birthday")
    assert list(exc.value.fields) == ["birthday"]


# --- yes / no ----------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(ANY_CELL | st.sampled_from(sorted(TRUE_WORDS | FALSE_WORDS)))
def test_parse_bool_answers_a_bool_or_validation_failed(raw):
    answer = _only_validation_failed(parse_bool, raw, "vip")
    if answer is not None:
        assert isinstance(answer, bool)
        assert parse_bool(answer) is answer
        assert parse_bool(str(answer)) is answer


@PROPERTY_SETTINGS
@given(
    st.sampled_from(sorted(TRUE_WORDS)),
    st.sampled_from(sorted(FALSE_WORDS)),
    st.sampled_from([str.upper, str.title, str]),
)
def test_yes_and_no_words_in_any_case_and_width(yes, no, case):
    assert parse_bool(f" {to_fullwidth(case(yes))} ") is True
    assert parse_bool(case(no)) is False


def test_true_and_false_words_do_not_overlap():
    assert not TRUE_WORDS & FALSE_WORDS


# --- choices -----------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(st.sampled_from(LifecycleStage.values), st.sampled_from(["zh-hans", "en"]), st.booleans())
def test_a_choice_reads_back_from_its_value_or_its_label(value, language, upper):
    with translation.override(language):
        label = str(LifecycleStage(value).label)
    assert parse_choice(value, LifecycleStage) == value
    assert parse_choice(label.upper() if upper else label, LifecycleStage) == value
    assert parse_choice(parse_choice(label, LifecycleStage), LifecycleStage) == value


@PROPERTY_SETTINGS
@given(ANY_CELL)
def test_parse_choice_answers_a_listed_value_or_validation_failed(raw):
    value = _only_validation_failed(lambda r, field: parse_choice(r, LifecycleStage, field=field), raw, "stage")
    if value is not None:
        assert value in LifecycleStage.values


def test_parse_choice_names_the_choices_in_its_message():
    with pytest.raises(ValidationFailed) as exc:
        parse_choice("vip", ["gold", "silver"], field="tier")
    assert exc.value.fields == {"tier": ["Choose one of: gold, silver."]}
    assert parse_choice(" Gold ", ["gold", "silver"]) == "gold"

"""Formula injection: exported cells never start a formula, numbers and phone numbers stay as they are,
and an importer gets back exactly the text that was exported."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from guanxi.platform.dataio.spreadsheet_safety import (
    FORMULA_TRIGGERS,
    is_plain_number,
    neutralise_cell,
    neutralise_row,
    restore_cell,
)

# Text that leans towards the interesting starts: triggers, quotes, digits, signs.
_starts = st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'", "''", "", "1", "-1", "+86"])
cell_text = st.builds(lambda start, rest: start + rest, _starts, st.text(max_size=30))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.example","点击")', '\'=HYPERLINK("http://evil.example","点击")'),
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("'=1+1", "''=1+1"),
        ("-", "'-"),
        ("+86 138 1234 5678", "'+86 138 1234 5678"),
        ("-12.5", "-12.5"),
        ("+8613812345678", "+8613812345678"),
        ("-1e5", "-1e5"),
        ("+.5", "+.5"),
        ("张伟", "张伟"),
        ("13812345678", "13812345678"),
        ("a=b", "a=b"),
        ("'quoted", "'quoted"),
        ("", ""),
    ],
)
def test_cells_are_written_as_the_rule_says(value: str, written: str) -> None:
    assert neutralise_cell(value) == written
    assert restore_cell(written) == value


@pytest.mark.parametrize("value", [12, -12.5, Decimal("-3.20"), None, True, dt.date(2024, 5, 1)])
def test_values_that_are_not_text_pass_unchanged(value: object) -> None:
    assert neutralise_cell(value) is value
    assert restore_cell(value) is value


def test_a_row_is_neutralised_cell_by_cell() -> None:
    assert neutralise_row(["=1", 5, "-7", "ok"]) == ["'=1", 5, "-7", "ok"]


@given(cell_text)
@example("=")
@example("'")
@example("''=1")
def test_a_written_cell_never_starts_a_formula_unless_it_is_a_plain_number(value: str) -> None:
    written = neutralise_cell(value)
    assert isinstance(written, str)
    assert not written.startswith(FORMULA_TRIGGERS) or is_plain_number(written)


@given(cell_text)
def test_restoring_a_written_cell_gives_back_the_original(value: str) -> None:
    assert restore_cell(neutralise_cell(value)) == value


@given(cell_text)
def test_at_most_one_quote_is_added_and_only_in_front(value: str) -> None:
    written = neutralise_cell(value)
    assert written in (value, "'" + value)


@given(st.one_of(st.integers(), st.decimals(allow_nan=False, allow_infinity=False)).map(str))
def test_numbers_written_as_text_stay_unchanged(value: str) -> None:
    assert neutralise_cell(value) == value


@given(st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True))
def test_e164_phone_numbers_stay_unchanged(value: str) -> None:
    assert neutralise_cell(value) == value

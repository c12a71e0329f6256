"""Formula injection ("CSV injection"): cell text that a spreadsheet program would run as a formula.

Excel, WPS and LibreOffice treat a cell that starts with `=`, `+`, `-` or `@` as a formula, and a
leading tab or carriage return can hide such a start; a formula like `=HYPERLINK(...)` or a DDE call
in an exported customer name would run on the reader's computer. Every CSV and XLSX writer passes each
cell through `neutralise_cell`; every importer of such files passes each cell through `restore_cell`.

The rule, for text cells only (numbers, dates, None and booleans pass unchanged):
1. Text that is one plain number in ordinary notation stays as it is: `-12.5`, `+8613812345678`
   (an E.164 phone number), `1e5`. A program reads those as numbers, never as a formula.
2. Other text that starts with `=`, `+`, `-`, `@`, tab or carriage return gets a single quote in front
   (`'=1+1`), which spreadsheet programs show as text. So does text that starts with quotes followed by
   such text (`'=x` -> `''=x`), so that `restore_cell` can undo exactly what was added.
`restore_cell(neutralise_cell(x)) == x` for every text `x`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)

Cell = TypeVar("Cell")


def is_plain_number(text: str) -> bool:
    """Whether `text` is one number in ordinary notation (ASCII digits, optional sign, point, exponent)."""
    return _PLAIN_NUMBER.fullmatch(text) is not None


def needs_quote(text: str) -> bool:
    """Whether `text` must get a leading quote to be shown as text (see the module docstring)."""
    stripped = text.lstrip(QUOTE)
    if not stripped.startswith(FORMULA_TRIGGERS):
        return False
    return bool(len(stripped) < len(text) or not is_plain_number(stripped))


def neutralise_cell(value: Cell) -> Cell | str:
    """The value to write into a CSV or XLSX cell: text that could run as a formula gets a leading quote."""
    if isinstance(value, str) and needs_quote(value):
        return QUOTE + value
    return value


def restore_cell(value: Cell) -> Cell | str:
    """The original text of a cell read from a file this application wrote (removes the added quote)."""
    if isinstance(value, str) and value.startswith(QUOTE) and needs_quote(value[1:]):
        return value[1:]
    return value


def neutralise_row(values: Iterable[Cell]) -> list[Cell | str]:
    """Every cell of a row through `neutralise_cell`."""
    return [neutralise_cell(value) for value in values]

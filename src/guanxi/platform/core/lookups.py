"""The `prefix` lookup: "starts with", written so that each database answers it from a plain index.

Django's `startswith` is `LIKE 'x%'` everywhere. PostgreSQL serves that from the `varchar_pattern_ops`
(`*_like`) index Django adds to indexed text columns, but SQLite's LIKE is case-insensitive and never uses
an ordinary (BINARY) index, so every prefix search scanned the table. `prefix` keeps LIKE on PostgreSQL
and becomes the range `col >= 'x' AND col < 'x' || U+10FFFF` on SQLite, which a BINARY index answers
exactly (every string that starts with x sorts between those two bounds, byte-wise).

Matching is case-sensitive on both: search columns are stored normalised (lower-case pinyin, initials,
email keys, reversed phone digits), and Chinese names have no case.
"""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Lookup, TextField

TOP_CHARACTER = "\U0010ffff"


class Prefix(Lookup):
    """`field__prefix="zh"`: the value starts with "zh" (case-sensitive; a string value, not an expression)."""

    lookup_name = "prefix"
    prepare_rhs = False

    def _value(self) -> str:
        if not isinstance(self.rhs, str):
            raise TypeError("The prefix lookup takes a string.")
        return self.rhs

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        pattern = f"{connection.ops.prep_for_like_query(self._value())}%"
        return f"{lhs_sql} LIKE %s", (*lhs_params, pattern)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        value = self._value()
        return f"({lhs_sql} >= %s AND {lhs_sql} < %s)", (*lhs_params, value, *lhs_params, value + TOP_CHARACTER)


def register_lookups() -> None:
    """Called once from the core app's ready()."""
    for field in (CharField, TextField):
        field.register_lookup(Prefix)

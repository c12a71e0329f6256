"""Rule conditions: a JSON tree of field comparisons joined by "all" (and) / "any" (or), nested freely.

    {"all": [
        {"field": "lifecycle_stage", "op": "eq", "value": "dormant"},
        {"any": [{"field": "email_consent", "op": "eq", "value": true},
                 {"field": "custom_fields.tier", "op": "in", "value": ["gold", "silver"]}]}
    ]}

`clean_conditions` checks a tree against the record type's fields when a rule is saved; every problem is
reported at its place: the leaf at index 1 of the top group is "conditions.1", so a bad value there is
{"conditions.1.value": [...]}, and a leaf inside a nested group is "conditions.1.0". An empty tree ({})
always holds.

`evaluate` tests a tree on a loaded record and reports every leaf with the record's actual value (dry runs
and the run log show them); `conditions_q` turns what it can of a tree into an ORM filter that selects a
superset of the matching records, so the schedule and date jobs narrow records in SQL before the exact
test in Python. Datetimes are compared by their day in the installation's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.platform.automation.registry import FieldKind, RecordField
from guanxi.platform.automation.values import (
    day_start,
    display,
    installation_today,
    is_empty,
    local_date,
    parse_scalar,
    read_value,
    resolve,
)

MAX_DEPTH = 5
MAX_LEAVES = 50
MAX_LIST_VALUES = 100


class Operator(models.TextChoices):
    EQ = "eq", gettext_lazy("is")
    NE = "ne", gettext_lazy("is not")
    GT = "gt", gettext_lazy("is greater than")
    GTE = "gte", gettext_lazy("is at least")
    LT = "lt", gettext_lazy("is less than")
    LTE = "lte", gettext_lazy("is at most")
    CONTAINS = "contains", gettext_lazy("contains")
    IN = "in", gettext_lazy("is one of")
    NOT_IN = "not_in", gettext_lazy("is none of")
    IS_EMPTY = "is_empty", gettext_lazy("is empty")
    IS_NOT_EMPTY = "is_not_empty", gettext_lazy("is not empty")
    CHANGED = "changed", gettext_lazy("changed")


class Match(models.TextChoices):
    ALL = "all", gettext_lazy("All of")
    ANY = "any", gettext_lazy("Any of")


Op = Operator
VALUELESS = frozenset({Op.IS_EMPTY, Op.IS_NOT_EMPTY, Op.CHANGED})
LIST_OPERATORS = frozenset({Op.IN, Op.NOT_IN})
ORDERING = frozenset({Op.GT, Op.GTE, Op.LT, Op.LTE})
_EMPTINESS = (Op.IS_EMPTY, Op.IS_NOT_EMPTY, Op.CHANGED)
_OPERATORS: dict[str, tuple[str, ...]] = {
    FieldKind.TEXT: (Op.EQ, Op.NE, Op.CONTAINS, Op.IN, Op.NOT_IN, *_EMPTINESS),
    FieldKind.CHOICE: (Op.EQ, Op.NE, Op.IN, Op.NOT_IN, *_EMPTINESS),
    FieldKind.NUMBER: (Op.EQ, Op.NE, Op.GT, Op.GTE, Op.LT, Op.LTE, Op.IN, Op.NOT_IN, *_EMPTINESS),
    FieldKind.DECIMAL: (Op.EQ, Op.NE, Op.GT, Op.GTE, Op.LT, Op.LTE, *_EMPTINESS),
    FieldKind.DATE: (Op.EQ, Op.NE, Op.GT, Op.GTE, Op.LT, Op.LTE, *_EMPTINESS),
    FieldKind.DATETIME: (Op.EQ, Op.NE, Op.GT, Op.GTE, Op.LT, Op.LTE, *_EMPTINESS),
    FieldKind.BOOL: (Op.EQ, *_EMPTINESS),
    FieldKind.USER: (Op.EQ, Op.NE, Op.IN, Op.NOT_IN, *_EMPTINESS),
    FieldKind.TEAM: (Op.EQ, Op.NE, Op.IN, Op.NOT_IN, *_EMPTINESS),
}
_MULTIPLE_CHOICE_OPERATORS = (Op.CONTAINS, *_EMPTINESS)


_DATE_LABELS = {
    "gt": gettext_lazy("is after"),
    "gte": gettext_lazy("is on or after"),
    "lt": gettext_lazy("is before"),
    "lte": gettext_lazy("is on or before"),
}


def operator_label(op: str, kind: str) -> str:
    """The operator in words for a field of `kind` ("is after" for dates, "is greater than" for numbers)."""
    if kind in (FieldKind.DATE, FieldKind.DATETIME) and op in _DATE_LABELS:
        return str(_DATE_LABELS[op])
    return str(Operator(op).label) if op in Operator.values else op


def operators_for(field: RecordField) -> tuple[str, ...]:
    if field.kind == FieldKind.CHOICE and field.multiple:
        return tuple(str(op) for op in _MULTIPLE_CHOICE_OPERATORS)
    return tuple(str(op) for op in _OPERATORS.get(field.kind, ()))


class ConditionError(Exception):
    """A stored condition can no longer be tested (its custom field was removed since the rule was saved)."""


# Validation -----------------------------------------------------------------------------------------


class _Cleaner:
    def __init__(self, fields: Mapping[str, RecordField], *, allow_changed: bool) -> None:
        self.fields = fields
        self.allow_changed = allow_changed
        self.errors: dict[str, list[str]] = {}
        self.leaves = 0

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def node(self, raw: Any, path: str, depth: int) -> dict[str, Any] | None:
        if not isinstance(raw, Mapping):
            self.fail(path, _("Write a condition as an object: a field test or an all/any group."))
            return None
        if "field" in raw or "op" in raw:
            return self.leaf(raw, path)
        keys = [key for key in raw if key in (Match.ALL, Match.ANY)]
        if len(keys) != 1 or len(raw) != 1:
            self.fail(path, _('Write a group as {"all": [...]} or {"any": [...]}.'))
            return None
        mode = keys[0]
        children = raw[mode]
        if not isinstance(children, list):
            self.fail(path, _("List the conditions of the group."))
            return None
        if depth >= MAX_DEPTH:
            self.fail(path, _("Nest groups at most %(n)s levels deep.") % {"n": MAX_DEPTH})
            return None
        cleaned = [self.node(child, f"{path}.{index}", depth + 1) for index, child in enumerate(children)]
        return {mode: [child for child in cleaned if child is not None]}

    def leaf(self, raw: Mapping[str, Any], path: str) -> dict[str, Any] | None:
        self.leaves += 1
        unknown = sorted(set(raw) - {"field", "op", "value"})
        if unknown:
            self.fail(path, _("Unknown keys: %(keys)s.") % {"keys": ", ".join(map(str, unknown))})
        field = self.fields.get(str(raw.get("field") or ""))
        if field is None:
            self.fail(f"{path}.field", _("Choose a field of the record from the list."))
            return None
        op = str(raw.get("op") or "")
        allowed = operators_for(field)
        if op not in allowed:
            self.fail(
                f"{path}.op",
                _("Choose a comparison that fits a %(kind)s field: %(ops)s.")
                % {"kind": FieldKind(field.kind).label, "ops": ", ".join(allowed)},
            )
            return None
        if op == Op.CHANGED:
            if not self.allow_changed:
                self.fail(f"{path}.op", _("“changed” only applies to rules triggered by a change of the record."))
                return None
            if field.change_key is None:
                self.fail(f"{path}.op", _("Changes of this field are not reported, so “changed” cannot test it."))
                return None
        if op in VALUELESS:
            return {"field": field.path, "op": op}
        try:
            value = self.value(field, op, raw.get("value"))
        except ValueError as exc:
            self.fail(f"{path}.value", str(exc))
            return None
        return {"field": field.path, "op": op, "value": value}

    def value(self, field: RecordField, op: str, raw: Any) -> Any:
        if op in LIST_OPERATORS:
            items = raw
            if isinstance(raw, str):
                items = [part for part in raw.split(",") if part.strip()]
            if not isinstance(items, list | tuple) or not items:
                raise ValueError(_("List at least one value."))
            if len(items) > MAX_LIST_VALUES:
                raise ValueError(_("List at most %(n)s values.") % {"n": MAX_LIST_VALUES})
            values = [parse_scalar(field, item) for item in items]
            _check_references(field, values)
            return list(dict.fromkeys(values))
        if op == Op.CONTAINS and field.multiple:
            value = parse_scalar(field, raw)
        elif op == Op.CONTAINS:
            value = parse_scalar(RecordField(field.path, field.label, FieldKind.TEXT), raw)
        else:
            value = parse_scalar(field, raw)
        _check_references(field, [value])
        return value


def _check_references(field: RecordField, values: list[Any]) -> None:
    """Users and teams named in a condition must exist (one query)."""
    if field.kind not in (FieldKind.USER, FieldKind.TEAM):
        return
    from guanxi.platform.identity.models import Team, User

    model: type[models.Model] = User if field.kind == FieldKind.USER else Team
    found = set(model._default_manager.filter(pk__in=values).values_list("pk", flat=True))
    if any(value not in found for value in values):
        raise ValueError(_("Choose a user from the list.") if field.kind == FieldKind.USER else _("Choose a team."))


def clean_conditions(
    raw: Any, fields: Mapping[str, RecordField], *, allow_changed: bool
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The normalised tree ({} when there are no conditions) and the errors by path ({} when valid)."""
    if raw in (None, "", [], {}):
        return {}, {}
    cleaner = _Cleaner(fields, allow_changed=allow_changed)
    if isinstance(raw, list):
        raw = {Match.ALL: raw}
    elif isinstance(raw, Mapping) and ("field" in raw or "op" in raw):
        raw = {Match.ALL: [raw]}
    tree = cleaner.node(raw, "conditions", 0)
    if cleaner.leaves > MAX_LEAVES:
        cleaner.fail("conditions", _("Use at most %(n)s conditions in a rule.") % {"n": MAX_LEAVES})
    if cleaner.errors or tree is None:
        return {}, cleaner.errors or {"conditions": [_("The conditions are not valid.")]}
    return tree, {}


def leaves(tree: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every field test of a tree, depth first."""
    if not tree:
        return []
    if "field" in tree:
        return [dict(tree)]
    found: list[dict[str, Any]] = []
    for children in tree.values():
        for child in children:
            found.extend(leaves(child))
    return found


def tree_depth(tree: Mapping[str, Any]) -> int:
    """Levels of groups: {} and {"all": [leaves]} are 1 (0 for empty), one nested group makes 2."""
    if not tree or "field" in tree:
        return 0
    return 1 + max((tree_depth(child) for children in tree.values() for child in children), default=0)


# Evaluation ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConditionLine:
    """One line of an evaluated tree: a group ("All of" / "Any of") or a field test with the actual value."""

    path: str
    depth: int
    result: bool
    mode: str = ""
    field: str = ""
    field_label: str = ""
    op: str = ""
    op_label: str = ""
    expected: str = ""
    actual: str = ""

    @property
    def is_group(self) -> bool:
        return bool(self.mode)

    @property
    def mode_label(self) -> str:
        return str(Match(self.mode).label) if self.mode else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "depth": self.depth,
            "result": self.result,
            "mode": self.mode,
            "field": self.field,
            "field_label": self.field_label,
            "op": self.op,
            "op_label": self.op_label,
            "expected": self.expected,
            "actual": self.actual,
        }


@dataclass(frozen=True)
class ChangeFacts:
    """What the triggering event says changed: `changes` of a change event, or `created` for a creation."""

    changes: Mapping[str, Any] | None = None
    created: bool = False


def _comparable(field: RecordField, value: Any) -> Any:
    if field.kind == FieldKind.DATETIME and isinstance(value, dt.datetime):
        return local_date(value)
    return value


def _test(field: RecordField, op: str, actual: Any, expected: Any, facts: ChangeFacts) -> bool:
    if op == Op.CHANGED:
        if facts.changes is not None:
            return field.change_key in facts.changes
        return facts.created and not is_empty(actual)
    if op == Op.IS_EMPTY:
        return is_empty(actual)
    if op == Op.IS_NOT_EMPTY:
        return not is_empty(actual)
    actual = _comparable(field, actual)
    if op == Op.CONTAINS:
        if isinstance(actual, list):
            return expected in actual
        return actual is not None and str(expected).casefold() in str(actual).casefold()
    if op == Op.IN:
        return actual is not None and actual in expected
    if op == Op.NOT_IN:
        return actual is None or actual not in expected
    if op == Op.EQ:
        return actual is not None and actual == expected
    if op == Op.NE:
        return actual is None or actual != expected
    if actual is None:
        return False
    try:
        if op == Op.GT:
            return bool(actual > expected)
        if op == Op.GTE:
            return bool(actual >= expected)
        if op == Op.LT:
            return bool(actual < expected)
        if op == Op.LTE:
            return bool(actual <= expected)
    except TypeError:
        return False
    return False


def evaluate(
    tree: Mapping[str, Any],
    record: Any,
    fields: Mapping[str, RecordField],
    *,
    facts: ChangeFacts | None = None,
    today: dt.date | None = None,
) -> tuple[bool, list[ConditionLine]]:
    """Test `tree` on `record`: the result and every line (every leaf is evaluated, for the report)."""
    if not tree:
        return True, []
    facts = facts or ChangeFacts()
    today = today or installation_today()
    lines: list[ConditionLine] = []

    def visit(node: Mapping[str, Any], path: str, depth: int) -> bool:
        if "field" in node:
            field = fields.get(node["field"])
            if field is None:
                raise ConditionError(
                    _("Condition %(path)s tests the field “%(field)s”, which no longer exists.")
                    % {"path": path, "field": node["field"]}
                )
            op = node["op"]
            stored = node.get("value")
            if op in LIST_OPERATORS:
                expected: Any = [resolve(field, item, today=today) for item in stored or ()]
            elif op in VALUELESS:
                expected = None
            else:
                expected = resolve(field, stored, today=today)
            actual = read_value(record, field) if record is not None else None
            result = _test(field, op, actual, expected, facts)
            lines.append(
                ConditionLine(
                    path=path,
                    depth=depth,
                    result=result,
                    field=field.path,
                    field_label=str(field.label),
                    op=op,
                    op_label=operator_label(op, field.kind),
                    expected="" if op in VALUELESS else display(field, stored),
                    actual=display(field, actual),
                )
            )
            return result
        (mode, children), *_rest = node.items()
        index = len(lines)
        results = [visit(child, f"{path}.{i}", depth + 1) for i, child in enumerate(children)]
        result = all(results) if mode == Match.ALL else any(results)
        lines.insert(index, ConditionLine(path=path, depth=depth, result=result, mode=mode))
        return result

    return visit(tree, "conditions", 0), lines


# SQL -------------------------------------------------------------------------------------------------


def _day_range(lookup: str, day: dt.date) -> Q:
    return Q(**{f"{lookup}__gte": day_start(day), f"{lookup}__lt": day_start(day + dt.timedelta(days=1))})


def _leaf_q(field: RecordField, op: str, stored: Any, today: dt.date) -> Q | None:
    """An exact ORM filter for one field test, or None when it has to be tested in Python."""
    lookup = field.orm_lookup
    if op == Op.CHANGED or (field.kind == FieldKind.CHOICE and field.multiple):
        return None
    empty = Q(**{f"{lookup}__isnull": True})
    if field.kind in (FieldKind.TEXT, FieldKind.CHOICE):
        empty |= Q(**{lookup: ""})
    if op == Op.IS_EMPTY:
        return empty
    if op == Op.IS_NOT_EMPTY:
        return None if field.in_json else ~empty
    if field.in_json:
        # JSON values: only equality of what is stored verbatim (text, choices, yes/no, user ids, ISO dates)
        # reads the same on SQLite and PostgreSQL; numbers are stored as text, so they are tested in Python.
        if field.kind == FieldKind.DECIMAL or field.kind == FieldKind.DATETIME:
            return None
        if field.kind == FieldKind.DATE:
            if op != Op.EQ:
                return None
            return Q(**{lookup: resolve(field, stored, today=today).isoformat()})
        if op == Op.EQ:
            return Q(**{lookup: stored})
        if op == Op.IN:
            return Q(**{f"{lookup}__in": list(stored)})
        return None
    if field.kind == FieldKind.DATETIME:
        day = resolve(field, stored, today=today)
        start, end = day_start(day), day_start(day + dt.timedelta(days=1))
        if op == Op.EQ:
            return _day_range(lookup, day)
        if op == Op.NE:
            return ~_day_range(lookup, day) | empty
        return {
            Op.GT: Q(**{f"{lookup}__gte": end}),
            Op.GTE: Q(**{f"{lookup}__gte": start}),
            Op.LT: Q(**{f"{lookup}__lt": start}),
            Op.LTE: Q(**{f"{lookup}__lt": end}),
        }.get(Operator(op))
    if op in LIST_OPERATORS:
        values = [resolve(field, item, today=today) for item in stored]
        inside = Q(**{f"{lookup}__in": values})
        return inside if op == Op.IN else (~inside | empty)
    value = resolve(field, stored, today=today)
    if op == Op.CONTAINS:
        return Q(**{f"{lookup}__icontains": value})
    if op == Op.EQ:
        return Q(**{lookup: value})
    if op == Op.NE:
        return ~Q(**{lookup: value}) | empty
    suffix = {Op.GT: "gt", Op.GTE: "gte", Op.LT: "lt", Op.LTE: "lte"}.get(Operator(op))
    return Q(**{f"{lookup}__{suffix}": value}) if suffix else None


def _combine(parts: list[Q], join: Callable[[Q, Q], Q]) -> Q:
    combined = parts[0]
    for part in parts[1:]:
        combined = join(combined, part)
    return combined


def conditions_q(
    tree: Mapping[str, Any], fields: Mapping[str, RecordField], *, today: dt.date | None = None
) -> Q | None:
    """A filter selecting every record `tree` may hold for (a superset: field tests SQL cannot answer
    exactly are left to `evaluate`); None when SQL cannot narrow the records at all."""
    if not tree:
        return None
    today = today or installation_today()

    def visit(node: Mapping[str, Any]) -> Q | None:
        if "field" in node:
            field = fields.get(node["field"])
            return None if field is None else _leaf_q(field, node["op"], node.get("value"), today)
        (mode, children), *_rest = node.items()
        parts = [visit(child) for child in children]
        narrowing = [part for part in parts if part is not None]
        if mode == Match.ALL:
            # Tests SQL cannot answer narrow nothing: the rest of the group still selects a superset.
            return _combine(narrowing, lambda a, b: a & b) if narrowing else None
        if not parts or len(narrowing) < len(parts):
            return None  # one "or" branch SQL cannot answer could hold for any record
        return _combine(narrowing, lambda a, b: a | b)

    return visit(tree)

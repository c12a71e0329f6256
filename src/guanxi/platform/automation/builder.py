"""The rule builder page's form: its state, read from a saved rule or from what the browser posted, changed
by the builder's buttons (add or remove a condition, a group, an action), turned into a definition for the
rule services, and described for the template with every widget and the errors next to their rows.

There is no JavaScript beyond htmx: every structural change (a button, a select whose choice changes what
follows) posts the whole form back and the server renders it again from the posted data.

Conditions are shown as groups of field tests, one level deep: "all/any of these groups", each "all/any of
these tests". A saved tree nested deeper (built through the API) is kept as it is and shown read-only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from guanxi.platform.automation.conditions import (
    LIST_OPERATORS,
    VALUELESS,
    Match,
    Operator,
    operator_label,
    operators_for,
    tree_depth,
)
from guanxi.platform.automation.models import Rule
from guanxi.platform.automation.registry import (
    ActionParam,
    ActionType,
    FieldKind,
    ParamKind,
    RecordField,
    RecordType,
    action_type,
    action_types_for,
    fields_by_path,
    record_type,
    record_types,
)
from guanxi.platform.automation.triggers import SETTINGS, WEEKDAYS, Direction, Frequency, TriggerKind
from guanxi.platform.events.registry import event_types

TRIGGER_INPUTS = ("event", "field", "to", "from", "offset_days", "direction", "hour", "yearly", "frequency",
                  "weekday", "day")  # fmt: skip
MAX_ROWS = 50


@dataclass
class ConditionRow:
    field: str = ""
    op: str = ""
    value: Any = ""
    path: str = ""


@dataclass
class ConditionGroup:
    match: str = Match.ALL
    rows: list[ConditionRow] = field(default_factory=list)


@dataclass
class ActionRow:
    type: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    path: str = ""


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [str(item) for item in value]
    return "" if value is None else str(value)


@dataclass
class BuilderState:
    name: str = ""
    description: str = ""
    record_type: str = ""
    is_active: bool = False
    version: int | None = None
    trigger_kind: str = TriggerKind.FIELD_CHANGE
    trigger: dict[str, Any] = field(default_factory=dict)
    match: str = Match.ALL
    groups: list[ConditionGroup] = field(default_factory=lambda: [ConditionGroup()])
    actions: list[ActionRow] = field(default_factory=lambda: [ActionRow()])
    locked_conditions: dict[str, Any] | None = None

    # Reading -----------------------------------------------------------------------------------------

    @classmethod
    def blank(cls, record_type_key: str = "") -> BuilderState:
        available = [item.key for item in record_types()]
        key = record_type_key if record_type_key in available else (available[0] if available else "")
        return cls(record_type=key)

    @classmethod
    def from_rule(cls, rule: Rule) -> BuilderState:
        state = cls(
            name=rule.name,
            description=rule.description,
            record_type=rule.record_type,
            is_active=rule.is_active,
            version=rule.version,
            trigger_kind=rule.trigger_kind,
            trigger={key: _text(value) for key, value in rule.trigger_config.items()},
            actions=[
                ActionRow(type=str(a.get("type", "")), params={k: _text(v) for k, v in (a.get("params") or {}).items()})
                for a in rule.actions
            ],
        )
        state._read_tree(rule.conditions or {})
        return state

    def _read_tree(self, tree: Mapping[str, Any]) -> None:
        if not tree:
            self.groups = [ConditionGroup()]
            return
        if tree_depth(tree) > 2:
            self.locked_conditions = dict(tree)
            self.groups = []
            return
        (mode, children), *_rest = tree.items()
        self.match = mode
        groups: list[ConditionGroup] = []
        leaf_group: ConditionGroup | None = None
        for child in children:
            if "field" in child:
                # Consecutive tests directly in the top group form one group of the same kind: all(all(a, b), c)
                # and any(any(a, b), c) mean what all(a, b, c) and any(a, b, c) mean.
                if leaf_group is None:
                    leaf_group = ConditionGroup(match=mode)
                    groups.append(leaf_group)
                leaf_group.rows.append(self._row(child))
            else:
                (inner_mode, leaves), *_more = child.items()
                groups.append(ConditionGroup(match=inner_mode, rows=[self._row(leaf) for leaf in leaves]))
                leaf_group = None
        self.groups = groups or [ConditionGroup()]

    @staticmethod
    def _row(leaf: Mapping[str, Any]) -> ConditionRow:
        return ConditionRow(
            field=str(leaf.get("field", "")), op=str(leaf.get("op", "")), value=_text(leaf.get("value"))
        )

    @classmethod
    def from_post(cls, post: QueryDict) -> BuilderState:
        def number(name: str, default: int = 0) -> int:
            try:
                return min(max(int(post.get(name, default)), 0), MAX_ROWS)
            except (TypeError, ValueError):
                return default

        version = post.get("version")
        state = cls(
            name=post.get("name", ""),
            description=post.get("description", ""),
            record_type=post.get("record_type", ""),
            is_active=post.get("is_active") in ("on", "true", "1"),
            version=int(version) if version and version.isdigit() else None,
            trigger_kind=post.get("trigger_kind", ""),
            trigger={name: post.get(f"t_{name}", "") for name in TRIGGER_INPUTS if f"t_{name}" in post},
            match=post.get("match", Match.ALL),
        )
        locked = post.get("locked_conditions")
        if locked:
            try:
                state.locked_conditions = json.loads(locked)
            except ValueError:
                state.locked_conditions = None
        state.groups = []
        for g in range(number("group_count")):
            group = ConditionGroup(match=post.get(f"g{g}_match", Match.ALL))
            for i in range(number(f"g{g}_count")):
                prefix = f"g{g}_{i}_"
                values = post.getlist(f"{prefix}value")
                value: Any = values if len(values) > 1 or post.get(f"{prefix}multi") else post.get(f"{prefix}value", "")
                group.rows.append(
                    ConditionRow(field=post.get(f"{prefix}field", ""), op=post.get(f"{prefix}op", ""), value=value)
                )
            state.groups.append(group)
        if not state.groups and state.locked_conditions is None:
            state.groups = [ConditionGroup()]
        state.actions = []
        for i in range(number("action_count")):
            prefix = f"a{i}_p_"
            params = {key[len(prefix) :]: post.get(key, "") for key in post if key.startswith(prefix)}
            state.actions.append(ActionRow(type=post.get(f"a{i}_type", ""), params=params))
        return state

    # The builder's buttons -----------------------------------------------------------------------------

    def apply(self, op: str) -> None:
        """Add or remove a condition, group or action ("add_condition:1", "remove_action:0", ...)."""
        verb, *args = op.split(":")
        try:
            numbers = [int(arg) for arg in args]
        except ValueError:
            return
        if verb == "add_condition" and numbers and numbers[0] < len(self.groups):
            if sum(len(g.rows) for g in self.groups) < MAX_ROWS:
                self.groups[numbers[0]].rows.append(ConditionRow())
        elif verb == "remove_condition" and len(numbers) == 2 and numbers[0] < len(self.groups):
            rows = self.groups[numbers[0]].rows
            if numbers[1] < len(rows):
                rows.pop(numbers[1])
        elif verb == "add_group" and len(self.groups) < MAX_ROWS:
            self.groups.append(ConditionGroup(rows=[ConditionRow()]))
        elif verb == "remove_group" and numbers and numbers[0] < len(self.groups):
            self.groups.pop(numbers[0])
            if not self.groups:
                self.groups = [ConditionGroup()]
        elif verb == "add_action" and len(self.actions) < MAX_ROWS:
            self.actions.append(ActionRow())
        elif verb == "remove_action" and numbers and numbers[0] < len(self.actions):
            self.actions.pop(numbers[0])

    def unlock_conditions(self) -> None:
        """Replace a tree the builder cannot show by empty groups (the author starts the conditions over)."""
        self.locked_conditions = None
        self.groups = [ConditionGroup()]

    # The definition ----------------------------------------------------------------------------------------

    def _trigger_config(self) -> dict[str, Any]:
        wanted = list(SETTINGS[TriggerKind(self.trigger_kind)]) if self.trigger_kind in TriggerKind.values else []
        if self.trigger.get("frequency") != Frequency.WEEKLY and self.trigger_kind == TriggerKind.SCHEDULE:
            wanted.remove("weekday")
        if self.trigger.get("frequency") != Frequency.MONTHLY and self.trigger_kind == TriggerKind.SCHEDULE:
            wanted.remove("day")
        config = {name: self.trigger.get(name) for name in wanted if self.trigger.get(name) not in (None, "")}
        if self.trigger_kind == TriggerKind.DATE:
            config["yearly"] = self.trigger.get("yearly") in ("on", "true", "1", True)
            rtype = record_type(self.record_type)
            date_field = fields_by_path(rtype).get(str(config.get("field"))) if rtype else None
            if date_field is not None and date_field.kind != FieldKind.DATE:
                config.pop("hour", None)
                config.pop("yearly", None)
        return config

    def _conditions(self) -> dict[str, Any]:
        if self.locked_conditions is not None:
            return self.locked_conditions
        groups: list[tuple[ConditionGroup, list[ConditionRow]]] = []
        for group in self.groups:
            rows = [row for row in group.rows if row.field]
            if rows:
                groups.append((group, rows))
        if not groups:
            return {}
        single = len(groups) == 1
        tree_groups = []
        for g, (group, rows) in enumerate(groups):
            leaves = []
            for i, row in enumerate(rows):
                row.path = f"conditions.{i}" if single else f"conditions.{g}.{i}"
                leaf: dict[str, Any] = {"field": row.field, "op": row.op}
                if row.op not in VALUELESS:
                    leaf["value"] = row.value
                leaves.append(leaf)
            tree_groups.append({group.match: leaves})
        return tree_groups[0] if single else {self.match: tree_groups}

    def _actions(self) -> list[dict[str, Any]]:
        actions: list[dict[str, Any]] = []
        for row in self.actions:
            if not row.type:
                continue
            row.path = f"actions.{len(actions)}"
            spec = action_type(row.type)
            params: dict[str, Any] = {}
            for param in spec.params if spec is not None else ():
                raw = row.params.get(param.name, "")
                if param.kind == ParamKind.BOOL:
                    params[param.name] = raw in ("on", "true", "1", True)
                elif raw not in ("", None):
                    params[param.name] = raw
            actions.append({"type": row.type, "params": params})
        return actions

    def data(self) -> dict[str, Any]:
        """The definition as rule_create takes it (and every row learns its path, for the errors)."""
        return {
            "name": self.name,
            "description": self.description,
            "record_type": self.record_type,
            "trigger_kind": self.trigger_kind,
            "trigger_config": self._trigger_config(),
            "conditions": self._conditions(),
            "actions": self._actions(),
            "is_active": self.is_active,
        }


# What the template shows ---------------------------------------------------------------------------------


@dataclass
class Widget:
    """One input of the builder: its name, kind (select, multiselect, text, textarea, number, checkbox, none),
    options, current value, and whether changing it redraws the builder."""

    name: str
    kind: str
    value: Any = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    label: str = ""
    placeholder: str = ""
    help_text: str = ""
    error: str = ""
    rebuild: bool = False
    required: bool = False

    @property
    def values(self) -> list[str]:
        return self.value if isinstance(self.value, list) else [str(self.value)]

    @property
    def chosen(self) -> bool:
        """Whether the current value is one of the options (otherwise the select offers "Choose…")."""
        return any(value in self.values for value, _label in self.choices)


class _Choices:
    """Options read from the database once per rendering (users, teams)."""

    def __init__(self) -> None:
        self._users: list[tuple[str, str]] | None = None
        self._teams: list[tuple[str, str]] | None = None

    def users(self) -> list[tuple[str, str]]:
        if self._users is None:
            from guanxi.platform.identity.models import User

            self._users = [
                (str(user.pk), str(user)) for user in User.objects.filter(is_active=True).order_by("username")
            ]
        return self._users

    def teams(self) -> list[tuple[str, str]]:
        if self._teams is None:
            from guanxi.platform.identity.models import Team

            self._teams = [(str(pk), name) for pk, name in Team.objects.order_by("path").values_list("pk", "name")]
        return self._teams


def _value_widget(name: str, record_field: RecordField | None, op: str, value: Any, options: _Choices) -> Widget:
    if record_field is None or op in VALUELESS:
        return Widget(name=name, kind="none")
    many = op in LIST_OPERATORS
    kind = record_field.kind
    if kind == FieldKind.CHOICE:
        choices = [(value_, str(label)) for value_, label in record_field.options]
        return Widget(name=name, kind="multiselect" if many else "select", value=value, choices=choices)
    if kind == FieldKind.BOOL:
        return Widget(name=name, kind="select", value=value, choices=[("true", _("Yes")), ("false", _("No"))])
    if kind in (FieldKind.USER, FieldKind.TEAM):
        choices = options.users() if kind == FieldKind.USER else options.teams()
        return Widget(name=name, kind="multiselect" if many else "select", value=value, choices=choices)
    text = ", ".join(value) if isinstance(value, list) else value
    if kind in (FieldKind.DATE, FieldKind.DATETIME):
        return Widget(name=name, kind="text", value=text, placeholder=_("YYYY-MM-DD, today, today-30"))
    return Widget(name=name, kind="text", value=text, placeholder=_("a, b, c") if many else "")


def _field_choices(fields: list[RecordField]) -> list[tuple[str, str]]:
    return [(f.path, f"{f.group} · {f.label}" if f.group else str(f.label)) for f in fields]


def _param_widget(
    prefix: str, param: ActionParam, value: Any, spec: ActionType, rtype: RecordType, options: _Choices
) -> Widget:
    name = f"{prefix}{param.name}"
    if value in ("", None) and param.default is not None:
        value = _text(param.default)
    common: dict[str, Any] = {"label": str(param.label), "help_text": str(param.help_text), "required": param.required}
    kind = param.kind
    if kind in (ParamKind.CHOICE, ParamKind.FIELD):
        choices = param.choices(rtype) if param.choices else []
        # A choice other parameters depend on (which field, whom to notify) redraws the action.
        rebuild = kind == ParamKind.FIELD or any(
            other.show_if is not None and other.show_if[0] == param.name for other in spec.params
        )
        return Widget(name=name, kind="select", value=value, choices=choices, rebuild=rebuild, **common)
    if kind == ParamKind.USER:
        return Widget(name=name, kind="select", value=value, choices=options.users(), **common)
    if kind == ParamKind.TEAM:
        return Widget(name=name, kind="select", value=value, choices=options.teams(), **common)
    if kind == ParamKind.BOOL:
        return Widget(name=name, kind="checkbox", value=value in ("on", "true", "1", True), **common)
    if kind == ParamKind.LONG_MERGE_TEXT:
        return Widget(name=name, kind="textarea", value=value, **common)
    if kind == ParamKind.NUMBER:
        return Widget(name=name, kind="number", value=value, **common)
    return Widget(name=name, kind="text", value=value, **common)


def builder_context(state: BuilderState, errors: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    """Everything the builder template shows: the widgets of each part, with errors next to their rows;
    errors that belong to no row are listed at the top."""
    errors = dict(errors or {})
    placed: set[str] = set()

    def error(*keys: str) -> str:
        messages = []
        for key in keys:
            if key in errors:
                placed.add(key)
                messages.extend(errors[key])
        return " ".join(messages)

    options = _Choices()
    rtype = record_type(state.record_type)
    fields = list(fields_by_path(rtype).values()) if rtype is not None else []
    by_path = {f.path: f for f in fields}
    field_options = _field_choices(fields)

    # Trigger ------------------------------------------------------------------------------------------
    trigger: list[Widget] = []
    t = state.trigger
    kind = state.trigger_kind
    if kind == TriggerKind.EVENT:
        events = [(e.name, f"{e.label} ({e.name})") for e in event_types() if rtype and e.record_type == rtype.key]
        trigger.append(
            Widget("t_event", "select", t.get("event", ""), events, _("Event"), error=error("trigger.event"))
        )
    elif kind == TriggerKind.FIELD_CHANGE:
        changeable = [f for f in fields if f.change_key is not None]
        trigger.append(
            Widget(
                "t_field",
                "select",
                t.get("field", ""),
                _field_choices(changeable),
                _("Field"),
                rebuild=True,
                error=error("trigger.field"),
            )
        )
        chosen = by_path.get(str(t.get("field", "")))
        for end, label in (("to", _("Changes to")), ("from", _("Changes from (optional)"))):
            widget = _value_widget(f"t_{end}", chosen, Operator.EQ, t.get(end, ""), options)
            if widget.kind == "none":
                continue
            widget.label, widget.error = str(label), error(f"trigger.{end}")
            if widget.kind == "select":
                widget.choices = [("", _("Any value")), *widget.choices]
            trigger.append(widget)
    elif kind == TriggerKind.DATE:
        dated = [f for f in fields if f.kind in (FieldKind.DATE, FieldKind.DATETIME)]
        trigger.append(
            Widget(
                "t_field",
                "select",
                t.get("field", ""),
                _field_choices(dated),
                _("Date field"),
                rebuild=True,
                error=error("trigger.field"),
            )
        )
        trigger.append(
            Widget(
                "t_offset_days",
                "number",
                t.get("offset_days", "0"),
                label=_("Days"),
                error=error("trigger.offset_days"),
            )
        )
        trigger.append(
            Widget(
                "t_direction",
                "select",
                t.get("direction", Direction.BEFORE),
                [(str(v), str(label)) for v, label in Direction.choices],
                _("Before or after"),
                error=error("trigger.direction"),
            )
        )
        chosen = by_path.get(str(t.get("field", "")))
        if chosen is None or chosen.kind == FieldKind.DATE:
            trigger.append(
                Widget("t_hour", "number", t.get("hour", "9"), label=_("At (hour, 0-23)"), error=error("trigger.hour"))
            )
            trigger.append(
                Widget(
                    "t_yearly",
                    "checkbox",
                    t.get("yearly") in ("on", "true", "1"),
                    label=_("Every year (anniversaries, birthdays)"),
                    error=error("trigger.yearly"),
                )
            )
    elif kind == TriggerKind.SCHEDULE:
        trigger.append(
            Widget(
                "t_frequency",
                "select",
                t.get("frequency", ""),
                [(str(v), str(label)) for v, label in Frequency.choices],
                _("How often"),
                rebuild=True,
                error=error("trigger.frequency"),
            )
        )
        if t.get("frequency") == Frequency.WEEKLY:
            trigger.append(
                Widget(
                    "t_weekday",
                    "select",
                    t.get("weekday", "0"),
                    [(str(v), str(label)) for v, label in WEEKDAYS],
                    _("Day of the week"),
                    error=error("trigger.weekday"),
                )
            )
        if t.get("frequency") == Frequency.MONTHLY:
            trigger.append(
                Widget("t_day", "number", t.get("day", "1"), label=_("Day of the month"), error=error("trigger.day"))
            )
        trigger.append(
            Widget("t_hour", "number", t.get("hour", ""), label=_("At (hour, 0-23)"), error=error("trigger.hour"))
        )

    # Conditions ------------------------------------------------------------------------------------------
    groups = []
    for g, group in enumerate(state.groups):
        rows = []
        for i, row in enumerate(group.rows):
            prefix = f"g{g}_{i}_"
            chosen = by_path.get(row.field)
            ops = [(op, operator_label(op, chosen.kind)) for op in operators_for(chosen)] if chosen else []
            op = row.op if any(op == row.op for op, _label in ops) else (ops[0][0] if ops else "")
            path = row.path
            rows.append(
                {
                    "index": i,
                    "field": Widget(
                        f"{prefix}field",
                        "select",
                        row.field,
                        field_options,
                        rebuild=True,
                        error=error(f"{path}.field") if path else "",
                    ),
                    "op": Widget(
                        f"{prefix}op", "select", op, ops, rebuild=True, error=error(f"{path}.op") if path else ""
                    ),
                    "value": _value_widget(f"{prefix}value", chosen, op, row.value, options),
                    "value_error": error(f"{path}.value", path) if path else "",
                    "multi_name": f"{prefix}multi",
                }
            )
        groups.append({"index": g, "match": group.match, "rows": rows, "count": len(group.rows)})

    # Actions -------------------------------------------------------------------------------------------------
    available = action_types_for(rtype) if rtype is not None else []
    type_choices = [(spec.key, str(spec.label)) for spec in available]
    actions = []
    for i, action_row in enumerate(state.actions):
        spec = action_type(action_row.type)
        path = action_row.path
        params = []
        if spec is not None and rtype is not None:
            visible = {**action_row.params}
            for param in spec.params:
                if not param.shown(visible):
                    continue
                current = action_row.params.get(param.name, "")
                if param.kind == ParamKind.FIELD_VALUE:
                    chosen = spec.chosen_field(rtype, action_row.params)
                    widget = _value_widget(f"a{i}_p_{param.name}", chosen, Operator.EQ, current, options)
                    if widget.kind == "select":
                        widget.choices = [("", _("(empty)")), *widget.choices]
                    widget.label, widget.help_text = str(param.label), str(param.help_text)
                else:
                    widget = _param_widget(f"a{i}_p_", param, current, spec, rtype, options)
                    if widget.kind == "select" and not param.required:
                        widget.choices = [("", "—"), *widget.choices]
                widget.error = error(f"{path}.params.{param.name}") if path else ""
                params.append(widget)
        actions.append(
            {
                "index": i,
                "type": Widget(
                    f"a{i}_type",
                    "select",
                    action_row.type,
                    type_choices,
                    rebuild=True,
                    error=error(f"{path}.type", f"{path}.params", path) if path else "",
                ),
                "params": params,
                "description": str(spec.description) if spec is not None else "",
            }
        )

    basics = {
        "name": error("name"),
        "description": error("description"),
        "record_type": error("record_type"),
        "trigger_kind": error("trigger_kind", "trigger"),
        "conditions": error("conditions"),
        "actions": error("actions"),
    }
    unplaced = [f"{key}: {' '.join(messages)}" for key, messages in errors.items() if key not in placed]
    return {
        "state": state,
        "record_type_choices": [(item.key, str(item.label)) for item in record_types()],
        "trigger_kind_choices": [(str(value), str(label)) for value, label in TriggerKind.choices],
        "match_choices": [(str(value), str(label)) for value, label in Match.choices],
        "trigger": trigger,
        "groups": groups,
        "actions": actions,
        "errors": basics,
        "unplaced_errors": unplaced,
        "has_errors": bool(errors),
        "locked_conditions_json": json.dumps(state.locked_conditions, ensure_ascii=False)
        if state.locked_conditions is not None
        else "",
        "can_search_records": bool(rtype and rtype.search),
    }

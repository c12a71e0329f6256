"""The automation registry: record types (their fields, owner, links, loaders) and action types.

Workflow rules know nothing about customers, orders or tickets; a domain app tells the registry about
its records and what rules may do to them, from its `AppConfig.ready()`:

    register_record_type(RecordType(key="customers.customer", label=_("Customer"), model=Customer,
                                     queryset=..., fields=(RecordField("lifecycle_stage", ...), ...), ...))
    register_action_type(ActionType(key="customers.assign_owner", ..., execute=..., describe=...))

A field is addressed by a `path` ("lifecycle_stage", "owner.team", "custom_fields.tier") and read through
its ORM `lookup` ("owner__team_id"): the same lookup filters rows in SQL (schedule and date rules) and is
followed attribute by attribute on a loaded record (event rules, dry runs), so both agree. Computed values
(a customer "has email consent") are annotations the record type's `queryset()` adds.

Custom fields ("custom_fields.<key>") come from the custom field definitions of the record type's target,
read each time the fields are listed (at save time), and other apps may add fields of their own with
`register_field_provider` (analytics scores, for example).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanxi.platform.core.actors import Actor

if TYPE_CHECKING:
    from guanxi.platform.events.registry import Event


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    CHOICE = "choice", _("Choice")
    NUMBER = "number", _("Whole number")
    DECIMAL = "decimal", _("Number")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    BOOL = "bool", _("Yes / no")
    USER = "user", _("User")
    TEAM = "team", _("Team")


Label = str | Promise
Choices = tuple[tuple[str, Label], ...]


@dataclass(frozen=True)
class RecordField:
    """A field rules can test in conditions (and, when `settable`, change with a "set a field" action).

    `lookup` is the ORM path (default: `path` with "." as "__"); `in_json` says the value lives in a JSON
    column (custom fields), which changes how it is compared in SQL. `change_key` is the field's key in the
    `changes` of the record type's change event, or None when changes of it are not reported.
    """

    path: str
    label: Label
    kind: str
    lookup: str = ""
    choices: Choices | Callable[[], Choices] = ()
    multiple: bool = False
    change_key: str | None = None
    settable: bool = False
    in_json: bool = False
    group: Label = ""

    @property
    def orm_lookup(self) -> str:
        return self.lookup or self.path.replace(".", "__")

    @property
    def options(self) -> Choices:
        """The choices as (value, label) pairs (read now when they are given as a function)."""
        return self.choices() if callable(self.choices) else self.choices

    def choice_label(self, value: Any) -> str:
        for choice_value, label in self.options:
            if choice_value == value:
                return str(label)
        return "" if value is None else str(value)


@dataclass(frozen=True)
class RecordLink:
    """Another record reachable from this one (a task's customer), for actions that work on that type."""

    name: str
    record_type: str
    resolve: Callable[[Any], int | None]


def _no_id(record: Any) -> int | None:
    return None


def _no_url(record_id: int) -> str:
    return ""


@dataclass(frozen=True)
class RecordType:
    """A kind of record rules can be about.

    - `queryset()`: every record, as the system reads it, with the joins and annotations the fields need;
      rules load records through it (by id for events and dry runs, in batches for scheduled rules).
    - `visible_queryset(actor)`: the records an actor may see (choosing a record for a dry run).
    - `owner_id` / `team_id`: whom "the owner" and "the owner's team" mean for notifications and tasks.
    - `links`: other record types reachable from it (a task's customer), so an action written for customers
      also works in a rule about tasks.
    - `message_recipient`: the record type messages about this record go to (itself, or a linked type) —
      one the channels' recipient registry knows, such as "customers.customer".
    - `change_event`: the event whose payload carries `changes` ({field: [before, after]}) — what field-change
      triggers listen to; `create_event`: creation, which counts as a change to the initial value.
    """

    key: str
    label: Label
    model: type[models.Model]
    queryset: Callable[[], models.QuerySet[Any]]
    visible_queryset: Callable[[Actor], models.QuerySet[Any]]
    fields: tuple[RecordField, ...] = ()
    custom_field_target: str = ""
    owner_id: Callable[[Any], int | None] = _no_id
    team_id: Callable[[Any], int | None] = _no_id
    links: tuple[RecordLink, ...] = ()
    dynamic_links: Callable[[], tuple[RecordLink, ...]] | None = None
    message_recipient: str = ""
    change_event: str = ""
    create_event: str = ""
    url: Callable[[int], str] = _no_url
    display: Callable[[Any], str] = str
    search: Callable[[Actor, str, int], list[tuple[int, str]]] | None = None

    def all_links(self) -> tuple[RecordLink, ...]:
        return self.links + (self.dynamic_links() if self.dynamic_links is not None else ())

    def link_to(self, record_type: str) -> RecordLink | None:
        return next((link for link in self.all_links() if link.record_type == record_type), None)

    def reaches(self, record_type: str) -> bool:
        """Whether records of this type are, or link to, records of `record_type`."""
        return self.key == record_type or self.link_to(record_type) is not None


# Actions ---------------------------------------------------------------------------------------------


class ParamKind(models.TextChoices):
    TEXT = "text", _("Text")
    MERGE_TEXT = "merge_text", _("Text with merge fields")
    LONG_MERGE_TEXT = "long_merge_text", _("Long text with merge fields")
    NUMBER = "number", _("Whole number")
    CHOICE = "choice", _("Choice")
    USER = "user", _("User")
    TEAM = "team", _("Team")
    BOOL = "bool", _("Yes / no")
    FIELD = "field", _("Field of the record")
    FIELD_VALUE = "field_value", _("Value of the chosen field")


@dataclass(frozen=True)
class ActionParam:
    """One parameter of an action type, as the builder shows it and the API takes it.

    `choices(record_type)` lists allowed values for CHOICE (and FIELD) parameters; `show_if` hides the
    parameter unless another parameter has one of the given values (the builder and the catalogue use it,
    validation ignores hidden parameters). Numbers take `minimum`/`maximum`. A FIELD parameter names a field
    of the rule's record type, or of `fields_of` (a customer field in a rule about tasks).
    """

    name: str
    label: Label
    kind: str
    required: bool = True
    choices: Callable[[RecordType], list[tuple[str, str]]] | None = None
    help_text: Label = ""
    show_if: tuple[str, tuple[str, ...]] | None = None
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    fields_of: str = ""

    def shown(self, params: dict[str, Any]) -> bool:
        if self.show_if is None:
            return True
        other, values = self.show_if
        return str(params.get(other) or "") in values


@dataclass(frozen=True)
class ActionResult:
    """What an action did, for the run log: a readable summary and ids of what it created or changed."""

    summary: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class ActionContext:
    """Everything an action needs to run (or to describe itself in a dry run) for one record."""

    rule_id: int | None
    rule_name: str
    record_type: RecordType
    record: Any | None
    record_id: int
    params: dict[str, Any]
    actor: Actor
    event: Event | None = None
    dry_run: bool = False
    _fields: dict[str, RecordField] | None = field(default=None, repr=False)

    def fields(self) -> dict[str, RecordField]:
        """The record type's fields by path (read once per context)."""
        if self._fields is None:
            self._fields = fields_by_path(self.record_type)
        return self._fields

    def owner_id(self) -> int | None:
        return self.record_type.owner_id(self.record) if self.record is not None else None

    def team_id(self) -> int | None:
        return self.record_type.team_id(self.record) if self.record is not None else None

    def linked_id(self, record_type: str) -> int | None:
        """The id of the record of `record_type` this rule's record is or links to (None if none)."""
        if self.record_type.key == record_type:
            return self.record_id
        link = self.record_type.link_to(record_type)
        if link is None or self.record is None:
            return None
        return link.resolve(self.record)

    def record_url(self) -> str:
        """The record's page, or else the page of the first linked record that has one."""
        url = self.record_type.url(self.record_id)
        if url or self.record is None:
            return url
        for link in self.record_type.all_links():
            linked_type, linked_id = record_type(link.record_type), link.resolve(self.record)
            if linked_type is not None and linked_id is not None:
                return linked_type.url(linked_id)
        return ""

    def merge(self, text: str) -> str:
        from guanxi.platform.automation.merge_fields import merge_text

        return merge_text(text, self)


ParamsCleaner = Callable[[RecordType, dict[str, Any], Actor], dict[str, Any]]


def _keep_params(record_type: RecordType, params: dict[str, Any], actor: Actor) -> dict[str, Any]:
    return params


def _applies_everywhere(record_type: RecordType) -> bool:
    return True


@dataclass(frozen=True)
class ActionType:
    """Something a rule can do.

    `clean(record_type, params, author)` runs at save time after each parameter was checked against its
    kind; it checks what ties parameters together (a template of the chosen channel) and returns the
    parameters to store, raising ValidationFailed naming the parameter ({"template_id": [...]}).
    `execute(context)` does it and returns an ActionResult (any exception fails the run);
    `describe(context)` says what it would do, writing nothing (dry runs).
    `permissions`: what the rule's author must hold for the action to be allowed at all.
    """

    key: str
    label: Label
    params: tuple[ActionParam, ...]
    execute: Callable[[ActionContext], ActionResult]
    describe: Callable[[ActionContext], str]
    clean: ParamsCleaner = _keep_params
    applies_to: Callable[[RecordType], bool] = _applies_everywhere
    description: Label = ""
    permissions: tuple[str, ...] = ()
    order: int = 100

    def param(self, name: str) -> ActionParam | None:
        return next((p for p in self.params if p.name == name), None)

    def chosen_field(self, rtype: RecordType, params: dict[str, Any]) -> RecordField | None:
        """The field the action's FIELD parameter names: of the rule's record type, or of its `fields_of`."""
        field_param = next((p for p in self.params if p.kind == ParamKind.FIELD), None)
        if field_param is None:
            return None
        owner = record_type(field_param.fields_of) if field_param.fields_of else rtype
        return fields_by_path(owner).get(str(params.get(field_param.name, ""))) if owner is not None else None


# The registries --------------------------------------------------------------------------------------

FieldProvider = Callable[[RecordType], list[RecordField]]

_record_types: dict[str, RecordType] = {}
_action_types: dict[str, ActionType] = {}
_field_providers: dict[str, dict[str, FieldProvider]] = {}


def register_record_type(record_type: RecordType) -> None:
    """Register (or replace: apps' ready() may run twice in tests) a record type."""
    _record_types[record_type.key] = record_type


def register_action_type(action_type: ActionType) -> None:
    _action_types[action_type.key] = action_type


def register_field_provider(record_type: str, name: str, provider: FieldProvider) -> None:
    """Add fields to a record type from another app (scores written by analytics, for example); the
    provider is called each time the fields are listed."""
    _field_providers.setdefault(record_type, {})[name] = provider


def record_types() -> list[RecordType]:
    return sorted(_record_types.values(), key=lambda item: item.key)


def record_type(key: str) -> RecordType | None:
    return _record_types.get(key)


def action_types() -> list[ActionType]:
    return sorted(_action_types.values(), key=lambda item: (item.order, item.key))


def action_type(key: str) -> ActionType | None:
    return _action_types.get(key)


def action_types_for(record_type: RecordType) -> list[ActionType]:
    return [item for item in action_types() if item.applies_to(record_type)]


def record_fields(record_type: RecordType) -> list[RecordField]:
    """The record type's fields, then its active custom fields, then fields other apps provide."""
    fields = list(record_type.fields)
    if record_type.custom_field_target:
        from guanxi.platform.automation.custom_fields import custom_record_fields

        fields.extend(custom_record_fields(record_type.custom_field_target))
    for provider in _field_providers.get(record_type.key, {}).values():
        fields.extend(provider(record_type))
    return fields


def fields_by_path(record_type: RecordType) -> dict[str, RecordField]:
    return {item.path: item for item in record_fields(record_type)}

"""Reads of workflow rules: lists with their last run, one rule, the run log, and the catalogue of what
rules can be built from (record types with fields and operators, triggers and events, action types)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from guanxi.platform.audit.history import HistoryEntry, record_history
from guanxi.platform.automation.conditions import operator_label, operators_for
from guanxi.platform.automation.models import Rule, RuleRun, RunStatus
from guanxi.platform.automation.permissions import AUTOMATION_MANAGE, AUTOMATION_VIEW
from guanxi.platform.automation.registry import (
    FieldKind,
    ParamKind,
    RecordType,
    action_types_for,
    record_fields,
    record_types,
)
from guanxi.platform.automation.triggers import WEEKDAYS, Direction, Frequency, TriggerKind
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.platform.events.registry import event_types
from guanxi.platform.identity.scoping import has_permission


def require_view(actor: Actor) -> None:
    if not (has_permission(actor, AUTOMATION_VIEW) or has_permission(actor, AUTOMATION_MANAGE)):
        raise PermissionDenied()


@dataclass(frozen=True)
class RuleFilters:
    record_type: str = ""
    trigger_kind: str = ""
    is_active: bool | None = None
    text: str = ""


def rule_list(*, actor: Actor, filters: RuleFilters | None = None) -> QuerySet[Rule]:
    """Rules with `last_run_status` and `last_run_at` (their latest real run; dry runs do not count)."""
    require_view(actor)
    filters = filters or RuleFilters()
    latest = RuleRun.objects.filter(rule=OuterRef("pk")).exclude(status=RunStatus.DRY_RUN).order_by("-id")
    qs = Rule.objects.select_related("run_as").annotate(
        last_run_status=Subquery(latest.values("status")[:1]),
        last_run_at=Subquery(latest.values("started_at")[:1]),
    )
    if filters.record_type:
        qs = qs.filter(record_type=filters.record_type)
    if filters.trigger_kind:
        if filters.trigger_kind not in TriggerKind.values:
            raise ValidationFailed.for_field("trigger_kind", _("Choose a value from the list."))
        qs = qs.filter(trigger_kind=filters.trigger_kind)
    if filters.is_active is not None:
        qs = qs.filter(is_active=filters.is_active)
    if filters.text:
        qs = qs.filter(Q(name__icontains=filters.text) | Q(description__icontains=filters.text))
    return qs


def rule_get(*, actor: Actor, rule_id: int) -> Rule:
    require_view(actor)
    rule = Rule.objects.select_related("run_as", "created_by").filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("Rule not found."))
    return rule


def rule_history(*, actor: Actor, rule: Rule) -> list[HistoryEntry]:
    require_view(actor)
    return record_history(rule)


@dataclass(frozen=True)
class RunFilters:
    rule_id: int | None = None
    status: str = ""
    record_type: str = ""
    record_id: int | None = None


def rule_run_list(*, actor: Actor, filters: RunFilters | None = None) -> QuerySet[RuleRun]:
    """The run log, newest first (sort by -id), with each run's rule."""
    require_view(actor)
    filters = filters or RunFilters()
    qs = RuleRun.objects.select_related("rule")
    if filters.rule_id is not None:
        qs = qs.filter(rule_id=filters.rule_id)
    if filters.status:
        if filters.status not in RunStatus.values:
            raise ValidationFailed.for_field("status", _("Choose a value from the list."))
        qs = qs.filter(status=filters.status)
    if filters.record_type:
        qs = qs.filter(record_type=filters.record_type)
    if filters.record_id is not None:
        qs = qs.filter(record_id=filters.record_id)
    return qs


def rule_run_get(*, actor: Actor, run_id: int) -> RuleRun:
    require_view(actor)
    run = RuleRun.objects.select_related("rule").filter(pk=run_id).first()
    if run is None:
        raise NotFound()
    return run


# The catalogue ----------------------------------------------------------------------------------------


def _choices(pairs: Any) -> list[dict[str, str]]:
    return [{"value": str(value), "label": str(label)} for value, label in pairs]


def _record_type_entry(rtype: RecordType) -> dict[str, Any]:
    fields = []
    for field in record_fields(rtype):
        fields.append(
            {
                "path": field.path,
                "label": str(field.label),
                "kind": field.kind,
                "kind_label": str(FieldKind(field.kind).label),
                "choices": _choices(field.options),
                "multiple": field.multiple,
                "operators": [{"value": op, "label": operator_label(op, field.kind)} for op in operators_for(field)],
                "change_reported": field.change_key is not None,
                "settable": field.settable,
                "group": str(field.group),
            }
        )
    events = [
        {"name": item.name, "label": str(item.label), "payload": item.payload_fields()}
        for item in event_types()
        if item.record_type == rtype.key
    ]
    actions = []
    for spec in action_types_for(rtype):
        params = []
        for param in spec.params:
            entry: dict[str, Any] = {
                "name": param.name,
                "label": str(param.label),
                "kind": param.kind,
                "required": param.required,
                "help_text": str(param.help_text),
                "default": param.default,
            }
            if param.kind in (ParamKind.CHOICE, ParamKind.FIELD) and param.choices is not None:
                entry["choices"] = _choices(param.choices(rtype))
            if param.show_if is not None:
                entry["show_if"] = {"param": param.show_if[0], "values": list(param.show_if[1])}
            if param.minimum is not None or param.maximum is not None:
                entry["minimum"], entry["maximum"] = param.minimum, param.maximum
            params.append(entry)
        actions.append(
            {"type": spec.key, "label": str(spec.label), "description": str(spec.description), "params": params}
        )
    return {
        "key": rtype.key,
        "label": str(rtype.label),
        "fields": fields,
        "events": events,
        "change_event": rtype.change_event,
        "create_event": rtype.create_event,
        "links": [link.record_type for link in rtype.all_links()],
        "actions": actions,
    }


def automation_catalogue(*, actor: Actor) -> dict[str, Any]:
    """What rules are built from, for the API and the builder alike."""
    require_view(actor)
    return {
        "record_types": [_record_type_entry(rtype) for rtype in record_types()],
        "trigger_kinds": _choices(TriggerKind.choices),
        "frequencies": _choices(Frequency.choices),
        "directions": _choices(Direction.choices),
        "weekdays": _choices(WEEKDAYS),
        "field_kinds": _choices(FieldKind.choices),
    }

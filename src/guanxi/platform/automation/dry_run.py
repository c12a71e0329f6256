"""Dry runs: test a rule (saved, or a definition not saved yet) against a chosen record, changing nothing.

The result says whether and when the trigger would start the rule for that record, each condition with the
record's actual value and its result, and what each action would do (`ActionType.describe`). Everything is
computed inside a savepoint that is rolled back, so even a careless `describe` cannot write; the only write
is the optional dry-run entry in the run log (`record_run`, saved rules only).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from guanxi.platform.automation.conditions import ChangeFacts, ConditionError, ConditionLine, evaluate
from guanxi.platform.automation.definition import RuleDefinition, clean_definition
from guanxi.platform.automation.engine import error_text, load_record
from guanxi.platform.automation.models import ActionStatus, Rule, RuleRun, RunStatus
from guanxi.platform.automation.permissions import AUTOMATION_MANAGE
from guanxi.platform.automation.registry import ActionContext, RecordField, RecordType, action_type, fields_by_path
from guanxi.platform.automation.triggers import (
    TriggerKind,
    allows_changed,
    date_occurrence,
    next_slot,
    same_value,
)
from guanxi.platform.automation.values import display, read_value, resolve
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import DomainError, NotFound
from guanxi.platform.events.registry import event_type
from guanxi.platform.identity.scoping import require_permission

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionPreview:
    type: str
    label: str
    description: str
    error: str = ""


@dataclass(frozen=True)
class DryRunResult:
    record_type: str
    record_id: int
    record_label: str
    trigger_fits: bool
    trigger_note: str
    conditions_met: bool
    conditions: list[ConditionLine]
    actions: list[ActionPreview]
    run_id: int | None = None
    conditions_error: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def would_run(self) -> bool:
        return self.trigger_fits and self.conditions_met and not any(action.error for action in self.actions)


def _when(moment: Any) -> str:
    return date_format(timezone.localtime(moment, timezone.get_default_timezone()), "Y-m-d H:i")


def _trigger_fit(
    definition: RuleDefinition, record: Any, fields: Mapping[str, RecordField]
) -> tuple[bool, str, ChangeFacts]:
    """Whether the trigger applies to this record, in words, and the change the conditions see."""
    kind, config, rtype = definition.trigger_kind, definition.trigger_config, definition.record_type
    if kind == TriggerKind.EVENT:
        registered = event_type(str(config.get("event")))
        label = registered.label if registered else config.get("event")
        facts = ChangeFacts(changes={}) if allows_changed(kind, config, rtype) else ChangeFacts()
        return True, _("Runs when “%(event)s” happens to this record.") % {"event": label}, facts
    if kind == TriggerKind.FIELD_CHANGE:
        trigger_field = fields[config["field"]]
        current = read_value(record, trigger_field)
        facts = ChangeFacts(changes={str(trigger_field.change_key): [None, current]})
        if config.get("to") is None:
            return True, _("Runs whenever %(field)s changes.") % {"field": trigger_field.label}, facts
        wanted = resolve(trigger_field, config["to"])
        fits = same_value(trigger_field, current, wanted)
        note = _("Runs when %(field)s changes to %(value)s; it is %(current)s now.") % {
            "field": trigger_field.label,
            "value": display(trigger_field, config["to"]),
            "current": display(trigger_field, current),
        }
        return fits, note, facts
    if kind == TriggerKind.DATE:
        date_field = fields[config["field"]]
        value = read_value(record, date_field)
        if value is None:
            return (
                False,
                _("%(field)s is empty, so the rule never runs for this record.") % {"field": date_field.label},
                ChangeFacts(),
            )
        now = timezone.now()
        moment = date_occurrence(config, date_field, value, now)
        if moment is None:
            return False, _("No occurrence of this date is due."), ChangeFacts()
        if moment <= now:
            return (
                True,
                _("Its occurrence was on %(time)s (%(field)s is %(value)s).")
                % {
                    "time": _when(moment),
                    "field": date_field.label,
                    "value": display(date_field, value),
                },
                ChangeFacts(),
            )
        return (
            True,
            _("Runs on %(time)s (%(field)s is %(value)s).")
            % {
                "time": _when(moment),
                "field": date_field.label,
                "value": display(date_field, value),
            },
            ChangeFacts(),
        )
    slot = next_slot(config, timezone.now())
    return True, _("Runs for every matching record; next time: %(time)s.") % {"time": _when(slot)}, ChangeFacts()


def _preview_actions(
    definition: RuleDefinition, record: Any, record_id: int, run_as: Actor, rule: Rule | None
) -> list[ActionPreview]:
    previews = []
    for action in definition.actions:
        spec = action_type(action["type"])
        if spec is None:
            previews.append(ActionPreview(action["type"], action["type"], "", _("This action is no longer available.")))
            continue
        context = ActionContext(
            rule_id=rule.pk if rule is not None else None,
            rule_name=definition.name,
            record_type=definition.record_type,
            record=record,
            record_id=record_id,
            params=dict(action.get("params") or {}),
            actor=run_as,
            dry_run=True,
        )
        try:
            previews.append(ActionPreview(spec.key, str(spec.label), spec.describe(context)))
        except Exception as exc:  # a preview that cannot be made says why the action would fail
            if not isinstance(exc, DomainError):
                logger.exception("dry run: describing %s failed", spec.key)
            previews.append(ActionPreview(spec.key, str(spec.label), "", error_text(exc)))
    return previews


def _definition_of(actor: Actor, rule: Rule | Mapping[str, Any]) -> tuple[RuleDefinition, Rule | None]:
    if isinstance(rule, Rule):
        data = {
            "name": rule.name,
            "description": rule.description,
            "record_type": rule.record_type,
            "trigger_kind": rule.trigger_kind,
            "trigger_config": rule.trigger_config,
            "conditions": rule.conditions,
            "actions": rule.actions,
        }
        return clean_definition(actor=actor, data=data), rule
    return clean_definition(actor=actor, data=rule), None


def _visible_record(actor: Actor, rtype: RecordType, record_id: int) -> Any:
    if not rtype.visible_queryset(actor).filter(pk=record_id).exists():
        raise NotFound(_("There is no %(type)s #%(id)s you can see.") % {"type": rtype.label, "id": record_id})
    record = load_record(rtype, record_id)
    if record is None:
        raise NotFound()
    return record


def rule_dry_run(
    *, actor: Actor, rule: Rule | Mapping[str, Any], record_id: int, record_run: bool = False
) -> DryRunResult:
    """Test `rule` (a saved Rule, or a definition as rule_create takes it) against record `record_id`.

    The definition is checked first (ValidationFailed as at save time); the record must be one the actor
    can see (NotFound otherwise). With `record_run`, a saved rule's run log gets a "dry run" entry.
    """
    require_permission(actor, AUTOMATION_MANAGE)
    definition, saved = _definition_of(actor, rule)
    rtype = definition.record_type
    fields = fields_by_path(rtype)
    run_as = Actor(user=saved.run_as if saved is not None else actor.user, channel="system")
    with transaction.atomic():
        record = _visible_record(actor, rtype, record_id)
        fits, note, facts = _trigger_fit(definition, record, fields)
        conditions_error = ""
        try:
            met, lines = evaluate(definition.conditions, record, fields, facts=facts)
        except ConditionError as exc:
            met, lines, conditions_error = False, [], str(exc)
        actions = _preview_actions(definition, record, record_id, run_as, saved)
        label = rtype.display(record)
        transaction.set_rollback(True)
    result = DryRunResult(
        record_type=rtype.key,
        record_id=record_id,
        record_label=label,
        trigger_fits=fits,
        trigger_note=note,
        conditions_met=met,
        conditions=lines,
        actions=actions,
        conditions_error=conditions_error,
    )
    if record_run and saved is not None:
        now = timezone.now()
        run = RuleRun.objects.create(
            rule=saved,
            record_type=rtype.key,
            record_id=record_id,
            trigger_kind=saved.trigger_kind,
            trigger=_("dry run"),
            status=RunStatus.DRY_RUN,
            conditions=[line.as_dict() for line in lines],
            outcomes=[
                {
                    "type": preview.type,
                    "label": preview.label,
                    "status": ActionStatus.FAILED if preview.error else ActionStatus.WOULD_RUN,
                    "summary": preview.description,
                    "error": preview.error,
                }
                for preview in actions
            ],
            error=conditions_error,
            started_at=now,
            finished_at=now,
            requested_by=actor.user,
        )
        result = dataclasses.replace(result, run_id=run.pk)
    return result

"""Running rules: for events (the "automation" event subscriber), for dates and for schedules (the jobs).

One run = one rule for one record and one occurrence (an event id, a day, a scheduled slot):
1. A `RuleRun` row is inserted first. Its occurrence key is unique per rule and record, so an occurrence
   already run (a redelivered event, the job run twice, a second worker) stops here.
2. The conditions are evaluated on the record as it is now; not met: the run is logged as skipped.
3. The actions run in order inside one savepoint, as the rule's run-as user (channel "system") and inside
   `caused_by_rule(rule.pk)`, so the events they publish carry the rule in their chain: the rule is not
   started again by its own changes, and chains stop at MAX_CHAIN_DEPTH (platform/events). If an action
   fails, the savepoint is rolled back (the actions of a run happen all together or not at all), the run is
   logged as failed with the error, and nothing else is affected: the write that published the event was
   committed before delivery, and every rule runs in its own transaction.

The subscriber finds the rules of an event through an index of event name -> rule ids built from one query
and kept for RULE_INDEX_SECONDS (cleared at once in the process that changes a rule; other processes see a
change within that time). Only the rules found are read, with one query, and only when there are some.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.platform.automation.conditions import ChangeFacts, ConditionError, conditions_q, evaluate
from guanxi.platform.automation.models import ActionStatus, Rule, RuleRun, RunStatus
from guanxi.platform.automation.registry import (
    ActionContext,
    RecordField,
    RecordType,
    action_type,
    fields_by_path,
    record_type,
)
from guanxi.platform.automation.triggers import (
    TriggerKind,
    date_day_q,
    date_key,
    date_window,
    due_slot,
    field_change_fits,
    slot_key,
)
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import DomainError
from guanxi.platform.events.registry import Event, caused_by_rule

logger = logging.getLogger(__name__)

RULE_INDEX_SECONDS = 30
BATCH_SIZE = 200


# Which rules listen to which events -------------------------------------------------------------------


class _RuleIndex:
    """event name -> ids of the active rules that listen to it, rebuilt at most every RULE_INDEX_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_event: dict[str, list[int]] | None = None
        self._built_at = 0.0

    def rule_ids(self, event_name: str) -> list[int]:
        with self._lock:
            if self._by_event is None or time.monotonic() - self._built_at > RULE_INDEX_SECONDS:
                by_event: dict[str, list[int]] = {}
                rows = Rule.objects.filter(is_active=True).exclude(listens_to=[]).values_list("pk", "listens_to")
                for pk, names in rows.order_by("pk"):
                    for name in names or ():
                        by_event.setdefault(str(name), []).append(pk)
                self._by_event, self._built_at = by_event, time.monotonic()
            return list(self._by_event.get(event_name, ()))

    def clear(self) -> None:
        with self._lock:
            self._by_event = None


rule_index = _RuleIndex()


def rules_changed() -> None:
    """Called by the rule services: forget the index now and again once the change is committed (a rebuild
    in between, by another thread, would not see the change yet)."""
    rule_index.clear()
    transaction.on_commit(rule_index.clear)


# One run ------------------------------------------------------------------------------------------------


class _ActionsFailed(Exception):
    """Raised inside the actions' savepoint to roll it back after an action failed."""


def error_text(exc: BaseException) -> str:
    """An exception as the run log shows it: a domain error's message (and its field messages)."""
    if isinstance(exc, DomainError):
        parts = [exc.message]
        for name, messages in exc.fields.items():
            parts.append(f"{name}: {' '.join(messages)}")
        return " ".join(parts)
    return f"{type(exc).__name__}: {exc}"


def rule_language(rule: Rule) -> str:
    return rule.run_as.language or settings.LANGUAGE_CODE


def _run_actions(
    rule: Rule, rtype: RecordType, record: Any, record_id: int, event: Event | None
) -> tuple[str, list[dict[str, Any]], str]:
    """Run the rule's actions all together: (status, outcomes, error)."""
    actor = Actor(user=rule.run_as, channel="system")
    outcomes: list[dict[str, Any]] = []
    error = ""
    try:
        with transaction.atomic(), caused_by_rule(rule.pk):
            for index, action in enumerate(rule.actions):
                spec = action_type(str(action.get("type")))
                label = str(spec.label) if spec is not None else str(action.get("type"))
                try:
                    if spec is None:
                        raise LookupError(_("This action is no longer available."))
                    context = ActionContext(
                        rule_id=rule.pk,
                        rule_name=rule.name,
                        record_type=rtype,
                        record=record,
                        record_id=record_id,
                        params=dict(action.get("params") or {}),
                        actor=actor,
                        event=event,
                    )
                    result = spec.execute(context)
                except Exception as exc:  # any failure of an action fails the run, never the caller
                    if not isinstance(exc, DomainError | LookupError):
                        logger.exception("rule %s: action %s failed on %s#%s", rule.pk, label, rtype.key, record_id)
                    error = error_text(exc)
                    for done in outcomes:
                        done["status"] = ActionStatus.ROLLED_BACK
                    outcomes.append({"type": action.get("type"), "label": label, "status": ActionStatus.FAILED,
                                     "summary": "", "error": error})  # fmt: skip
                    for later in rule.actions[index + 1 :]:
                        later_spec = action_type(str(later.get("type")))
                        later_label = str(later_spec.label) if later_spec else str(later.get("type"))
                        outcomes.append({"type": later.get("type"), "label": later_label,
                                         "status": ActionStatus.NOT_RUN, "summary": ""})  # fmt: skip
                    raise _ActionsFailed() from exc
                outcomes.append({"type": spec.key, "label": label, "status": ActionStatus.SUCCEEDED,
                                 "summary": result.summary, "data": result.data})  # fmt: skip
    except _ActionsFailed:
        return RunStatus.FAILED, outcomes, error
    return RunStatus.SUCCEEDED, outcomes, ""


def execute_run(
    *,
    rule: Rule,
    rtype: RecordType,
    record: Any,
    record_id: int,
    fields: Mapping[str, RecordField],
    trigger: str,
    occurrence_key: str,
    event: Event | None = None,
    facts: ChangeFacts | None = None,
) -> RuleRun | None:
    """Run `rule` for one record and occurrence (see the module docstring); None when that occurrence has
    already run."""
    with transaction.atomic():
        run = RuleRun(
            rule=rule,
            record_type=rtype.key,
            record_id=record_id,
            trigger_kind=rule.trigger_kind,
            trigger=trigger[:200],
            event_id=event.id if event is not None else "",
            occurrence_key=occurrence_key[:200],
            status=RunStatus.RUNNING,
            started_at=timezone.now(),
        )
        try:
            with transaction.atomic():
                run.save()
        except IntegrityError:
            return None
        with translation.override(rule_language(rule)):
            try:
                met, lines = evaluate(rule.conditions, record, fields, facts=facts)
            except ConditionError as exc:
                run.status, run.error = RunStatus.FAILED, str(exc)
            else:
                run.conditions = [line.as_dict() for line in lines]
                if not met:
                    run.status = RunStatus.SKIPPED
                elif not rule.run_as.is_active:
                    run.status = RunStatus.FAILED
                    run.error = _(
                        "The rule runs as %(user)s, who is no longer active. Save or switch on the rule again "
                        "to run it as yourself."
                    ) % {"user": rule.run_as}
                else:
                    run.status, run.outcomes, run.error = _run_actions(rule, rtype, record, record_id, event)
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "conditions", "outcomes", "error", "finished_at"])
    return run


def load_record(rtype: RecordType, record_id: int) -> Any:
    """The record as rules read it (with the type's joins and annotations), or None when it is gone."""
    return rtype.queryset().filter(pk=record_id).first()


# Events --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _EventFit:
    fits: bool
    facts: ChangeFacts


def _event_fit(
    rule: Rule, rtype: RecordType, fields: Mapping[str, RecordField], event: Event, record: Any
) -> _EventFit:
    created = bool(rtype.create_event) and event.name == rtype.create_event
    changes = event.payload.get("changes") if event.name == rtype.change_event else None
    facts = ChangeFacts(changes=changes if isinstance(changes, dict) else None, created=created)
    if rule.trigger_kind == TriggerKind.EVENT:
        return _EventFit(rule.trigger_config.get("event") == event.name, facts)
    if rule.trigger_kind == TriggerKind.FIELD_CHANGE:
        field = fields.get(str(rule.trigger_config.get("field")))
        if field is None:
            logger.warning("rule %s listens to a field that no longer exists: %s", rule.pk, rule.trigger_config)
            return _EventFit(False, facts)
        return _EventFit(field_change_fits(rule.trigger_config, field, rtype, event, record), facts)
    return _EventFit(False, facts)


class _EventRecords:
    """The fields of an event's record type, read once for all the rules of the event. The record itself is
    read again for each rule, so a rule sees what the rules before it changed."""

    def __init__(self, event: Event) -> None:
        self.event = event
        self._fields: dict[str, dict[str, RecordField]] = {}

    def get(self, rtype: RecordType) -> tuple[dict[str, RecordField], Any]:
        if rtype.key not in self._fields:
            self._fields[rtype.key] = fields_by_path(rtype)
        return self._fields[rtype.key], load_record(rtype, self.event.record_id)


def run_rule_for_event(rule: Rule, event: Event, records: _EventRecords | None = None) -> RuleRun | None:
    rtype = record_type(rule.record_type)
    if rtype is None or rtype.key != event.record_type:
        return None
    fields, record = (records or _EventRecords(event)).get(rtype)
    fit = _event_fit(rule, rtype, fields, event, record)
    if not fit.fits:
        return None
    return execute_run(
        rule=rule,
        rtype=rtype,
        record=record,
        record_id=event.record_id,
        fields=fields,
        trigger=event.name,
        occurrence_key=f"event:{event.id}",
        event=event,
        facts=fit.facts,
    )


def handle_event(event: Event) -> None:
    """The "automation" event subscriber: run every active rule the event starts."""
    rule_ids = rule_index.rule_ids(event.name)
    if not rule_ids:
        return
    rules = Rule.objects.filter(pk__in=rule_ids, is_active=True).select_related("run_as").order_by("pk")
    records = _EventRecords(event)
    for rule in rules:
        if rule.pk in event.chain:
            continue  # a rule never runs again on the events its own actions caused
        try:
            run_rule_for_event(rule, event, records)
        except Exception:  # one rule's failure must not stop the others
            logger.exception("rule %s failed on event %s %s", rule.pk, event.name, event.id)


# Dates and schedules -------------------------------------------------------------------------------------


def _run_for_records(
    *, rule: Rule, rtype: RecordType, fields: Mapping[str, RecordField], qs: QuerySet[Any], key: str, trigger: str
) -> int:
    """Run `rule` once for each record of `qs` that has not had occurrence `key` yet, in batches by id."""
    already = RuleRun.objects.filter(rule=rule, record_type=rtype.key, occurrence_key=key).values("record_id")
    pending = qs.exclude(pk__in=already).order_by("pk")
    count, last = 0, 0
    while True:
        batch = list(pending.filter(pk__gt=last)[:BATCH_SIZE])
        for record in batch:
            run = execute_run(
                rule=rule, rtype=rtype, record=record, record_id=record.pk, fields=fields, trigger=trigger,
                occurrence_key=key,
            )  # fmt: skip
            count += run is not None
        if len(batch) < BATCH_SIZE:
            return count
        last = batch[-1].pk


def _scheduled_context(rule: Rule) -> tuple[RecordType, dict[str, RecordField]] | None:
    rtype = record_type(rule.record_type)
    if rtype is None:
        logger.warning("rule %s is about an unknown record type %s", rule.pk, rule.record_type)
        return None
    return rtype, fields_by_path(rtype)


def run_date_rule(rule: Rule, now: Any) -> int:
    context = _scheduled_context(rule)
    if context is None:
        return 0
    rtype, fields = context
    field = fields.get(str(rule.trigger_config.get("field")))
    if field is None:
        logger.warning("date rule %s tests a field that no longer exists: %s", rule.pk, rule.trigger_config)
        return 0
    narrowing = conditions_q(rule.conditions, fields)
    count = 0
    for day in date_window(now, rule.activated_at):
        day_q = date_day_q(rule.trigger_config, field, day, now, rule.activated_at)
        if day_q is None:
            continue
        qs = rtype.queryset().filter(day_q)
        if narrowing is not None:
            qs = qs.filter(narrowing)
        count += _run_for_records(
            rule=rule, rtype=rtype, fields=fields, qs=qs, key=date_key(day), trigger=day.isoformat()
        )
    return count


def run_schedule_rule(rule: Rule, now: Any) -> int:
    slot = due_slot(rule.trigger_config, now, rule.activated_at)
    context = _scheduled_context(rule)
    if slot is None or context is None:
        return 0
    rtype, fields = context
    qs = rtype.queryset()
    narrowing = conditions_q(rule.conditions, fields)
    if narrowing is not None:
        qs = qs.filter(narrowing)
    key = slot_key(slot)
    return _run_for_records(rule=rule, rtype=rtype, fields=fields, qs=qs, key=key, trigger=key.split(":", 1)[1])


def run_rules_of_kind(kind: str, now: Any = None) -> int:
    """Run every active date (or schedule) rule that is due; returns how many runs were made."""
    now = now or timezone.now()
    runner = run_date_rule if kind == TriggerKind.DATE else run_schedule_rule
    count = 0
    for rule in Rule.objects.filter(is_active=True, trigger_kind=kind).select_related("run_as").order_by("pk"):
        try:
            count += runner(rule, now)
        except Exception:  # one broken rule must not stop the others
            logger.exception("%s rule %s failed", kind, rule.pk)
    return count

"""API routes of workflow rules (mounted under /api/v1/): rules, switching them on and off, dry runs, the run
log and the catalogue of what rules are built from. Reads need `automation.view` (or manage), writes and
dry runs `automation.manage`; API tokens need the "automation" area."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Query, Router, Schema, Status

from guanxi.platform.automation import selectors, services
from guanxi.platform.automation.dry_run import DryRunResult, rule_dry_run
from guanxi.platform.automation.models import Rule, RuleRun
from guanxi.platform.automation.summaries import TriggerSummaries
from guanxi.platform.core.api import (
    IF_MATCH,
    UPDATE_ERROR_STATUSES,
    PageQuery,
    Payload,
    RecordId,
    actor_of,
    etag_for,
    expected_version,
    optional_version,
    page_out,
    responses,
)
from guanxi.platform.core.pagination import keyset_paginate

router = Router(tags=["workflow rules"])
# Mounted before `router`: Django tries paths in order, and /rules/dry-run must win over /rules/{rule_id}.
definitions_router = Router(tags=["workflow rules"])

_TRIGGER_HELP = (
    'event: {"event": "customer.owner_changed"}; field_change: {"field": "lifecycle_stage", "to": "dormant", '
    '"from": "active"} ("to"/"from" optional); date: {"field": "birthday", "offset_days": 3, "direction": '
    '"before"|"after", "hour": 9, "yearly": true}; schedule: {"frequency": "daily"|"weekly"|"monthly", "hour": 8, '
    '"weekday": 0-6 (weekly), "day": 1-31 (monthly)}.'
)
_CONDITIONS_HELP = (
    'A tree of {"all": [...]} / {"any": [...]} groups with field tests {"field": path, "op": operator, "value": '
    "...}; see GET /automation/catalogue for the fields and operators of each record type. {} always holds."
)
_ACTIONS_HELP = '[{"type": "notify", "params": {...}}]; the action types and their parameters are in the catalogue.'


class RuleIn(Payload):
    name: str
    description: str = ""
    record_type: str = Field(..., description='A record type of the catalogue, such as "customers.customer".')
    trigger_kind: str = Field(..., description="event, field_change, date or schedule.")
    trigger_config: dict[str, Any] = Field(default_factory=dict, description=_TRIGGER_HELP)
    conditions: dict[str, Any] = Field(default_factory=dict, description=_CONDITIONS_HELP)
    actions: list[Any] = Field(default_factory=list, description=_ACTIONS_HELP)
    is_active: bool = Field(False, description="Switch the rule on at once (test it with a dry run first).")


class RulePatch(Payload):
    name: str | None = None
    description: str | None = None
    record_type: str | None = None
    trigger_kind: str | None = None
    trigger_config: dict[str, Any] | None = None
    conditions: dict[str, Any] | None = None
    actions: list[Any] | None = None
    is_active: bool | None = None
    version: int | None = Field(None, description="The version you read; or send it in the If-Match header.")


class VersionIn(Payload):
    version: int | None = Field(None, description="The version you read (optional; checked when sent).")


class UserRef(Schema):
    id: int
    name: str


class RuleOut(Schema):
    id: int
    name: str
    description: str
    record_type: str
    trigger_kind: str
    trigger_config: dict[str, Any]
    trigger_summary: str
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    is_active: bool
    activated_at: dt.datetime | None
    run_as: UserRef
    listens_to: list[str]
    last_run_status: str | None = None
    last_run_at: dt.datetime | None = None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


class RulePage(Schema):
    items: list[RuleOut]
    next_cursor: str | None


class RuleListQuery(PageQuery):
    record_type: str = Field("", description="Only rules about this record type.")
    trigger_kind: str = Field("", description="Only this kind of trigger.")
    is_active: bool | None = Field(None, description="Only rules switched on (true) or off (false).")
    q: str = Field("", max_length=100, description="Text in the name or description.")


def _rule_out(rule: Rule, summaries: TriggerSummaries) -> RuleOut:
    return RuleOut(
        id=rule.pk,
        name=rule.name,
        description=rule.description,
        record_type=rule.record_type,
        trigger_kind=rule.trigger_kind,
        trigger_config=rule.trigger_config,
        trigger_summary=summaries.of(rule),
        conditions=rule.conditions,
        actions=rule.actions,
        is_active=rule.is_active,
        activated_at=rule.activated_at,
        run_as=UserRef(id=rule.run_as_id, name=str(rule.run_as)),
        listens_to=rule.listens_to,
        last_run_status=getattr(rule, "last_run_status", None),
        last_run_at=getattr(rule, "last_run_at", None),
        created_at=rule.created_at,
        updated_at=rule.updated_at,
        version=rule.version,
    )


def _one(request: HttpRequest, response: HttpResponse, rule: Rule) -> RuleOut:
    response["ETag"] = etag_for(rule.version)
    return _rule_out(rule, TriggerSummaries())


@router.get("/rules", response=responses(RulePage), summary="List workflow rules")
def list_rules(request: HttpRequest, query: Query[RuleListQuery]) -> RulePage:
    """By name, each with the status and time of its latest run (dry runs aside)."""
    qs = selectors.rule_list(
        actor=actor_of(request),
        filters=selectors.RuleFilters(
            record_type=query.record_type, trigger_kind=query.trigger_kind, is_active=query.is_active, text=query.q
        ),
    )
    page = keyset_paginate(qs, sort="name", cursor=query.cursor, page_size=query.limit)
    summaries = TriggerSummaries()
    return page_out(RulePage, page, lambda rule: _rule_out(rule, summaries))


@router.post("/rules", response=responses(RuleOut, status=201), summary="Create a workflow rule")
def create_rule(request: HttpRequest, response: HttpResponse, payload: RuleIn) -> Status[RuleOut]:
    """The whole definition is checked; every problem is answered at once (422) with its path, such as
    `conditions.1.value` or `actions.0.params.template_id`. The rule runs with the creator's rights."""
    rule = services.rule_create(actor=actor_of(request), data=payload.model_dump(mode="python"))
    return Status(201, _one(request, response, rule))


@router.get("/rules/{rule_id}", response=responses(RuleOut), summary="Get a workflow rule")
def get_rule(request: HttpRequest, response: HttpResponse, rule_id: int) -> RuleOut:
    """The ETag header carries the version."""
    return _one(request, response, selectors.rule_get(actor=actor_of(request), rule_id=rule_id))


@router.patch(
    "/rules/{rule_id}",
    response=responses(RuleOut, errors=UPDATE_ERROR_STATUSES),
    summary="Change a workflow rule",
    description="Send the version you read (If-Match or `version`): 428 without it, 412 when stale. The changed "
    "definition is checked as a whole, and the rule then runs with your rights.",
)
def update_rule(
    request: HttpRequest, response: HttpResponse, rule_id: int, payload: RulePatch, if_match: str | None = IF_MATCH
) -> RuleOut:
    actor = actor_of(request)
    rule = selectors.rule_get(actor=actor, rule_id=rule_id)
    changes = payload.model_dump(exclude_unset=True, mode="python")
    version = expected_version(request, changes.pop("version", None))
    data = {key: value for key, value in changes.items() if value is not None}
    rule = services.rule_update(actor=actor, rule=rule, data=data, expected_version=version)
    return _one(request, response, rule)


@router.delete("/rules/{rule_id}", response=responses(None, status=204), summary="Delete a workflow rule")
def delete_rule(request: HttpRequest, rule_id: int) -> Status[None]:
    """Deletes the rule and its run log."""
    actor = actor_of(request)
    services.rule_delete(actor=actor, rule=selectors.rule_get(actor=actor, rule_id=rule_id))
    return Status(204, None)


@router.post(
    "/rules/{rule_id}/activate",
    response=responses(RuleOut, errors=UPDATE_ERROR_STATUSES),
    summary="Switch a workflow rule on",
)
def activate_rule(
    request: HttpRequest,
    response: HttpResponse,
    rule_id: int,
    payload: VersionIn | None = None,
    if_match: str | None = IF_MATCH,
) -> RuleOut:
    """The definition is checked again (422 if something it uses has gone); the rule then runs with your
    rights. Date and schedule rules run only for occurrences from now on."""
    actor = actor_of(request)
    rule = selectors.rule_get(actor=actor, rule_id=rule_id)
    version = optional_version(request, payload.version if payload is not None else None)
    return _one(request, response, services.rule_activate(actor=actor, rule=rule, expected_version=version))


@router.post(
    "/rules/{rule_id}/deactivate",
    response=responses(RuleOut, errors=UPDATE_ERROR_STATUSES),
    summary="Switch a workflow rule off",
)
def deactivate_rule(
    request: HttpRequest,
    response: HttpResponse,
    rule_id: int,
    payload: VersionIn | None = None,
    if_match: str | None = IF_MATCH,
) -> RuleOut:
    actor = actor_of(request)
    rule = selectors.rule_get(actor=actor, rule_id=rule_id)
    version = optional_version(request, payload.version if payload is not None else None)
    return _one(request, response, services.rule_deactivate(actor=actor, rule=rule, expected_version=version))


# Dry runs --------------------------------------------------------------------------------------------


class DryRunIn(Payload):
    record_id: RecordId = Field(..., description="The record to test the rule against (one you can see).")
    record_run: bool = Field(False, description="Also write a dry-run entry in the rule's run log.")


class DefinitionDryRunIn(Payload):
    record_id: RecordId
    definition: RuleIn = Field(..., description="The rule as it would be created (is_active is ignored).")


class ConditionLineOut(Schema):
    path: str
    depth: int
    result: bool
    mode: str = Field(..., description='"all" or "any" for a group, "" for a field test.')
    field: str
    field_label: str
    op: str
    op_label: str
    expected: str
    actual: str


class ActionPreviewOut(Schema):
    type: str
    label: str
    description: str = Field(..., description="What the action would do.")
    error: str = Field(..., description="Why the action would fail, if it would.")


class DryRunOut(Schema):
    record_type: str
    record_id: int
    record_label: str
    trigger_fits: bool
    trigger_note: str
    conditions_met: bool
    conditions_error: str
    conditions: list[ConditionLineOut]
    actions: list[ActionPreviewOut]
    would_run: bool
    run_id: int | None


def _dry_run_out(result: DryRunResult) -> DryRunOut:
    return DryRunOut(
        record_type=result.record_type,
        record_id=result.record_id,
        record_label=result.record_label,
        trigger_fits=result.trigger_fits,
        trigger_note=result.trigger_note,
        conditions_met=result.conditions_met,
        conditions_error=result.conditions_error,
        conditions=[ConditionLineOut(**line.as_dict()) for line in result.conditions],
        actions=[
            ActionPreviewOut(type=a.type, label=a.label, description=a.description, error=a.error)
            for a in result.actions
        ],
        would_run=result.would_run,
        run_id=result.run_id,
    )


@definitions_router.post("/rules/dry-run", response=responses(DryRunOut), summary="Dry-run an unsaved rule definition")
def dry_run_definition(request: HttpRequest, payload: DefinitionDryRunIn) -> DryRunOut:
    """Checks the definition as creating it would (422 with the same messages), then tests it against the
    record. Nothing is written."""
    definition = payload.definition.model_dump(mode="python")
    definition.pop("is_active", None)
    result = rule_dry_run(actor=actor_of(request), rule=definition, record_id=payload.record_id)
    return _dry_run_out(result)


@router.post("/rules/{rule_id}/dry-run", response=responses(DryRunOut), summary="Dry-run a workflow rule")
def dry_run_rule(request: HttpRequest, rule_id: int, payload: DryRunIn) -> DryRunOut:
    """Whether the trigger applies to the record, each condition with the record's actual value, and what each
    action would do. Nothing is changed (with `record_run`, only a dry-run entry in the run log)."""
    actor = actor_of(request)
    rule = selectors.rule_get(actor=actor, rule_id=rule_id)
    result = rule_dry_run(actor=actor, rule=rule, record_id=payload.record_id, record_run=payload.record_run)
    return _dry_run_out(result)


# The run log -----------------------------------------------------------------------------------------


class RunOut(Schema):
    id: int
    rule_id: int
    rule_name: str
    record_type: str
    record_id: int
    trigger_kind: str
    trigger: str
    event_id: str
    status: str
    conditions: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]
    error: str
    started_at: dt.datetime
    finished_at: dt.datetime | None


class RunPage(Schema):
    items: list[RunOut]
    next_cursor: str | None


class RunQuery(PageQuery):
    rule_id: RecordId | None = Field(None, description="Only runs of this rule.")
    status: str = Field("", description="running, succeeded, failed, skipped or dry_run.")
    record_type: str = Field("", description="Only runs about this record type.")
    record_id: RecordId | None = Field(None, description="Only runs about this record (with record_type).")


class RuleRunQuery(PageQuery):
    status: str = Field("", description="running, succeeded, failed, skipped or dry_run.")
    record_id: RecordId | None = None


def _run_out(run: RuleRun) -> RunOut:
    return RunOut(
        id=run.pk,
        rule_id=run.rule_id,
        rule_name=run.rule.name,
        record_type=run.record_type,
        record_id=run.record_id,
        trigger_kind=run.trigger_kind,
        trigger=run.trigger,
        event_id=run.event_id,
        status=run.status,
        conditions=run.conditions,
        outcomes=run.outcomes,
        error=run.error,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )


@router.get("/rule-runs", response=responses(RunPage), summary="List rule runs")
def list_runs(request: HttpRequest, query: Query[RunQuery]) -> RunPage:
    """Newest first, with each run's conditions as evaluated and each action's outcome."""
    qs = selectors.rule_run_list(
        actor=actor_of(request),
        filters=selectors.RunFilters(
            rule_id=query.rule_id, status=query.status, record_type=query.record_type, record_id=query.record_id
        ),
    )
    return page_out(RunPage, keyset_paginate(qs, sort="-id", cursor=query.cursor, page_size=query.limit), _run_out)


@router.get("/rule-runs/{run_id}", response=responses(RunOut), summary="Get a rule run")
def get_run(request: HttpRequest, run_id: int) -> RunOut:
    return _run_out(selectors.rule_run_get(actor=actor_of(request), run_id=run_id))


@router.get("/rules/{rule_id}/runs", response=responses(RunPage), summary="List the runs of a workflow rule")
def list_rule_runs(request: HttpRequest, rule_id: int, query: Query[RuleRunQuery]) -> RunPage:
    actor = actor_of(request)
    rule = selectors.rule_get(actor=actor, rule_id=rule_id)
    qs = selectors.rule_run_list(
        actor=actor, filters=selectors.RunFilters(rule_id=rule.pk, status=query.status, record_id=query.record_id)
    )
    return page_out(RunPage, keyset_paginate(qs, sort="-id", cursor=query.cursor, page_size=query.limit), _run_out)


# The catalogue -----------------------------------------------------------------------------------------


class ChoiceOut(Schema):
    value: str
    label: str


class FieldOut(Schema):
    path: str
    label: str
    kind: str
    kind_label: str
    choices: list[ChoiceOut]
    multiple: bool
    operators: list[ChoiceOut]
    change_reported: bool = Field(..., description="Field-change triggers and the `changed` operator apply.")
    settable: bool
    group: str


class EventOut(Schema):
    name: str
    label: str
    payload: list[str]


class ShowIfOut(Schema):
    param: str
    values: list[str]


class ParamOut(Schema):
    name: str
    label: str
    kind: str
    required: bool
    help_text: str
    default: Any = None
    choices: list[ChoiceOut] | None = None
    show_if: ShowIfOut | None = None
    minimum: int | None = None
    maximum: int | None = None


class ActionTypeOut(Schema):
    type: str
    label: str
    description: str
    params: list[ParamOut]


class RecordTypeOut(Schema):
    key: str
    label: str
    fields: list[FieldOut]
    events: list[EventOut]
    change_event: str
    create_event: str
    links: list[str]
    actions: list[ActionTypeOut]


class CatalogueOut(Schema):
    record_types: list[RecordTypeOut]
    trigger_kinds: list[ChoiceOut]
    frequencies: list[ChoiceOut]
    directions: list[ChoiceOut]
    weekdays: list[ChoiceOut]
    field_kinds: list[ChoiceOut]


@router.get("/automation/catalogue", response=responses(CatalogueOut), summary="What rules are built from")
def catalogue(request: HttpRequest) -> CatalogueOut:
    """Record types with their fields (custom fields included) and operators, the events about each, the
    trigger kinds, and the action types that apply to each record type with their parameters: the same source
    the rule builder uses."""
    return CatalogueOut(**selectors.automation_catalogue(actor=actor_of(request)))


def mount(api: NinjaAPI) -> None:
    api.add_router("/", definitions_router)
    api.add_router("/", router)

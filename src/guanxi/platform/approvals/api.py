"""API routes of approvals (mounted under /api/v1/): process definitions for administrators, and requests
(list by box, detail with progress and log, submit, decide, cancel, resubmit, comment) for everyone."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Query, Router, Schema, Status

from guanxi.platform.approvals import definitions, selectors, services
from guanxi.platform.approvals.models import (
    ApprovalAction,
    ApprovalProcess,
    ApprovalRequest,
    ApprovalStep,
    ApproverKind,
    EscalateTo,
    RequestStatus,
    RoleScope,
)
from guanxi.platform.approvals.registry import approvable_types
from guanxi.platform.core.api import (
    IF_MATCH,
    UPDATE_ERROR_STATUSES,
    PageQuery,
    Payload,
    RecordId,
    actor_of,
    etag_for,
    expected_version,
    listed_choices,
    optional_version,
    page_out,
    responses,
)
from guanxi.platform.core.pagination import keyset_paginate

router = Router(tags=["approvals"])

COMMENT = Field("", max_length=services.COMMENT_MAX, description="A comment for the request's log.")
VERSION = Field(None, description="The version you read; or send it in the If-Match header.")


def _list_approvable_types(schema: dict[str, Any]) -> None:
    """The kinds of record that take approvals, as the apps registered them (read when the schema is built)."""
    schema["enum"] = sorted(approvable_types())


# Processes ------------------------------------------------------------------------------------------


class StepIn(Payload):
    id: RecordId | None = Field(None, description="An existing step of this process to keep; none adds a step.")
    name: str = Field("", max_length=definitions.NAME_MAX)
    approver_kind: Annotated[str, listed_choices(ApproverKind.values)] = Field(
        ..., description="role: anyone with `role_id`; manager: the requester's manager; user: `user_id`."
    )
    role_id: RecordId | None = None
    role_scope: Annotated[str, listed_choices(RoleScope.values)] = RoleScope.ANYONE
    user_id: RecordId | None = None
    timeout_hours: int = Field(0, description="0: no timeout.", le=definitions.TIMEOUT_MAX_HOURS)
    remind_on_timeout: bool = False
    escalate_to: Annotated[str, listed_choices(EscalateTo.values)] = Field(
        "", description='"" (nobody), manager (the approver\'s manager) or user (`escalation_user_id`).'
    )
    escalation_user_id: RecordId | None = None


class StepOut(Schema):
    id: int
    position: int
    name: str
    approver_kind: str
    approver: str
    role_id: int | None
    role_scope: str
    user_id: int | None
    timeout_hours: int
    remind_on_timeout: bool
    escalate_to: str
    escalation_user_id: int | None


class ProcessOut(Schema):
    id: int
    name: str
    approvable_type: str
    description: str
    is_active: bool
    steps: list[StepOut]
    version: int


class ProcessList(Schema):
    items: list[ProcessOut]


class ProcessCreate(Payload):
    name: str = Field(..., max_length=definitions.NAME_MAX)
    approvable_type: str = Field(
        ..., description='The kind of record, such as "customers.customer".', json_schema_extra=_list_approvable_types
    )
    description: str = Field("", max_length=definitions.DESCRIPTION_MAX)
    is_active: bool = True
    steps: list[StepIn] = Field(
        ..., min_length=1, max_length=definitions.STEPS_MAX, description="In order; at least one."
    )


class ProcessPatch(Payload):
    name: str | None = Field(None, max_length=definitions.NAME_MAX)
    description: str | None = Field(None, max_length=definitions.DESCRIPTION_MAX)
    is_active: bool | None = None
    steps: list[StepIn] | None = Field(
        None, min_length=1, max_length=definitions.STEPS_MAX, description="The complete new list of steps, in order."
    )
    version: int | None = VERSION


class ProcessListQuery(Schema):
    approvable_type: str = Field("", description='Only this kind of record, such as "customers.customer".')
    include_inactive: bool = Field(False, description="Also switched-off processes (approval administrators).")


def _step_out(step: ApprovalStep) -> StepOut:
    return StepOut(
        id=step.pk,
        position=step.position,
        name=step.name,
        approver_kind=step.approver_kind,
        approver=selectors.describe_approver(step),
        role_id=step.role_id,
        role_scope=step.role_scope,
        user_id=step.user_id,
        timeout_hours=step.timeout_hours,
        remind_on_timeout=step.remind_on_timeout,
        escalate_to=step.escalate_to,
        escalation_user_id=step.escalation_user_id,
    )


def _process_out(process: ApprovalProcess, steps: list[ApprovalStep] | None = None) -> ProcessOut:
    if steps is None:
        steps = services.process_steps(process)
    return ProcessOut(
        id=process.pk,
        name=process.name,
        approvable_type=process.approvable_type,
        description=process.description,
        is_active=process.is_active,
        steps=[_step_out(step) for step in steps],
        version=process.version,
    )


def _steps_data(steps: list[StepIn]) -> list[dict[str, Any]]:
    return [step.model_dump(mode="python") for step in steps]


@router.get("/approval-processes", response=responses(ProcessList), summary="List approval processes")
def list_processes(request: HttpRequest, query: Query[ProcessListQuery]) -> ProcessList:
    """Active processes for whoever may request approvals; inactive ones too for approval administrators."""
    processes = selectors.approval_process_list(
        actor=actor_of(request), approvable_type=query.approvable_type, include_inactive=query.include_inactive
    ).prefetch_related("steps__role", "steps__user", "steps__escalation_user")
    return ProcessList(items=[_process_out(p, list(p.steps.all())) for p in processes])


@router.get(
    "/approval-processes/{process_id}",
    response=responses(ProcessOut),
    summary="Get an approval process",
    description="The ETag header carries the version.",
)
def get_process(request: HttpRequest, response: HttpResponse, process_id: RecordId) -> ProcessOut:
    process = selectors.approval_process_get(actor=actor_of(request), process_id=process_id)
    response["ETag"] = etag_for(process.version)
    return _process_out(process)


@router.post("/approval-processes", response=responses(ProcessOut, status=201), summary="Create an approval process")
def create_process(request: HttpRequest, payload: ProcessCreate) -> Status[ProcessOut]:
    process = definitions.approval_process_save(
        actor=actor_of(request),
        process=None,
        name=payload.name,
        approvable_type=payload.approvable_type,
        description=payload.description,
        is_active=payload.is_active,
        steps=_steps_data(payload.steps),
    )
    return Status(201, _process_out(process))


@router.patch(
    "/approval-processes/{process_id}",
    response=responses(ProcessOut, errors=UPDATE_ERROR_STATUSES),
    summary="Change an approval process",
    description=(
        "The record type is fixed. `steps`, when sent, is the complete new list in order: a step with the `id` "
        "of an existing step keeps it, one without adds a step, and steps left out are removed (refused while "
        "requests wait at them). Send the version you read (If-Match or `version`): 428 without it, 412 when "
        "stale."
    ),
)
def update_process(
    request: HttpRequest,
    response: HttpResponse,
    process_id: RecordId,
    payload: ProcessPatch,
    if_match: str | None = IF_MATCH,
) -> ProcessOut:
    actor = actor_of(request)
    process = selectors.approval_process_get(actor=actor, process_id=process_id)
    changes = payload.model_dump(exclude_unset=True, mode="python")
    version = expected_version(request, changes.pop("version", None))
    steps = changes.get("steps")
    if steps is None:
        steps = [
            {field: getattr(step, field) for field in ("id", *definitions.STEP_FIELDS)}
            for step in services.process_steps(process)
        ]
    name, description, is_active = payload.name, payload.description, payload.is_active
    process = definitions.approval_process_save(
        actor=actor,
        process=process,
        name=name if name is not None else process.name,
        approvable_type=process.approvable_type,
        description=description if description is not None else process.description,
        is_active=is_active if is_active is not None else process.is_active,
        steps=steps,
        version=version,
    )
    response["ETag"] = etag_for(process.version)
    return _process_out(process)


@router.delete(
    "/approval-processes/{process_id}",
    response=responses(None, status=204),
    summary="Delete an approval process",
    description="Only a process that has no requests; switch a used one off instead (409).",
)
def delete_process(request: HttpRequest, process_id: RecordId) -> Status[None]:
    definitions.approval_process_delete(actor=actor_of(request), process_id=process_id)
    return Status(204, None)


# Requests -------------------------------------------------------------------------------------------


class RequestOut(Schema):
    id: int
    process_id: int
    process_name: str
    approvable_type: str
    object_id: int
    object_label: str
    object_url: str
    summary: str
    amount: str | None = Field(None, description="A decimal number as text, with `currency`.")
    currency: str
    requester_id: int
    requester_name: str
    status: RequestStatus
    round: int
    current_step_position: int | None
    step_count: int
    submitted_at: dt.datetime
    step_due_at: dt.datetime | None
    decided_at: dt.datetime | None
    version: int


class StepProgressOut(Schema):
    number: int
    step_id: int
    name: str
    approver: str
    state: str = Field(..., description="done, current, rejected, returned, cancelled or waiting.")
    asked: list[str]
    decided_by: str


class ActionOut(Schema):
    id: int
    kind: str
    round: int
    step_position: int | None
    actor_id: int | None = Field(None, description="None: the system (timeouts).")
    actor_name: str
    comment: str
    detail: dict[str, Any]
    at: dt.datetime


class RequestDetail(RequestOut):
    steps: list[StepProgressOut]
    actions: list[ActionOut]
    can_decide: bool
    can_cancel: bool
    can_resubmit: bool


class RequestPage(Schema):
    items: list[RequestOut]
    next_cursor: str | None


class RequestListQuery(PageQuery):
    box: Annotated[str, listed_choices(selectors.BOXES)] = Field(
        "inbox",
        description="inbox: waiting for me; mine: submitted by me; all: every request (approval administrators).",
    )
    status: Annotated[str, listed_choices(["", *RequestStatus.values])] = ""
    approvable_type: str = ""
    object_id: RecordId | None = None
    process_id: RecordId | None = None


class SubmitIn(Payload):
    process_id: RecordId
    approvable_type: str = Field(..., json_schema_extra=_list_approvable_types)
    object_id: RecordId
    comment: str = COMMENT


class DecideIn(Payload):
    decision: Annotated[str, listed_choices(["approve", "reject", "return"])]
    comment: str = Field(
        "", max_length=services.COMMENT_MAX, description="Required to reject or return: say why, or what to change."
    )
    version: int | None = VERSION


class CommentIn(Payload):
    comment: str = COMMENT
    version: int | None = VERSION


class NewComment(Payload):
    comment: str = Field(..., min_length=1, max_length=services.COMMENT_MAX)


def _request_out(request: ApprovalRequest) -> RequestOut:
    return RequestOut(**_request_fields(request))


def _request_fields(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "id": request.pk,
        "process_id": request.process_id,
        "process_name": request.process.name,
        "approvable_type": request.approvable_type,
        "object_id": int(request.object_id),
        "object_label": request.object_label,
        "object_url": request.object_url,
        "summary": request.summary,
        "amount": str(request.amount) if request.amount is not None else None,
        "currency": request.currency,
        "requester_id": request.requester_id,
        "requester_name": str(request.requester),
        "status": RequestStatus(request.status),
        "round": request.round,
        "current_step_position": request.current_step.position if request.current_step is not None else None,
        "step_count": getattr(request, "step_count", 0) or 0,
        "submitted_at": request.submitted_at,
        "step_due_at": request.step_due_at,
        "decided_at": request.decided_at,
        "version": request.version,
    }


def _action_out(action: ApprovalAction) -> ActionOut:
    return ActionOut(
        id=action.pk,
        kind=action.kind,
        round=action.round,
        step_position=action.step_position,
        actor_id=action.actor_id,
        actor_name=str(action.actor) if action.actor is not None else "",
        comment=action.comment,
        detail=action.detail or {},
        at=action.at,
    )


def _detail(request: HttpRequest, request_id: int, response: HttpResponse | None = None) -> RequestDetail:
    actor = actor_of(request)
    found = selectors.approval_request_get(actor=actor, request_id=request_id)
    actions = selectors.approval_request_actions(actor=actor, request=found)
    progress = selectors.approval_request_progress(actor=actor, request=found, actions=actions)
    abilities = selectors.approval_request_abilities(actor=actor, request=found)
    if response is not None:
        response["ETag"] = etag_for(found.version)
    return RequestDetail(
        **_request_fields(found),
        steps=[
            StepProgressOut(
                number=item.number,
                step_id=item.step.pk,
                name=item.title,
                approver=item.approver_text,
                state=item.state,
                asked=item.asked,
                decided_by=item.decided_by,
            )
            for item in progress
        ],
        actions=[_action_out(action) for action in actions],
        can_decide=abilities.decide,
        can_cancel=abilities.cancel,
        can_resubmit=abilities.resubmit,
    )


@router.get("/approvals", response=responses(RequestPage), summary="List approval requests")
def list_requests(request: HttpRequest, query: Query[RequestListQuery]) -> RequestPage:
    """One box (default: waiting for me, oldest step first; the others newest first), filtered by `status`,
    `approvable_type`, `object_id` and `process_id`."""
    qs = selectors.approval_request_list(
        actor=actor_of(request),
        box=query.box,
        status=query.status,
        approvable_type=query.approvable_type,
        object_id=query.object_id,
        process_id=query.process_id,
    )
    sort = "step_started_at" if query.box == selectors.BOX_INBOX else "-submitted_at"
    page = keyset_paginate(qs, sort=sort, cursor=query.cursor, page_size=query.limit)
    return page_out(RequestPage, page, _request_out)


@router.get(
    "/records/{target}/{object_id}/approvals",
    response=responses(RequestPage),
    summary="Approval requests of a record",
    description='Newest first; `target` is the kind of record, such as "customers.customer". 404 when you may '
    "not see the record.",
)
def list_record_requests(
    request: HttpRequest, target: str, object_id: RecordId, query: Query[PageQuery]
) -> RequestPage:
    qs = selectors.approval_requests_for_record(actor=actor_of(request), approvable_type=target, object_id=object_id)
    page = keyset_paginate(qs, sort="-submitted_at", cursor=query.cursor, page_size=query.limit)
    return page_out(RequestPage, page, _request_out)


@router.get(
    "/approvals/{request_id}",
    response=responses(RequestDetail),
    summary="Get an approval request",
    description="With the progress of each step and the action log; the ETag header carries the version.",
)
def get_request(request: HttpRequest, response: HttpResponse, request_id: RecordId) -> RequestDetail:
    return _detail(request, request_id, response)


@router.post(
    "/approvals",
    response=responses(RequestDetail, status=201),
    summary="Request an approval",
    description=(
        "Sends a record through an active process of its kind. 409 when the record already has an open "
        "request in that process."
    ),
)
def submit_request(request: HttpRequest, response: HttpResponse, payload: SubmitIn) -> Status[RequestDetail]:
    created = services.approval_start(
        actor=actor_of(request),
        process_id=payload.process_id,
        approvable_type=payload.approvable_type,
        object_id=payload.object_id,
        comment=payload.comment,
    )
    return Status(201, _detail(request, created.pk, response))


@router.post(
    "/approvals/{request_id}/decide",
    response=responses(RequestDetail, errors=UPDATE_ERROR_STATUSES),
    summary="Approve, reject or return a request",
    description=(
        "Only the current step's approvers (or an approval administrator). A comment is required to reject or "
        "return. 403 when it is not your turn, 409 when the request was decided meanwhile, 412 when the version "
        "you send (optional) is stale."
    ),
)
def decide_request(
    request: HttpRequest,
    response: HttpResponse,
    request_id: RecordId,
    payload: DecideIn,
    if_match: str | None = IF_MATCH,
) -> RequestDetail:
    services.approval_decide(
        actor=actor_of(request),
        request_id=request_id,
        decision=payload.decision,
        comment=payload.comment,
        version=optional_version(request, payload.version),
    )
    return _detail(request, request_id, response)


@router.post(
    "/approvals/{request_id}/cancel",
    response=responses(RequestDetail, errors=UPDATE_ERROR_STATUSES),
    summary="Cancel a request",
    description="The requester withdraws a pending or returned request.",
)
def cancel_request(
    request: HttpRequest,
    response: HttpResponse,
    request_id: RecordId,
    payload: CommentIn,
    if_match: str | None = IF_MATCH,
) -> RequestDetail:
    services.approval_cancel(
        actor=actor_of(request),
        request_id=request_id,
        comment=payload.comment,
        version=optional_version(request, payload.version),
    )
    return _detail(request, request_id, response)


@router.post(
    "/approvals/{request_id}/resubmit",
    response=responses(RequestDetail, errors=UPDATE_ERROR_STATUSES),
    summary="Resubmit a returned request",
    description="The requester sends a request returned for changes again; it starts over at step 1.",
)
def resubmit_request(
    request: HttpRequest,
    response: HttpResponse,
    request_id: RecordId,
    payload: CommentIn,
    if_match: str | None = IF_MATCH,
) -> RequestDetail:
    services.approval_resubmit(
        actor=actor_of(request),
        request_id=request_id,
        comment=payload.comment,
        version=optional_version(request, payload.version),
    )
    return _detail(request, request_id, response)


@router.post(
    "/approvals/{request_id}/comments",
    response=responses(ActionOut, status=201),
    summary="Comment on a request",
    description="Adds a comment to the request's log; changes nothing else.",
)
def comment_request(request: HttpRequest, request_id: RecordId, payload: NewComment) -> Status[ActionOut]:
    action = services.approval_comment(actor=actor_of(request), request_id=request_id, comment=payload.comment)
    return Status(201, _action_out(action))


def mount(api: NinjaAPI) -> None:
    api.add_router("/", router)

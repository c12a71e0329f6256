"""API routes for the timeline: interactions (/interactions) and tasks (/tasks), mounted at /api/v1/.

Routes parse and render; the services in customers.services.interactions and .tasks decide.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from guanxi.customers.models import Interaction, Task
from guanxi.customers.models.choices import Channel, Direction, Outcome, TaskKind, TaskPriority, TaskStatus
from guanxi.customers.selectors import activities as selectors
from guanxi.customers.services import interactions as interaction_services
from guanxi.customers.services import tasks as task_services
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

router = Router(tags=["interactions and tasks"])

# Interactions ---------------------------------------------------------------------------------


class FollowUpIn(Payload):
    due_at: dt.datetime = Field(description="When to follow up (a task is created for the owner).")
    title: str = Field("", max_length=200, description="Defaults to “Follow up with <name>”.")


class InteractionIn(Payload):
    """One contact with a customer or a lead (give exactly one of customer_id and lead_id)."""

    customer_id: RecordId | None = None
    lead_id: RecordId | None = None
    channel: Channel
    direction: Direction = Direction.OUTBOUND
    occurred_at: dt.datetime | None = Field(None, description="Defaults to now; at most 5 minutes in the future.")
    subject: str = Field("", max_length=200)
    body: str = ""
    outcome: Outcome = Outcome.NONE
    duration_seconds: int | None = Field(None, ge=0)
    next_follow_up: FollowUpIn | None = None


class InteractionPatch(Payload):
    """Only the fields sent are changed; send the version you read (If-Match header or `version`)."""

    channel: Channel | None = None
    direction: Direction | None = None
    occurred_at: dt.datetime | None = None
    subject: str | None = Field(None, max_length=200)
    body: str | None = None
    outcome: Outcome | None = None
    duration_seconds: int | None = Field(None, ge=0)
    version: int | None = None


class InteractionOut(Schema):
    id: int
    customer_id: int | None
    lead_id: int | None
    channel: str
    direction: str
    occurred_at: dt.datetime
    subject: str
    body: str
    outcome: str
    duration_seconds: int | None
    user_id: int | None
    user_name: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


class InteractionPage(Schema):
    items: list[InteractionOut]
    next_cursor: str | None


class InteractionListParams(PageQuery):
    customer_id: RecordId | None = None
    lead_id: RecordId | None = None


def _interaction_out(interaction: Interaction) -> InteractionOut:
    return InteractionOut(
        id=interaction.pk,
        customer_id=interaction.customer_id,
        lead_id=interaction.lead_id,
        channel=interaction.channel,
        direction=interaction.direction,
        occurred_at=interaction.occurred_at,
        subject=interaction.subject,
        body=interaction.body,
        outcome=interaction.outcome,
        duration_seconds=interaction.duration_seconds,
        user_id=interaction.user_id,
        user_name=str(interaction.user) if interaction.user_id else None,
        created_at=interaction.created_at,
        updated_at=interaction.updated_at,
        version=interaction.version,
    )


def _patch_data(payload: Schema) -> dict[str, Any]:
    """The fields the client sent, without `version`; an explicit null for a required value is refused."""
    data = payload.dict(exclude_unset=True)
    data.pop("version", None)
    return data


@router.get("/interactions", response=responses(InteractionPage), summary="List interactions")
def list_interactions(request: HttpRequest, params: Query[InteractionListParams]) -> InteractionPage:
    """Newest first. Filter by `customer_id` or `lead_id`; page with `cursor` (`next_cursor` of the last page)."""
    qs = selectors.interaction_list(actor=actor_of(request), customer_id=params.customer_id, lead_id=params.lead_id)
    page = keyset_paginate(qs, sort=selectors.TIMELINE_SORT, cursor=params.cursor, page_size=params.limit)
    return page_out(InteractionPage, page, _interaction_out)


@router.post("/interactions", response=responses(InteractionOut, status=201), summary="Log an interaction")
def create_interaction(request: HttpRequest, payload: InteractionIn) -> Status[InteractionOut]:
    """Keeps the customer's last contact time current; `next_follow_up` also creates a follow-up task."""
    actor = actor_of(request)
    data = payload.dict(exclude_unset=True)
    customer, lead = selectors.activity_subject(
        actor=actor, customer_id=data.pop("customer_id", None), lead_id=data.pop("lead_id", None)
    )
    interaction = interaction_services.interaction_log(actor=actor, customer=customer, lead=lead, data=data)
    return Status(201, _interaction_out(selectors.interaction_get(actor=actor, interaction_id=interaction.pk)))


@router.get("/interactions/{interaction_id}", response=responses(InteractionOut), summary="Read an interaction")
def get_interaction(request: HttpRequest, response: HttpResponse, interaction_id: int) -> InteractionOut:
    """The ETag header carries the version."""
    interaction = selectors.interaction_get(actor=actor_of(request), interaction_id=interaction_id)
    response["ETag"] = etag_for(interaction.version)
    return _interaction_out(interaction)


@router.patch(
    "/interactions/{interaction_id}",
    response=responses(InteractionOut, errors=UPDATE_ERROR_STATUSES),
    summary="Change an interaction",
)
def update_interaction(
    request: HttpRequest,
    response: HttpResponse,
    interaction_id: int,
    payload: InteractionPatch,
    if_match: str | None = IF_MATCH,
) -> InteractionOut:
    """The author, or someone who may edit the customer (or lead), may change it.
    Send the version you read (If-Match or `version`): 428 without it, 412 when stale."""
    actor = actor_of(request)
    interaction = selectors.interaction_get(actor=actor, interaction_id=interaction_id)
    version = expected_version(request, payload.version)
    interaction_services.interaction_update(
        actor=actor, interaction=interaction, data=_patch_data(payload), expected_version=version
    )
    interaction = selectors.interaction_get(actor=actor, interaction_id=interaction_id)
    response["ETag"] = etag_for(interaction.version)
    return _interaction_out(interaction)


@router.delete("/interactions/{interaction_id}", response=responses(None, status=204), summary="Delete an interaction")
def delete_interaction(request: HttpRequest, interaction_id: int) -> Status[None]:
    """Recomputes the customer's last contact time from the remaining interactions."""
    actor = actor_of(request)
    interaction = selectors.interaction_get(actor=actor, interaction_id=interaction_id)
    interaction_services.interaction_delete(actor=actor, interaction=interaction)
    return Status(204, None)


# Tasks ----------------------------------------------------------------------------------------


class TaskIn(Payload):
    title: str = Field(max_length=200)
    description: str = ""
    kind: TaskKind = TaskKind.FOLLOW_UP
    priority: TaskPriority = TaskPriority.NORMAL
    due_at: dt.datetime | None = None
    remind_at: dt.datetime | None = Field(None, description="At or before due_at; an in-app reminder is sent then.")
    assignee_id: RecordId | None = Field(None, description="Defaults to you; others must be able to see the customer.")
    customer_id: RecordId | None = None
    lead_id: RecordId | None = None


class TaskPatch(Payload):
    """Only the fields sent are changed; send the version you read (If-Match header or `version`)."""

    title: str | None = Field(None, max_length=200)
    description: str | None = None
    kind: TaskKind | None = None
    priority: TaskPriority | None = None
    due_at: dt.datetime | None = None
    remind_at: dt.datetime | None = None
    assignee_id: RecordId | None = None
    customer_id: RecordId | None = None
    lead_id: RecordId | None = None
    version: int | None = None


class TaskCompleteIn(Payload):
    result: str = Field("", description="What came out of it.")
    version: int | None = None


class TaskVersionIn(Payload):
    version: int | None = None


class TaskOut(Schema):
    id: int
    title: str
    description: str
    kind: str
    priority: str
    status: str
    due_at: dt.datetime | None
    remind_at: dt.datetime | None
    reminded_at: dt.datetime | None
    is_overdue: bool
    assignee_id: int
    assignee_name: str
    customer_id: int | None
    customer_name: str | None
    lead_id: int | None
    lead_name: str | None
    completed_at: dt.datetime | None
    completed_by_id: int | None
    result: str
    created_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class TaskListParams(PageQuery):
    view: Annotated[str, listed_choices(("", *selectors.TASK_VIEWS))] = Field(
        "", description="open, today, overdue, upcoming, done, cancelled or all."
    )
    mine: bool = False
    assignee_id: RecordId | None = None
    status: Annotated[str, listed_choices(("", *TaskStatus.values))] = ""
    due_from: dt.datetime | None = None
    due_to: dt.datetime | None = None
    overdue: bool = False
    customer_id: RecordId | None = None
    lead_id: RecordId | None = None
    sort: Annotated[str, listed_choices(("", *selectors.TASK_SORTS))] = Field(
        "", description="due_at (default), -due_at, -created_at, -completed_at (default for done), -id."
    )


def _task_out(task: Task, now: dt.datetime) -> TaskOut:
    return TaskOut(
        id=task.pk,
        title=task.title,
        description=task.description,
        kind=task.kind,
        priority=task.priority,
        status=task.status,
        due_at=task.due_at,
        remind_at=task.remind_at,
        reminded_at=task.reminded_at,
        is_overdue=task.status == TaskStatus.OPEN and task.due_at is not None and task.due_at < now,
        assignee_id=task.assignee_id,
        assignee_name=str(task.assignee),
        customer_id=task.customer_id,
        customer_name=task.customer.name if task.customer is not None else None,
        lead_id=task.lead_id,
        lead_name=task.lead.name if task.lead is not None else None,
        completed_at=task.completed_at,
        completed_by_id=task.completed_by_id,
        result=task.result,
        created_by_id=task.created_by_id,
        created_at=task.created_at,
        updated_at=task.updated_at,
        version=task.version,
    )


def _task_response(request: HttpRequest, task_id: int, response: HttpResponse | None = None) -> TaskOut:
    task = selectors.task_get(actor=actor_of(request), task_id=task_id)
    if response is not None:
        response["ETag"] = etag_for(task.version)
    return _task_out(task, timezone.now())


@router.get("/tasks", response=responses(TaskPage), summary="List tasks")
def list_tasks(request: HttpRequest, params: Query[TaskListParams]) -> TaskPage:
    """Tasks you may see: yours and those of customers and leads you may see. `mine=true` for yours only."""
    actor = actor_of(request)
    filters = selectors.TaskFilters.from_params(params.dict())
    sort = filters.checked_sort(params.sort)
    now = timezone.now()
    qs = selectors.task_list(actor=actor, filters=filters, now=now)
    page = keyset_paginate(qs, sort=sort, cursor=params.cursor, page_size=params.limit)
    return page_out(TaskPage, page, lambda task: _task_out(task, now))


@router.post("/tasks", response=responses(TaskOut, status=201), summary="Create a task")
def create_task(request: HttpRequest, payload: TaskIn) -> Status[TaskOut]:
    """The customer's next follow-up becomes the earliest due time of its open tasks."""
    task = task_services.task_create(actor=actor_of(request), data=payload.dict(exclude_unset=True))
    return Status(201, _task_response(request, task.pk))


@router.get("/tasks/{task_id}", response=responses(TaskOut), summary="Read a task")
def get_task(request: HttpRequest, response: HttpResponse, task_id: int) -> TaskOut:
    """The ETag header carries the version."""
    return _task_response(request, task_id, response)


@router.patch("/tasks/{task_id}", response=responses(TaskOut, errors=UPDATE_ERROR_STATUSES), summary="Change a task")
def update_task(
    request: HttpRequest, response: HttpResponse, task_id: int, payload: TaskPatch, if_match: str | None = IF_MATCH
) -> TaskOut:
    """Send the version you read (If-Match or `version`): 428 without it, 412 when stale."""
    actor = actor_of(request)
    task = selectors.task_get(actor=actor, task_id=task_id)
    version = expected_version(request, payload.version)
    task_services.task_update(actor=actor, task=task, data=_patch_data(payload), expected_version=version)
    return _task_response(request, task_id, response)


@router.delete("/tasks/{task_id}", response=responses(None, status=204), summary="Cancel a task")
def cancel_task(request: HttpRequest, task_id: int) -> Status[None]:
    """The task is cancelled, not erased: it stays in the history and can be reopened."""
    actor = actor_of(request)
    task_services.task_cancel(actor=actor, task=selectors.task_get(actor=actor, task_id=task_id))
    return Status(204, None)


@router.post("/tasks/{task_id}/complete", response=responses(TaskOut), summary="Complete a task")
def complete_task(
    request: HttpRequest, task_id: int, payload: TaskCompleteIn | None = None, if_match: str | None = IF_MATCH
) -> TaskOut:
    """Completing a done task changes nothing. A version (If-Match or `version`) is checked when sent."""
    actor = actor_of(request)
    body = payload or TaskCompleteIn(result="", version=None)
    task = selectors.task_get(actor=actor, task_id=task_id)
    version = optional_version(request, body.version)
    task_services.task_complete(actor=actor, task=task, result=body.result, expected_version=version)
    return _task_response(request, task_id)


@router.post("/tasks/{task_id}/reopen", response=responses(TaskOut), summary="Reopen a task")
def reopen_task(
    request: HttpRequest, task_id: int, payload: TaskVersionIn | None = None, if_match: str | None = IF_MATCH
) -> TaskOut:
    actor = actor_of(request)
    task = selectors.task_get(actor=actor, task_id=task_id)
    version = optional_version(request, payload.version if payload else None)
    task_services.task_reopen(actor=actor, task=task, expected_version=version)
    return _task_response(request, task_id)

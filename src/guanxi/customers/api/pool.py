"""API routes of the public pool (公海) and handovers (客户交接): pools and their rules, the customers
waiting in the pools, claim, return, a customer's pool history, and handovers.

Thin: parse, call one selector or service, render. Rules, limits and visibility live in the services and
selectors, so the API answers exactly like the pool pages.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from guanxi.customers.models import Customer, Handover, Pool, PoolEvent
from guanxi.customers.models.choices import CustomerKind, LifecycleStage, PoolAction, Source
from guanxi.customers.selectors.customers import customer_get
from guanxi.customers.selectors.pool import (
    POOL_CUSTOMER_SORTS,
    PoolCustomerFilters,
    claimable_from,
    customer_pool_history,
    handover_list,
    pool_customers,
    pool_get,
    pool_list,
)
from guanxi.customers.services.handover import handover_run
from guanxi.customers.services.pool import (
    customer_claim_from_pool,
    customer_return_to_pool,
    customers_return_to_pool_bulk,
    pool_save,
)
from guanxi.platform.core.api import (
    IF_MATCH,
    UPDATE_ERROR_STATUSES,
    PageQuery,
    Payload,
    RecordId,
    actor_of,
    etag_for,
    expected_version,
    page_out,
    responses,
)
from guanxi.platform.core.pagination import keyset_paginate

router = Router(tags=["pool"])

READ_ERRORS = (401, 403, 404, 422)
LIST_ERRORS = (401, 403, 422)
WRITE_ERRORS = (400, 401, 403, 404, 409, 422)


# --- schemas -----------------------------------------------------------------------------------------


class PoolIn(Payload):
    """The limits' ranges are published in the schema and checked by the service, which names every bad field
    at once (a schema-level check would stop before the service's checks of the other fields)."""

    name: str = Field(..., max_length=100)
    description: str = Field("", max_length=300)
    team_id: RecordId | None = Field(None, description="Only this team and its sub-teams use the pool; null: everyone.")
    max_owned_per_rep: int | None = Field(
        None,
        json_schema_extra={"minimum": 1, "maximum": 100_000},
        description="Claims stop when the rep owns this many; null: no limit.",
    )
    max_claims_per_day: int | None = Field(
        None, json_schema_extra={"minimum": 1, "maximum": 10_000}, description="Claims per rep per day; null: no limit."
    )
    cooldown_days: int = Field(
        0,
        json_schema_extra={"minimum": 0, "maximum": 365},
        description="Days before a previous owner may claim a customer back.",
    )
    return_after_days_without_follow_up: int | None = Field(
        None,
        json_schema_extra={"minimum": 1, "maximum": 3650},
        description="Owned customers with no follow-up for this many days return automatically.",
    )
    return_after_days_without_deal: int | None = Field(
        None,
        json_schema_extra={"minimum": 1, "maximum": 3650},
        description="Owned customers with no deal for this many days return automatically.",
    )
    is_default: bool = Field(False, description="The pool for customers whose team has no pool of its own.")
    is_active: bool = True


class PoolPatch(Payload):
    name: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=300)
    team_id: RecordId | None = None
    max_owned_per_rep: int | None = Field(None, json_schema_extra={"minimum": 1, "maximum": 100_000})
    max_claims_per_day: int | None = Field(None, json_schema_extra={"minimum": 1, "maximum": 10_000})
    cooldown_days: int | None = Field(None, json_schema_extra={"minimum": 0, "maximum": 365})
    return_after_days_without_follow_up: int | None = Field(None, json_schema_extra={"minimum": 1, "maximum": 3650})
    return_after_days_without_deal: int | None = Field(None, json_schema_extra={"minimum": 1, "maximum": 3650})
    is_default: bool | None = None
    is_active: bool | None = None
    version: int | None = Field(None, description="The version you read (or send If-Match).")


class PoolOut(Schema):
    id: int
    name: str
    description: str
    team_id: int | None
    team_name: str | None
    max_owned_per_rep: int | None
    max_claims_per_day: int | None
    cooldown_days: int
    return_after_days_without_follow_up: int | None
    return_after_days_without_deal: int | None
    is_default: bool
    is_active: bool
    customer_count: int = Field(description="Customers waiting in the pool.")
    version: int


class PoolPage(Schema):
    items: list[PoolOut]
    next_cursor: str | None


class PoolCustomerQuery(PageQuery):
    q: str | None = Field(None, description="Name, pinyin, initials, phone, email, company or card number.")
    pool_id: RecordId | None = None
    kind: CustomerKind | None = None
    source: Source | None = None
    stage: LifecycleStage | None = None
    entered_from: dt.date | None = Field(None, description="In the pool since this day or later.")
    entered_to: dt.date | None = None
    sort: str = Field("-pool_entered_at", json_schema_extra={"enum": list(POOL_CUSTOMER_SORTS)})


class PoolCustomerOut(Schema):
    id: int
    name: str
    kind: str
    company_name: str
    source: str
    lifecycle_stage: str
    rating: int
    team_id: int | None
    pool_id: int
    pool_name: str
    pool_entered_at: dt.datetime | None
    last_contact_at: dt.datetime | None
    previous_owner: str | None = Field(description="Who owned the customer last.")
    claimable_from: dt.datetime | None = Field(
        description="When your cool-down on this customer ends; null when you may claim it now."
    )


class PoolCustomerPage(Schema):
    items: list[PoolCustomerOut]
    next_cursor: str | None


class OwnershipOut(Schema):
    """Where a customer stands after a claim or a return."""

    id: int
    name: str
    owner_id: int | None
    team_id: int | None
    owner_since: dt.datetime | None
    pool_id: int | None
    pool_entered_at: dt.datetime | None
    version: int


class ReturnIn(Payload):
    reason: str = Field(..., max_length=300, description="Why the customer goes back to the pool.")


class BulkReturnIn(Payload):
    customer_ids: list[RecordId] = Field(..., max_length=1000)
    reason: str = Field(..., max_length=300)


class BulkReturnOut(Schema):
    returned: int


class PoolEventOut(Schema):
    id: int
    action: PoolAction
    action_label: str
    pool_id: int | None
    pool_name: str | None
    from_user_id: int | None
    from_user_name: str | None
    to_user_id: int | None
    to_user_name: str | None
    actor_id: int | None
    actor_name: str | None = Field(description="Who made the move; null for the automatic return.")
    reason: str
    occurred_at: dt.datetime


class PoolEventPage(Schema):
    items: list[PoolEventOut]
    next_cursor: str | None


class HandoverIn(Payload):
    from_user_id: RecordId
    to_user_id: RecordId | None = Field(None, description="Give everything to this user…")
    to_pool_id: RecordId | None = Field(None, description="…or put the customers into this pool.")
    reason: str = Field(..., max_length=300)


class HandoverOut(Schema):
    id: int
    from_user_id: int
    from_user_name: str
    to_user_id: int | None
    to_user_name: str | None
    to_pool_id: int | None
    to_pool_name: str | None
    customers_moved: int
    tasks_moved: int
    leads_moved: int
    reason: str
    actor_id: int | None
    created_at: dt.datetime


class HandoverPage(Schema):
    items: list[HandoverOut]
    next_cursor: str | None


def _name(user: object | None) -> str | None:
    return str(user) if user is not None else None


def pool_out(pool: Pool) -> PoolOut:
    return PoolOut(
        id=pool.pk,
        name=pool.name,
        description=pool.description,
        team_id=pool.team_id,
        team_name=pool.team.name if pool.team is not None else None,
        max_owned_per_rep=pool.max_owned_per_rep,
        max_claims_per_day=pool.max_claims_per_day,
        cooldown_days=pool.cooldown_days,
        return_after_days_without_follow_up=pool.return_after_days_without_follow_up,
        return_after_days_without_deal=pool.return_after_days_without_deal,
        is_default=pool.is_default,
        is_active=pool.is_active,
        customer_count=getattr(pool, "customer_count", 0),
        version=pool.version,
    )


def ownership_out(customer: Customer) -> OwnershipOut:
    return OwnershipOut(
        id=customer.pk,
        name=customer.name,
        owner_id=customer.owner_id,
        team_id=customer.team_id,
        owner_since=customer.owner_since,
        pool_id=customer.pool_id,
        pool_entered_at=customer.pool_entered_at,
        version=customer.version,
    )


def pool_customer_out(customer: Customer) -> PoolCustomerOut:
    pool = customer.pool
    assert pool is not None  # pool_customers only returns customers in a pool
    return PoolCustomerOut(
        id=customer.pk,
        name=customer.name,
        kind=customer.kind,
        company_name=customer.company_name,
        source=customer.source,
        lifecycle_stage=customer.lifecycle_stage,
        rating=customer.rating,
        team_id=customer.team_id,
        pool_id=pool.pk,
        pool_name=pool.name,
        pool_entered_at=customer.pool_entered_at,
        last_contact_at=customer.last_contact_at,
        previous_owner=getattr(customer, "previous_owner_name", None),
        claimable_from=claimable_from(customer),
    )


def pool_event_out(event: PoolEvent) -> PoolEventOut:
    return PoolEventOut(
        id=event.pk,
        action=PoolAction(event.action),
        action_label=str(event.get_action_display()),  # type: ignore[attr-defined]
        pool_id=event.pool_id,
        pool_name=event.pool.name if event.pool is not None else None,
        from_user_id=event.from_user_id,
        from_user_name=_name(event.from_user),
        to_user_id=event.to_user_id,
        to_user_name=_name(event.to_user),
        actor_id=event.actor_id,
        actor_name=_name(event.actor),
        reason=event.reason,
        occurred_at=event.occurred_at,
    )


def handover_out(handover: Handover) -> HandoverOut:
    return HandoverOut(
        id=handover.pk,
        from_user_id=handover.from_user_id,
        from_user_name=str(handover.from_user),
        to_user_id=handover.to_user_id,
        to_user_name=_name(handover.to_user),
        to_pool_id=handover.to_pool_id,
        to_pool_name=handover.to_pool.name if handover.to_pool is not None else None,
        customers_moved=handover.customers_moved,
        tasks_moved=handover.tasks_moved,
        leads_moved=handover.leads_moved,
        reason=handover.reason,
        actor_id=handover.actor_id,
        created_at=handover.created_at,
    )


# --- pools -------------------------------------------------------------------------------------------


@router.get(
    "/pools",
    response=responses(PoolPage, errors=LIST_ERRORS),
    summary="List pools",
    description="Pool managers see every pool; others see the active pools they may claim from.",
)
def list_pools(request: HttpRequest, query: Query[PageQuery]) -> PoolPage:
    page = keyset_paginate(pool_list(actor=actor_of(request)), sort="name", cursor=query.cursor, page_size=query.limit)
    return page_out(PoolPage, page, pool_out)


@router.post(
    "/pools",
    response=responses(PoolOut, status=201, errors=(400, 401, 403, 422)),
    summary="Create a pool",
    description="Needs the pool management permission. Making it the default takes the flag from the old default.",
)
def create_pool(request: HttpRequest, response: HttpResponse, payload: PoolIn) -> Status:
    actor = actor_of(request)
    pool = pool_save(actor=actor, data=payload.model_dump())
    saved = pool_get(actor=actor, pool_id=pool.pk)
    response["ETag"] = etag_for(saved.version)
    return Status(201, pool_out(saved))


@router.patch(
    "/pools/{pool_id}",
    response=responses(PoolOut, errors=UPDATE_ERROR_STATUSES),
    summary="Change a pool's rules",
    description='Send only what changes and the version you read (`If-Match: "3"` or `version`).',
)
def update_pool(
    request: HttpRequest, response: HttpResponse, pool_id: int, payload: PoolPatch, if_match: str | None = IF_MATCH
) -> PoolOut:
    actor = actor_of(request)
    pool = pool_get(actor=actor, pool_id=pool_id)
    data = payload.model_dump(exclude_unset=True)
    version = expected_version(request, data.pop("version", None))
    pool_save(actor=actor, pool=pool, data=data, expected_version=version)
    saved = pool_get(actor=actor, pool_id=pool_id)
    response["ETag"] = etag_for(saved.version)
    return pool_out(saved)


# --- customers in the pool ---------------------------------------------------------------------------


@router.get(
    "/pool/customers",
    response=responses(PoolCustomerPage, errors=LIST_ERRORS),
    summary="List customers in the pool",
    description="Unowned customers in the pools you may use, one page at a time (pass `next_cursor` as `cursor`).",
)
def list_pool_customers(request: HttpRequest, query: Query[PoolCustomerQuery]) -> PoolCustomerPage:
    filters = PoolCustomerFilters.from_params(request.GET)
    qs = pool_customers(actor=actor_of(request), filters=filters, sort=query.sort)
    page = keyset_paginate(qs, sort=query.sort, cursor=query.cursor, page_size=query.limit)
    return page_out(PoolCustomerPage, page, pool_customer_out)


@router.post(
    "/pool/customers/{customer_id}/claim",
    response=responses(OwnershipOut, errors=WRITE_ERRORS),
    summary="Claim a customer from the pool",
    description=(
        "You become the owner. 409 when someone else claimed it first, when you reached the pool's limit or "
        "while your cool-down on this customer lasts (the message says until when)."
    ),
)
def claim_customer(request: HttpRequest, customer_id: int) -> OwnershipOut:
    return ownership_out(customer_claim_from_pool(actor=actor_of(request), customer_id=customer_id))


@router.post(
    "/pool/returns",
    response=responses(BulkReturnOut, errors=(400, 401, 403, 409, 422)),
    summary="Return customers to the pool in bulk",
    description="Up to 1,000 ids; ids you cannot see, or (without the assign permission) do not own, are skipped.",
)
def bulk_return(request: HttpRequest, payload: BulkReturnIn) -> BulkReturnOut:
    returned = customers_return_to_pool_bulk(
        actor=actor_of(request), customer_ids=payload.customer_ids, reason=payload.reason
    )
    return BulkReturnOut(returned=returned)


@router.post(
    "/customers/{customer_id}/return-to-pool",
    response=responses(OwnershipOut, errors=WRITE_ERRORS),
    summary="Return a customer to the pool",
    description="The owner, or a user who may assign customers, gives the customer back with a reason.",
)
def return_customer(request: HttpRequest, customer_id: int, payload: ReturnIn) -> OwnershipOut:
    actor = actor_of(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    return ownership_out(customer_return_to_pool(actor=actor, customer=customer, reason=payload.reason))


@router.get(
    "/customers/{customer_id}/pool-history",
    response=responses(PoolEventPage, errors=READ_ERRORS),
    summary="A customer's pool history",
    description="Every claim, return, assignment and handover of the customer, newest first.",
)
def customer_history(request: HttpRequest, customer_id: int, query: Query[PageQuery]) -> PoolEventPage:
    actor = actor_of(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    qs = customer_pool_history(actor=actor, customer=customer)
    page = keyset_paginate(qs, sort="-id", cursor=query.cursor, page_size=query.limit)
    return page_out(PoolEventPage, page, pool_event_out)


# --- handovers ---------------------------------------------------------------------------------------


@router.post(
    "/handovers",
    response=responses(HandoverOut, status=201, errors=(400, 401, 403, 404, 422)),
    summary="Hand over a user's customers",
    description=(
        "Moves every customer, open task and unconverted lead of `from_user_id` to `to_user_id`, or puts the "
        "customers into `to_pool_id` (the tasks and leads then go to you). Both users are notified."
    ),
)
def create_handover(request: HttpRequest, payload: HandoverIn) -> Status:
    handover = handover_run(
        actor=actor_of(request),
        from_user_id=payload.from_user_id,
        to_user_id=payload.to_user_id,
        to_pool_id=payload.to_pool_id,
        reason=payload.reason,
    )
    saved = handover_list(actor=actor_of(request)).get(pk=handover.pk)
    return Status(201, handover_out(saved))


@router.get(
    "/handovers",
    response=responses(HandoverPage, errors=LIST_ERRORS),
    summary="List handovers",
    description="Administrators see every handover; managers those of their teams.",
)
def list_handovers(request: HttpRequest, query: Query[PageQuery]) -> HandoverPage:
    page = keyset_paginate(
        handover_list(actor=actor_of(request)), sort="-id", cursor=query.cursor, page_size=query.limit
    )
    return page_out(HandoverPage, page, handover_out)

"""Customer API routes: list, create, read, update, delete, contact points and bulk assignment.

Thin: parse, call one selector or service, render. Visibility, permissions and validation live in
the selectors and services, so the API answers exactly like the web UI. Another user's customer is
404 on every route. Updates need the version the client read (If-Match or "version"): 428 without
it, 412 when it is stale.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from guanxi.customers.api.schemas import (
    BulkAssignIn,
    BulkAssignOut,
    ContactPointIn,
    ContactPointList,
    ContactPointOut,
    ContactPointPatch,
    CustomerCreate,
    CustomerListQuery,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    contact_point_out,
    customer_out,
    customer_row_out,
)
from guanxi.customers.models import ContactPoint, Customer
from guanxi.customers.selectors.customers import (
    SORTS,
    CustomerFilters,
    customer_contact_points,
    customer_get,
    customer_list,
)
from guanxi.customers.services.contact_points import contact_point_add, contact_point_remove, contact_point_update
from guanxi.customers.services.customers import (
    customer_create,
    customer_delete,
    customer_update,
    customers_assign_owner,
)
from guanxi.platform.audit.services import personal_data_view_record
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.api import (
    IF_MATCH,
    UPDATE_ERROR_STATUSES,
    actor_of,
    etag_for,
    expected_version,
    page_out,
    responses,
)
from guanxi.platform.core.pagination import keyset_paginate
from guanxi.platform.identity.scoping import can_see_personal_data

router = Router(tags=["customers"])

ACCESS_LOG_TYPE = "customers.customer"
# The statuses each kind of route can answer (422 also covers bad path and query parameters).
READ_ERRORS = (401, 403, 404, 422)
WRITE_ERRORS = (400, 401, 403, 404, 422)
DELETE_ERRORS = (401, 403, 404, 422)


def _log_personal_data_view(actor: Actor, *, customer_ids: list[int], endpoint: str) -> None:
    """The access log records which customers' personal data was returned in clear, never the values."""
    personal_data_view_record(
        actor=actor, object_type=ACCESS_LOG_TYPE, object_ids=customer_ids, detail={"endpoint": endpoint}
    )


def _has_personal_data(customer: Customer, points: list[ContactPoint]) -> bool:
    return bool(points or customer.id_number_encrypted)


def _detail(request: HttpRequest, response: HttpResponse, customer: Customer, *, endpoint: str) -> CustomerOut:
    actor = actor_of(request)
    unmasked = can_see_personal_data(actor)
    points = customer_contact_points(actor=actor, customer=customer)
    if unmasked and _has_personal_data(customer, points):
        _log_personal_data_view(actor, customer_ids=[customer.pk], endpoint=endpoint)
    response["ETag"] = etag_for(customer.version)
    return customer_out(actor, customer, points, unmasked=unmasked)


def _point(actor: Actor, customer: Customer, point: ContactPoint, *, endpoint: str) -> ContactPointOut:
    unmasked = can_see_personal_data(actor)
    if unmasked:
        _log_personal_data_view(actor, customer_ids=[customer.pk], endpoint=endpoint)
    return contact_point_out(point, unmasked=unmasked)


@router.get(
    "",
    response=responses(CustomerPage, errors=(401, 403, 422)),
    summary="List customers",
    description=(
        "The customers you can see, filtered and sorted, one page at a time. Pass `next_cursor` as `cursor` "
        "for the next page. Filter by a custom field with `cf.<key>=<value>`."
    ),
)
def list_customers(request: HttpRequest, query: Query[CustomerListQuery]) -> CustomerPage:
    actor = actor_of(request)
    filters = CustomerFilters.from_params(request.GET)
    # A JSON row carries only the owner's and organisation's ids: no need for the joined rows the page shows.
    qs = customer_list(actor=actor, filters=filters, sort=query.sort).select_related(None)
    page = keyset_paginate(qs, sort=SORTS[query.sort], cursor=query.cursor, page_size=query.limit)
    unmasked = can_see_personal_data(actor)
    if unmasked:
        shown = [c.pk for c in page.items if getattr(c, "primary_points", None)]
        _log_personal_data_view(actor, customer_ids=shown, endpoint="customer_list")
    return page_out(CustomerPage, page, lambda c: customer_row_out(c, unmasked=unmasked))


@router.post(
    "",
    response=responses(CustomerOut, status=201, errors=(400, 401, 403, 422)),
    summary="Create a customer",
    description="Contact points may be given at once; the first of each type becomes the primary one.",
)
def create_customer(request: HttpRequest, response: HttpResponse, payload: CustomerCreate) -> Status:
    actor = actor_of(request)
    customer = customer_create(actor=actor, data=payload.model_dump(exclude_unset=True, mode="python"))
    response["Location"] = f"{request.path.rstrip('/')}/{customer.pk}"
    # Rendered from the write's result: the new owner may be someone whose customers the actor cannot see.
    return Status(201, _detail(request, response, customer, endpoint="customer_create"))


@router.post(
    "/bulk-assign",
    response=responses(BulkAssignOut, errors=(400, 401, 403, 422)),
    summary="Assign customers to an owner",
    description="Up to 1,000 ids; ids of customers you cannot see are skipped. Needs the assign permission.",
)
def bulk_assign(request: HttpRequest, payload: BulkAssignIn) -> BulkAssignOut:
    updated = customers_assign_owner(
        actor=actor_of(request), customer_ids=payload.customer_ids, owner_id=payload.owner_id
    )
    return BulkAssignOut(updated=updated)


@router.get(
    "/{customer_id}",
    response=responses(CustomerOut, errors=READ_ERRORS),
    summary="Read a customer",
    description="The full record with contact points and soft data. The ETag header carries the version.",
)
def get_customer(request: HttpRequest, response: HttpResponse, customer_id: int) -> CustomerOut:
    customer = customer_get(actor=actor_of(request), customer_id=customer_id)
    return _detail(request, response, customer, endpoint="customer_get")


@router.patch(
    "/{customer_id}",
    response=responses(CustomerOut, errors=UPDATE_ERROR_STATUSES),
    summary="Change a customer",
    description=(
        'Send only the fields that change, and the version you read: `If-Match: "<version>"` or `version` '
        "in the body. Without a version: 428; when someone changed the record since: 412."
    ),
)
def update_customer(
    request: HttpRequest,
    response: HttpResponse,
    customer_id: int,
    payload: CustomerPatch,
    if_match: str | None = IF_MATCH,
) -> CustomerOut:
    actor = actor_of(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    data = payload.model_dump(exclude_unset=True, mode="python")
    version = expected_version(request, data.pop("version", None))
    updated = customer_update(actor=actor, customer=customer, data=data, expected_version=version)
    return _detail(request, response, updated, endpoint="customer_update")


@router.delete(
    "/{customer_id}",
    response=responses(None, status=204, errors=DELETE_ERRORS),
    summary="Delete a customer",
)
def delete_customer(request: HttpRequest, customer_id: int) -> Status:
    actor = actor_of(request)
    customer_delete(actor=actor, customer=customer_get(actor=actor, customer_id=customer_id))
    return Status(204, None)


# Contact points -----------------------------------------------------------------------------


@router.get(
    "/{customer_id}/contact-points",
    response=responses(ContactPointList, errors=READ_ERRORS),
    summary="List a customer's contact points",
    description="All of them in one page (primary first within each type); `next_cursor` is always null.",
)
def list_contact_points(request: HttpRequest, customer_id: int) -> ContactPointList:
    actor = actor_of(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    points = customer_contact_points(actor=actor, customer=customer)
    unmasked = can_see_personal_data(actor)
    if unmasked and points:
        _log_personal_data_view(actor, customer_ids=[customer.pk], endpoint="contact_point_list")
    return ContactPointList(items=[contact_point_out(p, unmasked=unmasked) for p in points], next_cursor=None)


@router.post(
    "/{customer_id}/contact-points",
    response=responses(ContactPointOut, status=201, errors=WRITE_ERRORS),
    summary="Add a contact point",
)
def add_contact_point(request: HttpRequest, customer_id: int, payload: ContactPointIn) -> Status:
    actor = actor_of(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    point = contact_point_add(actor=actor, customer=customer, data=payload.model_dump(exclude_unset=True))
    return Status(201, _point(actor, customer, point, endpoint="contact_point_add"))


@router.patch(
    "/{customer_id}/contact-points/{point_id}",
    response=responses(ContactPointOut, errors=UPDATE_ERROR_STATUSES),
    summary="Change a contact point",
    description="Needs the contact point's version (If-Match or `version`), like every update.",
)
def update_contact_point(
    request: HttpRequest,
    response: HttpResponse,
    customer_id: int,
    point_id: int,
    payload: ContactPointPatch,
    if_match: str | None = IF_MATCH,
) -> ContactPointOut:
    actor = actor_of(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    data = payload.model_dump(exclude_unset=True)
    version = expected_version(request, data.pop("version", None))
    point = contact_point_update(actor=actor, customer=customer, point_id=point_id, data=data, expected_version=version)
    response["ETag"] = etag_for(point.version)
    return _point(actor, customer, point, endpoint="contact_point_update")


@router.delete(
    "/{customer_id}/contact-points/{point_id}",
    response=responses(None, status=204, errors=DELETE_ERRORS),
    summary="Remove a contact point",
)
def delete_contact_point(request: HttpRequest, customer_id: int, point_id: int) -> Status:
    actor = actor_of(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    contact_point_remove(actor=actor, customer=customer, point_id=point_id)
    return Status(204, None)

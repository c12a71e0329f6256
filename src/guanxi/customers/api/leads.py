"""API routes for leads: list, capture, read, edit, delete, qualify, disqualify and convert.

Thin: parse, call one selector or service, render. Another user's lead is 404 on every route.
PATCH needs the version the client read (If-Match or "version"): 428 without it, 412 when stale;
the status actions and convert accept a version too and check it when it is given.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from guanxi.customers.models import Lead
from guanxi.customers.models.choices import LeadStatus, Source
from guanxi.customers.selectors.leads import (
    CUSTOM_FIELD_TARGET,
    SORTS,
    LeadContactDisplay,
    LeadFilters,
    lead_contact_display,
    lead_get,
    lead_list,
)
from guanxi.customers.services import leads as services
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
from guanxi.platform.identity.scoping import can_see_personal_data

router = Router(tags=["leads"])

READ_ERRORS = (401, 403, 404, 422)
WRITE_ERRORS = (400, 401, 403, 404, 422)
ACTION_ERRORS = (400, 401, 403, 404, 409, 412, 422)


def _custom_fields(*, output: bool = False) -> Any:
    """The `custom_fields` property; the API root publishes the lead custom field definitions into it."""
    extra: dict[str, Any] = {"x-custom-fields-target": CUSTOM_FIELD_TARGET}
    description = "Custom field values by key; the keys and types are the active lead custom field definitions."
    if output:
        return Field(default_factory=dict, description=description, json_schema_extra=extra)
    return Field(default=None, description=description, json_schema_extra=extra)


class LeadFields(Payload):
    """The editable fields of a lead, all optional (a PATCH sends only what changes)."""

    name: str | None = Field(None, max_length=200)
    company_name: str | None = Field(None, max_length=200)
    job_title: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=60, description="Any common format; China by default. Stored as E.164.")
    email: str | None = Field(None, max_length=254)
    wechat: str | None = Field(None, max_length=100)
    industry: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=300)
    source: Source | None = None
    description: str | None = Field(None, max_length=5000)
    owner_id: RecordId | None = Field(None, description="Giving a lead to someone else needs the assign permission.")
    custom_fields: dict[str, Any] | None = _custom_fields()


class LeadCreate(LeadFields):
    """A new lead: a name and at least one of phone, email, WeChat ID or company."""

    name: str = Field(..., max_length=200)  # type: ignore[assignment]


class LeadPatch(LeadFields):
    version: int | None = Field(None, description="The version you read; or send it in the If-Match header.")


class LeadOut(Schema):
    id: int
    version: int
    name: str
    company_name: str
    job_title: str
    phone: str = Field(description="E.164; masked (+86138****1234) for roles that may not see personal data.")
    email: str
    wechat: str
    industry: str
    address: str
    source: str
    status: str
    description: str
    disqualified_reason: str
    owner_id: int | None
    owner_name: str | None
    team_id: int | None
    custom_fields: dict[str, Any] = _custom_fields(output=True)
    converted_customer_id: int | None
    converted_contact_id: int | None
    converted_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class LeadPage(Schema):
    items: list[LeadOut]
    next_cursor: str | None


class LeadListQuery(PageQuery):
    """List filters (documented here; `cf.<key>=value` filters by a custom field as well)."""

    q: str | None = Field(None, description="Name, pinyin, initials, phone, email or company.")
    status: str | None = Field(
        None, description="A lead status, or `open` for all but converted and unqualified.",
        json_schema_extra={"enum": ["open", *LeadStatus.values]},
    )  # fmt: skip
    source: Source | None = None
    owner: str | None = Field(None, description="`me`, `none` or a user id.")
    owner_id: RecordId | None = None
    team_id: RecordId | None = Field(None, description="The team and its sub-teams.")
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    sort: str = Field("-id", json_schema_extra={"enum": list(SORTS)})


class VersionIn(Payload):
    version: int | None = Field(None, description="The version you read (optional); or send If-Match.")


class DisqualifyIn(VersionIn):
    reason: str = Field("", max_length=300, description="Why the lead is not qualified (required).")


class ConvertIn(VersionIn):
    """Leave both empty to create an organisation when the lead has a company name."""

    organisation_id: RecordId | None = Field(None, description="Link the person to this existing organisation.")
    create_organisation: bool | None = Field(
        None, description="Create an organisation from the company name (default: when there is one)."
    )


class ConvertOut(Schema):
    lead_id: int
    customer_id: int = Field(description="The account: the organisation, or the person when there is none.")
    contact_id: int = Field(description="The person created from the lead.")
    organisation_created: bool
    lead: LeadOut


def _out(lead: Lead, shown: LeadContactDisplay) -> LeadOut:
    return LeadOut(
        id=lead.pk,
        version=lead.version,
        name=lead.name,
        company_name=lead.company_name,
        job_title=lead.job_title,
        phone=shown.phone,
        email=shown.email,
        wechat=shown.wechat,
        industry=lead.industry,
        address=shown.address,
        source=lead.source,
        status=lead.status,
        description=lead.description,
        disqualified_reason=lead.disqualified_reason,
        owner_id=lead.owner_id,
        owner_name=str(lead.owner) if lead.owner_id and lead.owner else None,
        team_id=lead.team_id,
        custom_fields=lead.custom_fields or {},
        converted_customer_id=lead.converted_customer_id,
        converted_contact_id=lead.converted_contact_id,
        converted_at=lead.converted_at,
        created_at=lead.created_at,
        updated_at=lead.updated_at,
    )


def _detail(request: HttpRequest, response: HttpResponse, lead: Lead, *, log: bool = True) -> LeadOut:
    """One lead as the actor may see it, with its version in the ETag; clear personal data is logged."""
    actor = actor_of(request)
    unmasked = can_see_personal_data(actor)
    if unmasked and log:
        services.lead_record_personal_data_view(actor=actor, lead=lead)
    response["ETag"] = etag_for(lead.version)
    return _out(lead, lead_contact_display(lead, unmasked=unmasked))


@router.get(
    "",
    response=responses(LeadPage, errors=(401, 403, 422)),
    summary="List leads",
    description=(
        "The leads you can see, filtered and sorted, one page at a time. Pass `next_cursor` as `cursor` for "
        "the next page. Filter by a custom field with `cf.<key>=<value>`. Personal data is masked for roles "
        "that may not see it."
    ),
)
def list_leads(request: HttpRequest, query: Query[LeadListQuery]) -> LeadPage:
    actor = actor_of(request)
    filters = LeadFilters.from_params(request.GET)
    page = keyset_paginate(
        lead_list(actor=actor, filters=filters, sort=query.sort),
        sort=query.sort,
        cursor=query.cursor,
        page_size=query.limit,
    )
    unmasked = can_see_personal_data(actor)
    if unmasked:
        services.leads_record_personal_data_view(actor=actor, leads=page.items, detail={"endpoint": "lead_list"})
    return page_out(LeadPage, page, lambda lead: _out(lead, lead_contact_display(lead, unmasked=unmasked)))


@router.post(
    "",
    response=responses(LeadOut, status=201, errors=(400, 401, 403, 422)),
    summary="Capture a lead",
    description=(
        "A lead needs a name and at least one of phone, email, WeChat ID or company. The owner defaults to you."
    ),
)
def create_lead(request: HttpRequest, response: HttpResponse, payload: LeadCreate) -> Status:
    actor = actor_of(request)
    lead = services.lead_create(actor=actor, data=payload.model_dump(exclude_unset=True, mode="python"))
    response["Location"] = f"{request.path.rstrip('/')}/{lead.pk}"
    return Status(201, _detail(request, response, lead_get(actor=actor, lead_id=lead.pk), log=False))


@router.get(
    "/{lead_id}",
    response=responses(LeadOut, errors=READ_ERRORS),
    summary="Read a lead",
    description="The ETag header carries the version.",
)
def get_lead(request: HttpRequest, response: HttpResponse, lead_id: int) -> LeadOut:
    return _detail(request, response, lead_get(actor=actor_of(request), lead_id=lead_id))


@router.patch(
    "/{lead_id}",
    response=responses(LeadOut, errors=UPDATE_ERROR_STATUSES),
    summary="Change a lead",
    description=(
        'Send only the fields that change, and the version you read: `If-Match: "<version>"` or `version` '
        "in the body. Without a version: 428; when someone changed the lead since: 412. A converted lead: 409."
    ),
)
def update_lead(
    request: HttpRequest, response: HttpResponse, lead_id: int, payload: LeadPatch, if_match: str | None = IF_MATCH
) -> LeadOut:
    actor = actor_of(request)
    lead = lead_get(actor=actor, lead_id=lead_id)
    data = payload.model_dump(exclude_unset=True, mode="python")
    version = expected_version(request, data.pop("version", None))
    services.lead_update(actor=actor, lead=lead, data=data, expected_version=version)
    return _detail(request, response, lead_get(actor=actor, lead_id=lead_id), log=False)


@router.delete(
    "/{lead_id}",
    response=responses(None, status=204, errors=READ_ERRORS),
    summary="Delete a lead",
    description="Interactions and tasks that already moved to a customer stay with the customer.",
)
def delete_lead(request: HttpRequest, lead_id: int) -> Status:
    actor = actor_of(request)
    services.lead_delete(actor=actor, lead=lead_get(actor=actor, lead_id=lead_id))
    return Status(204, None)


@router.post(
    "/{lead_id}/qualify",
    response=responses(LeadOut, errors=ACTION_ERRORS),
    summary="Mark a lead qualified",
)
def qualify_lead(
    request: HttpRequest,
    response: HttpResponse,
    lead_id: int,
    payload: VersionIn | None = None,
    if_match: str | None = IF_MATCH,
) -> LeadOut:
    actor = actor_of(request)
    lead = lead_get(actor=actor, lead_id=lead_id)
    version = optional_version(request, payload.version if payload else None)
    services.lead_qualify(actor=actor, lead=lead, expected_version=version)
    return _detail(request, response, lead_get(actor=actor, lead_id=lead_id), log=False)


@router.post(
    "/{lead_id}/disqualify",
    response=responses(LeadOut, errors=ACTION_ERRORS),
    summary="Mark a lead not qualified",
    description="The reason is required.",
)
def disqualify_lead(
    request: HttpRequest, response: HttpResponse, lead_id: int, payload: DisqualifyIn, if_match: str | None = IF_MATCH
) -> LeadOut:
    actor = actor_of(request)
    lead = lead_get(actor=actor, lead_id=lead_id)
    version = optional_version(request, payload.version)
    services.lead_disqualify(actor=actor, lead=lead, reason=payload.reason, expected_version=version)
    return _detail(request, response, lead_get(actor=actor, lead_id=lead_id), log=False)


@router.post(
    "/{lead_id}/convert",
    response=responses(ConvertOut, errors=ACTION_ERRORS),
    summary="Convert a lead into a customer",
    description=(
        "Creates the customer from the lead without retyping: an organisation from the company name with the "
        "person as its contact (or the person alone without a company), with the lead's phone, email, WeChat ID "
        "and address as contact points. `organisation_id` links the person to an existing organisation instead; "
        "`create_organisation: false` creates the person alone. The lead's interactions and open tasks move to "
        "the customer. A lead converted before answers 409."
    ),
)
def convert_lead(
    request: HttpRequest, lead_id: int, payload: ConvertIn | None = None, if_match: str | None = IF_MATCH
) -> ConvertOut:
    actor = actor_of(request)
    payload = payload or ConvertIn(version=None, organisation_id=None, create_organisation=None)
    lead = lead_get(actor=actor, lead_id=lead_id)
    result = services.lead_convert(
        actor=actor,
        lead=lead,
        organisation_id=payload.organisation_id,
        create_organisation=payload.create_organisation,
        expected_version=optional_version(request, payload.version),
    )
    converted = lead_get(actor=actor, lead_id=result.lead.pk)
    return ConvertOut(
        lead_id=converted.pk,
        customer_id=result.customer.pk,
        contact_id=result.contact.pk,
        organisation_created=result.organisation_created,
        lead=_out(converted, lead_contact_display(converted, unmasked=can_see_personal_data(actor))),
    )

"""Request and response schemas of the customer API, and how a customer becomes a response.

Payload schemas only check shapes and types (unknown fields are refused); the services check values,
so the API and the web forms give the same messages. Responses mask personal data for actors
without the "see personal data" permission.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from guanxi.customers.models import ContactPoint, Customer
from guanxi.customers.models.choices import (
    CompanySize,
    Consent,
    ContactKind,
    CustomerKind,
    Gender,
    LifecycleStage,
    Source,
)
from guanxi.customers.selectors.customers import CUSTOM_FIELD_TARGET, SORTS
from guanxi.customers.selectors.presentation import display_contact_value, id_number_for
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.api import PageQuery, Payload, RecordId


def _custom_fields(*, required: bool = False, output: bool = False) -> Any:
    """The `custom_fields` property; the API root publishes the active definitions into its schema."""
    extra: dict[str, Any] = {"x-custom-fields-target": CUSTOM_FIELD_TARGET}
    if required:
        extra["x-custom-fields-required"] = True
    description = "Custom field values by key; the keys and types are the active custom field definitions."
    if output:
        return Field(default_factory=dict, description=description, json_schema_extra=extra)
    return Field(default=None, description=description, json_schema_extra=extra)


# Requests -----------------------------------------------------------------------------------


class AddressIn(Payload):
    province: str | None = Field(None, max_length=100)
    city: str | None = Field(None, max_length=100)
    district: str | None = Field(None, max_length=100)
    street: str | None = Field(None, max_length=100)
    postcode: str | None = Field(None, max_length=100)


class ContactPointIn(Payload):
    kind: ContactKind
    value: str | None = Field(
        None, max_length=300, description="Phone (any format, China by default), email, WeChat ID or one-line address."
    )
    address: AddressIn | None = Field(None, description="Address parts, instead of `value`, for addresses.")
    label: str = Field("", max_length=50)
    is_primary: bool = False
    verified: bool = False
    consent: Consent = Consent.UNKNOWN
    consent_source: str = Field("", max_length=100)


class ContactPointPatch(Payload):
    value: str | None = Field(None, max_length=300)
    address: AddressIn | None = None
    label: str | None = Field(None, max_length=50)
    is_primary: bool | None = None
    verified: bool | None = None
    consent: Consent | None = None
    consent_source: str | None = Field(None, max_length=100)
    version: int | None = Field(None, description="The version you read; or send it in the If-Match header.")


class FamilyMemberIn(Payload):
    relation: str = Field("", max_length=100)
    name: str = Field("", max_length=100)
    birthday: dt.date | None = None
    note: str = Field("", max_length=100)


class CustomerFields(Payload):
    """The editable fields of a customer, all optional (a PATCH sends only what changes)."""

    kind: CustomerKind | None = None
    name: str | None = Field(None, max_length=200)
    family_name: str | None = Field(None, max_length=100)
    given_name: str | None = Field(None, max_length=100)
    organisation_id: RecordId | None = Field(None, description="The organisation a person belongs to.")
    company_name: str | None = Field(None, max_length=200)
    job_title: str | None = Field(None, max_length=100)
    gender: Gender | None = None
    birthday: dt.date | None = None
    id_number: str | None = Field(None, max_length=32, description="Chinese resident ID number; stored encrypted.")
    uscc: str | None = Field(None, max_length=18, description="Unified social credit code of an organisation.")
    industry: str | None = Field(None, max_length=100)
    company_size: CompanySize | None = None
    website: str | None = Field(None, max_length=200)
    source: Source | None = None
    card_number: str | None = Field(None, max_length=64)
    # Every customer has a stage: the schema offers no null (the service refuses it, should one come).
    lifecycle_stage: LifecycleStage | SkipJsonSchema[None] = None
    rating: int | None = Field(None, ge=0, le=5)
    family_members: list[FamilyMemberIn] | None = Field(None, max_length=50)
    preferences: str | None = Field(None, max_length=5000)
    special_needs: str | None = Field(None, max_length=5000)
    interests: str | None = Field(None, max_length=5000)
    notes: str | None = Field(None, max_length=5000)
    owner_id: RecordId | None = Field(
        None, description="Giving a customer to someone else needs the assign permission."
    )


class CustomerCreate(CustomerFields):
    name: str = Field(..., max_length=200)  # type: ignore[assignment]
    custom_fields: dict[str, Any] | None = _custom_fields(required=True)
    contact_points: list[ContactPointIn] = Field(default_factory=list, max_length=50)


class CustomerPatch(CustomerFields):
    custom_fields: dict[str, Any] | None = _custom_fields()
    version: int | None = Field(None, description="The version you read; or send it in the If-Match header.")


class BulkAssignIn(Payload):
    customer_ids: list[RecordId] = Field(..., min_length=1, max_length=1000)
    owner_id: RecordId


class CustomerListQuery(PageQuery):
    """List filters (documented here; `cf.<key>=value` filters by a custom field as well)."""

    q: str | None = Field(None, description="Name, pinyin, initials, phone, email, company or card number.")
    kind: CustomerKind | None = None
    owner: str | None = Field(None, description="`me` or `none`.")
    owner_id: RecordId | None = None
    team_id: RecordId | None = Field(None, description="The team and its sub-teams.")
    stage: LifecycleStage | None = None
    tag_id: RecordId | None = None
    source: Source | None = None
    rating_min: int | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    last_contact_from: dt.date | None = None
    last_contact_to: dt.date | None = None
    in_pool: bool | None = None
    organisation_id: RecordId | None = None
    sort: str = Field("-id", json_schema_extra={"enum": list(SORTS)})


# Responses ----------------------------------------------------------------------------------


class AddressOut(Schema):
    province: str = ""
    city: str = ""
    district: str = ""
    street: str = ""
    postcode: str = ""


class ContactPointOut(Schema):
    id: int
    version: int
    kind: str
    value: str = Field(description="Masked (138****1234) for roles that may not see personal data.")
    address: AddressOut | None = None
    label: str
    is_primary: bool
    verified: bool
    consent: str
    consent_updated_at: dt.datetime | None
    consent_source: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ContactPointList(Schema):
    items: list[ContactPointOut]
    next_cursor: str | None = None


class CustomerRow(Schema):
    id: int
    version: int
    kind: str
    name: str
    company_name: str
    organisation_id: int | None
    owner_id: int | None
    team_id: int | None
    lifecycle_stage: str
    rating: int
    source: str
    card_number: str
    primary_phone: str | None = Field(description="Masked for roles that may not see personal data.")
    primary_email: str | None = Field(description="Masked for roles that may not see personal data.")
    created_at: dt.datetime
    updated_at: dt.datetime
    last_contact_at: dt.datetime | None
    next_follow_up_at: dt.datetime | None
    in_pool: bool
    custom_fields: dict[str, Any] = _custom_fields(output=True)


class CustomerPage(Schema):
    items: list[CustomerRow]
    next_cursor: str | None


class FamilyMemberOut(Schema):
    relation: str = ""
    name: str = ""
    birthday: str = ""
    note: str = ""


class CustomerOut(Schema):
    id: int
    version: int
    kind: str
    name: str
    family_name: str
    given_name: str
    organisation_id: int | None
    company_name: str
    job_title: str
    gender: str
    birthday: dt.date | None
    id_number: str = Field(description="In clear for roles that may see personal data (logged), masked otherwise.")
    uscc: str
    industry: str
    company_size: str
    website: str
    source: str
    card_number: str
    owner_id: int | None
    team_id: int | None
    owner_since: dt.datetime | None
    in_pool: bool
    pool_id: int | None
    lifecycle_stage: str
    rating: int
    family_members: list[FamilyMemberOut]
    preferences: str
    special_needs: str
    interests: str
    notes: str
    custom_fields: dict[str, Any] = _custom_fields(output=True)
    contact_points: list[ContactPointOut]
    personal_data_masked: bool
    last_contact_at: dt.datetime | None
    next_follow_up_at: dt.datetime | None
    last_deal_at: dt.datetime | None
    created_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class BulkAssignOut(Schema):
    updated: int = Field(description="How many of the given customers you can see were assigned.")


# Rendering ----------------------------------------------------------------------------------


def contact_point_out(point: ContactPoint, *, unmasked: bool) -> ContactPointOut:
    address = None
    if point.kind == ContactKind.ADDRESS and point.address:
        address = AddressOut(**point.address) if unmasked else None
    return ContactPointOut(
        id=point.pk,
        version=point.version,
        kind=point.kind,
        value=display_contact_value(point.kind, point.value, unmasked=unmasked),
        address=address,
        label=point.label,
        is_primary=point.is_primary,
        verified=point.verified,
        consent=point.consent,
        consent_updated_at=point.consent_updated_at,
        consent_source=point.consent_source,
        created_at=point.created_at,
        updated_at=point.updated_at,
    )


def customer_row_out(customer: Customer, *, unmasked: bool) -> CustomerRow:
    """A list row; expects `primary_points` prefetched by the list selector."""
    primary: dict[str, str] = {p.kind: p.value for p in getattr(customer, "primary_points", [])}

    def shown(kind: str) -> str | None:
        value = primary.get(kind)
        return display_contact_value(kind, value, unmasked=unmasked) if value else None

    return CustomerRow(
        id=customer.pk,
        version=customer.version,
        kind=customer.kind,
        name=customer.name,
        company_name=customer.company_name,
        organisation_id=customer.organisation_id,
        owner_id=customer.owner_id,
        team_id=customer.team_id,
        lifecycle_stage=customer.lifecycle_stage,
        rating=customer.rating,
        source=customer.source,
        card_number=customer.card_number,
        primary_phone=shown(ContactKind.PHONE),
        primary_email=shown(ContactKind.EMAIL),
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        last_contact_at=customer.last_contact_at,
        next_follow_up_at=customer.next_follow_up_at,
        in_pool=customer.in_pool,
        custom_fields=customer.custom_fields or {},
    )


def customer_out(actor: Actor, customer: Customer, points: list[ContactPoint], *, unmasked: bool) -> CustomerOut:
    return CustomerOut(
        id=customer.pk,
        version=customer.version,
        kind=customer.kind,
        name=customer.name,
        family_name=customer.family_name,
        given_name=customer.given_name,
        organisation_id=customer.organisation_id,
        company_name=customer.company_name,
        job_title=customer.job_title,
        gender=customer.gender,
        birthday=customer.birthday,
        id_number=id_number_for(actor, customer),
        uscc=customer.uscc,
        industry=customer.industry,
        company_size=customer.company_size,
        website=customer.website,
        source=customer.source,
        card_number=customer.card_number,
        owner_id=customer.owner_id,
        team_id=customer.team_id,
        owner_since=customer.owner_since,
        in_pool=customer.in_pool,
        pool_id=customer.pool_id,
        lifecycle_stage=customer.lifecycle_stage,
        rating=customer.rating,
        family_members=[FamilyMemberOut(**m) for m in customer.family_members or [] if isinstance(m, dict)],
        preferences=customer.preferences,
        special_needs=customer.special_needs,
        interests=customer.interests,
        notes=customer.notes,
        custom_fields=customer.custom_fields or {},
        contact_points=[contact_point_out(p, unmasked=unmasked) for p in points],
        personal_data_masked=not unmasked,
        last_contact_at=customer.last_contact_at,
        next_follow_up_at=customer.next_follow_up_at,
        last_deal_at=customer.last_deal_at,
        created_by_id=customer.created_by_id,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
    )

"""API routes of the inbox (mounted under /api/v1/): inbound messages, and filing them by hand.

Thin: parse, call one selector or service, render. A message the caller may not see is 404 on every route.
The actions accept the version the client read (If-Match or "version") and check it when it is given.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI, Query, Router, Schema
from pydantic import Field

from guanxi.platform.core.api import (
    IF_MATCH,
    PageQuery,
    Payload,
    RecordId,
    actor_of,
    optional_version,
    page_out,
    responses,
)
from guanxi.platform.core.pagination import keyset_paginate
from guanxi.platform.identity.scoping import can_see_personal_data, has_permission
from guanxi.platform.inbox import selectors, services
from guanxi.platform.inbox.models import InboundChannel, InboundMessage, MatchReason, MatchStatus
from guanxi.platform.inbox.permissions import INBOX_MANAGE
from guanxi.platform.inbox.registry import RecordLink, record_type_labels

router = Router(tags=["inbound messages"])

READ_ERRORS = (401, 403, 404, 422)
ACTION_ERRORS = (400, 401, 403, 404, 409, 412, 422)


class RecordOut(Schema):
    type: str = Field(description='The record type, such as "customers.customer".')
    id: int
    label: str = Field(description="The record's name; empty when it was deleted.")
    url: str = Field(description="The record's page; empty when it was deleted.")


class AttachmentOut(Schema):
    filename: str
    content_type: str
    size: int | None


class InboundMessageOut(Schema):
    id: int
    version: int
    channel: InboundChannel
    provider: str = Field(description="webhook, imap, aliyun, tencent or wechat_mp.")
    provider_message_id: str
    from_address: str = Field(
        description="Normalised (email lower case, phone E.164, WeChat open id); masked for roles that may not "
        "see personal data."
    )
    from_address_valid: bool
    from_name: str
    to_address: str
    subject: str
    preview: str = Field(description="The subject, or the start of the text.")
    received_at: dt.datetime
    automated: bool
    match_status: MatchStatus
    match_reason: str = Field(json_schema_extra={"enum": list(MatchReason.values)})
    match_reason_text: str = Field(description="The remark in the caller's language.")
    record: RecordOut | None = Field(description="The customer or lead the message is filed on.")
    other_candidate_ids: list[int] = Field(
        description="Other records of the same type with the sender's address (when the match was ambiguous)."
    )
    unsubscribe_requested: bool
    attempts: int
    created_at: dt.datetime


class InboundMessageDetailOut(InboundMessageOut):
    body_text: str = Field(description="Plain text; HTML from senders is turned into text, never passed on.")
    attachments: list[AttachmentOut] = Field(description="Names and sizes only; files are not kept.")
    headers: list[list[str]] = Field(description="Email headers as [name, value] pairs (size-limited).")
    provider_data: dict[str, Any] = Field(description="The provider's fields for SMS and WeChat messages.")
    bounce: dict[str, Any] | None = Field(description="For a delivery status notification: what bounced.")
    unsubscribed_count: int | None
    error: str = Field(description="Why filing failed (inbox managers only; empty for others).")
    filed_by_id: int | None
    processed_at: dt.datetime | None


class InboundMessagePage(Schema):
    items: list[InboundMessageOut]
    next_cursor: str | None


class InboundListQuery(PageQuery):
    channel: InboundChannel | None = None
    status: MatchStatus | None = None
    received_from: dt.date | None = Field(None, description="Received on or after this day.")
    received_to: dt.date | None = Field(None, description="Received on or before this day.")


def _record_types_enum(schema: dict[str, Any]) -> None:
    """The record types messages may be filed on, as the apps registered them (read when the schema is built)."""
    schema["enum"] = sorted(record_type_labels())


class AssignIn(Payload):
    record_type: str = Field(
        ..., description='The record type, such as "customers.customer".', json_schema_extra=_record_types_enum
    )
    record_id: RecordId
    version: int | None = Field(None, description="The version you read (optional); or send If-Match.")


class CreateLeadIn(Payload):
    name: str = Field("", max_length=200, description="The lead's name; the sender's name or address by default.")
    version: int | None = Field(None, description="The version you read (optional); or send If-Match.")


def _record(message: InboundMessage, links: dict[tuple[str, int], RecordLink]) -> RecordOut | None:
    if not message.record_type or message.record_id is None:
        return None
    link = links.get((message.record_type, message.record_id))
    return RecordOut(
        type=message.record_type, id=message.record_id, label=link.label if link else "", url=link.url if link else ""
    )


def _full_text(message: InboundMessage) -> str:
    return "" if "body_text" in message.get_deferred_fields() else message.body_text


def _fields(message: InboundMessage, links: dict[tuple[str, int], RecordLink], sender: str) -> dict[str, Any]:
    return {
        "id": message.pk,
        "version": message.version,
        "channel": InboundChannel(message.channel),
        "provider": message.provider,
        "provider_message_id": message.provider_message_id,
        "from_address": sender,
        "from_address_valid": message.from_address_valid,
        "from_name": message.from_name,
        "to_address": message.to_address,
        "subject": message.subject,
        # A list row carries the text's start as `body_start`; a detail has the whole text.
        "preview": selectors.preview(message.subject or getattr(message, "body_start", None) or _full_text(message)),
        "received_at": message.received_at,
        "automated": message.automated,
        "match_status": MatchStatus(message.match_status),
        "match_reason": message.match_reason,
        "match_reason_text": str(message.get_match_reason_display()) if message.match_reason else "",
        "record": _record(message, links),
        "other_candidate_ids": [int(pk) for pk in message.other_candidates],
        "unsubscribe_requested": message.unsubscribe_requested,
        "attempts": message.attempts,
        "created_at": message.created_at,
    }


def _detail(request: HttpRequest, message: InboundMessage) -> InboundMessageDetailOut:
    actor = actor_of(request)
    unmasked = can_see_personal_data(actor)
    if unmasked and message.from_address:
        services.inbound_messages_record_personal_data_view(
            actor=actor, message_ids=[message.pk], detail={"api": "inbound_message"}
        )
    metadata = message.metadata or {}
    manager = has_permission(actor, INBOX_MANAGE)
    return InboundMessageDetailOut(
        **_fields(
            message, selectors.record_links([message]), selectors.shown_sender(actor, message, unmasked=unmasked)
        ),
        body_text=message.body_text,
        attachments=[AttachmentOut(**item) for item in message.attachments],
        headers=[[str(name), str(value)] for name, value in metadata.get("headers") or []],
        provider_data=dict(metadata.get("provider") or {}),
        bounce=metadata.get("bounce"),
        unsubscribed_count=message.unsubscribed_count,
        error=message.error if manager else "",
        filed_by_id=message.filed_by_id,
        processed_at=message.processed_at,
    )


@router.get(
    "/inbound-messages",
    response=responses(InboundMessagePage, errors=READ_ERRORS),
    summary="List inbound messages",
    description="Newest first. Messages filed on records you may see; with inbox.manage also the unfiled ones.",
)
def list_inbound_messages(request: HttpRequest, query: Query[InboundListQuery]) -> InboundMessagePage:
    actor = actor_of(request)
    filters = selectors.InboundFilters.from_params(query.model_dump(exclude={"cursor", "limit"}, mode="json"))
    page = keyset_paginate(
        selectors.inbound_message_list(actor=actor, filters=filters),
        sort=selectors.LIST_SORT,
        cursor=query.cursor,
        page_size=query.limit,
    )
    unmasked = can_see_personal_data(actor)
    links = selectors.record_links(page.items)
    if unmasked and page.items:
        services.inbound_messages_record_personal_data_view(
            actor=actor, message_ids=[m.pk for m in page.items], detail={"api": "inbound_messages"}
        )
    return page_out(
        InboundMessagePage,
        page,
        lambda m: InboundMessageOut(**_fields(m, links, selectors.shown_sender(actor, m, unmasked=unmasked))),
    )


@router.get(
    "/inbound-messages/{inbound_message_id}",
    response=responses(InboundMessageDetailOut, errors=READ_ERRORS),
    summary="Get an inbound message",
)
def get_inbound_message(request: HttpRequest, inbound_message_id: RecordId) -> InboundMessageDetailOut:
    message = selectors.inbound_message_get(actor=actor_of(request), message_id=inbound_message_id)
    return _detail(request, message)


@router.post(
    "/inbound-messages/{inbound_message_id}/assign",
    response=responses(InboundMessageDetailOut, errors=ACTION_ERRORS),
    summary="File a message on a customer or lead",
    description="Needs inbox.manage and a record you may see; a message filed elsewhere moves (its timeline entry "
    "too). 409 while it is still being filed.",
)
def assign_inbound_message(
    request: HttpRequest, inbound_message_id: RecordId, payload: AssignIn, if_match: str | None = IF_MATCH
) -> InboundMessageDetailOut:
    actor = actor_of(request)
    message = selectors.inbound_message_get(actor=actor, message_id=inbound_message_id)
    message = services.inbound_message_assign(
        actor=actor,
        message=message,
        record_type=payload.record_type,
        record_id=payload.record_id,
        expected_version=optional_version(request, payload.version),
    )
    return _detail(request, message)


@router.post(
    "/inbound-messages/{inbound_message_id}/create-lead",
    response=responses(InboundMessageDetailOut, errors=ACTION_ERRORS),
    summary="Create a lead from a message",
    description="Needs inbox.manage and leads.add; you own the lead. Only for messages not filed on a record (409).",
)
def create_lead_from_inbound_message(
    request: HttpRequest, inbound_message_id: RecordId, payload: CreateLeadIn, if_match: str | None = IF_MATCH
) -> InboundMessageDetailOut:
    actor = actor_of(request)
    message = selectors.inbound_message_get(actor=actor, message_id=inbound_message_id)
    message = services.inbound_message_create_lead(
        actor=actor, message=message, name=payload.name, expected_version=optional_version(request, payload.version)
    )
    return _detail(request, message)


@router.post(
    "/inbound-messages/{inbound_message_id}/retry",
    response=responses(InboundMessageDetailOut, errors=ACTION_ERRORS),
    summary="Retry filing a message that failed",
    description="Needs inbox.manage; only for messages whose filing failed (409 otherwise).",
)
def retry_inbound_message(request: HttpRequest, inbound_message_id: RecordId) -> InboundMessageDetailOut:
    actor = actor_of(request)
    message = selectors.inbound_message_get(actor=actor, message_id=inbound_message_id)
    return _detail(request, services.inbound_message_retry(actor=actor, message=message))


def mount(api: NinjaAPI) -> None:
    api.add_router("/", router)

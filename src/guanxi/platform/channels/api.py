"""API routes of channels (mounted under /api/v1/): messages, message templates and the contact policy.

Routes parse and render; the services and selectors of this app decide, exactly as for the web pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Query, Router, Schema, Status

from guanxi.platform.channels import selectors, services
from guanxi.platform.channels.models import (
    ContactPolicy,
    HeldReason,
    MessageChannel,
    MessagePurpose,
    MessageStatus,
    MessageTemplate,
    OutboundMessage,
    Suppression,
    SuppressionReason,
)
from guanxi.platform.channels.permissions import MESSAGES_MANAGE_POLICY
from guanxi.platform.channels.registry import recipient_sources
from guanxi.platform.core.actors import Actor
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
    page_out,
    responses,
)
from guanxi.platform.core.errors import NotFound
from guanxi.platform.core.pagination import keyset_paginate
from guanxi.platform.identity.scoping import require_permission

router = Router(tags=["messages"])


def _record_types(schema: dict[str, Any]) -> None:
    schema["enum"] = sorted(recipient_sources())


def _record_types_or_all(schema: dict[str, Any]) -> None:
    schema["enum"] = ["", *sorted(recipient_sources())]


# Messages ---------------------------------------------------------------------------------------------


class MessageOut(Schema):
    id: int
    channel: MessageChannel
    purpose: MessagePurpose
    status: MessageStatus
    to_address: str = Field(description="Masked for readers without the right to see personal data.")
    record_type: str
    record_id: int
    record_label: str | None
    template_id: int | None
    language: str
    subject: str
    body: str
    provider_template_id: str
    provider_data: dict[str, str]
    provider: str
    provider_message_id: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error_code: str
    last_error: str
    held_reason: str = Field(description="Why the policy held the message back or deferred it (a code).")
    held_reason_text: str = Field(description="The same, as a sentence in the caller's language.")
    held_params: dict[str, Any]
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None
    failed_at: dt.datetime | None
    bounced_at: dt.datetime | None
    created_by_id: int | None
    created_at: dt.datetime


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class MessageListQuery(PageQuery):
    channel: Annotated[str, listed_choices(("", *MessageChannel.values))] = ""
    status: Annotated[str, listed_choices(("", *MessageStatus.values))] = ""
    purpose: Annotated[str, listed_choices(("", *MessagePurpose.values))] = ""
    held_reason: Annotated[str, listed_choices(("", *HeldReason.values))] = ""
    record_type: str = Field("", json_schema_extra=_record_types_or_all)
    record_id: RecordId | None = None
    template_id: RecordId | None = None
    date_from: dt.date | None = Field(None, description="Created on or after this day.")
    date_to: dt.date | None = Field(None, description="Created on or before this day.")


class MessageSendIn(Payload):
    channel: MessageChannel
    record_type: str = Field(
        ..., description='The record, such as "customers.customer".', json_schema_extra=_record_types
    )
    record_id: RecordId
    template_id: RecordId | None = Field(None, description="A template, rendered in the recipient's language.")
    subject: str = Field("", max_length=300, description="Your own subject (emails), when no template is given.")
    body: str = Field("", max_length=20_000, description="Your own text when no template is given; merge fields work.")
    purpose: MessagePurpose = Field(
        MessagePurpose.MARKETING,
        description="Marketing needs consent and follows caps and quiet hours; transactional is exempt.",
    )
    to_address: str = Field("", max_length=300, description="Another of the record's addresses; default its preferred.")


class BounceIn(Payload):
    reason: str = Field("", max_length=2000)
    permanent: bool = Field(True, description="A hard bounce also blocks the address for every message.")


def _message_out(actor: Actor, message: OutboundMessage, labels: dict[tuple[str, int], Any]) -> MessageOut:
    link = labels.get((message.record_type, int(message.record_id)))
    return MessageOut(
        id=message.pk,
        channel=MessageChannel(message.channel),
        purpose=MessagePurpose(message.purpose),
        status=MessageStatus(message.status),
        to_address=selectors.shown_address(actor, message.channel, message.to_address),
        record_type=message.record_type,
        record_id=int(message.record_id),
        record_label=link.label if link else None,
        template_id=message.template_id,
        language=message.language,
        subject=message.subject,
        body=message.body,
        provider_template_id=message.provider_template_id,
        provider_data={str(k): str(v) for k, v in (message.provider_data or {}).items()},
        provider=message.provider,
        provider_message_id=message.provider_message_id,
        attempts=message.attempts,
        next_attempt_at=message.next_attempt_at,
        last_error_code=message.last_error_code,
        last_error=message.last_error,
        held_reason=message.held_reason,
        held_reason_text=message.held_reason_text,
        held_params=message.held_params or {},
        sent_at=message.sent_at,
        delivered_at=message.delivered_at,
        failed_at=message.failed_at,
        bounced_at=message.bounced_at,
        created_by_id=message.created_by_id,
        created_at=message.created_at,
    )


def _one(actor: Actor, message: OutboundMessage) -> MessageOut:
    return _message_out(actor, message, selectors.record_links([message]))


@router.get("/messages", response=responses(MessagePage), summary="List messages")
def list_messages(request: HttpRequest, params: Query[MessageListQuery]) -> MessagePage:
    """Messages of the records you may see (all of them with `messages.all.view`), newest first."""
    actor = actor_of(request)
    filters = selectors.MessageFilters.from_params(params.dict())
    page = keyset_paginate(
        selectors.message_list(actor=actor, filters=filters), sort="-id", cursor=params.cursor, page_size=params.limit
    )
    labels = selectors.record_links(page.items)
    return page_out(MessagePage, page, lambda message: _message_out(actor, message, labels))


@router.post(
    "/messages",
    response=responses(MessageOut, status=201),
    summary="Send a message",
    description=(
        "Sends to the record's preferred address for the channel. The contact policy decides: the answer is 201 "
        "with status `queued` (on its way; `held_reason` quiet_hours when it waits for quiet hours to end) or "
        "`held` with `held_reason` and `held_reason_text`."
    ),
)
def send_message(request: HttpRequest, payload: MessageSendIn) -> Status[MessageOut]:
    actor = actor_of(request)
    message = services.message_send(
        actor=actor,
        channel=payload.channel.value,
        record_type=payload.record_type,
        record_id=payload.record_id,
        template_id=payload.template_id,
        subject=payload.subject,
        body=payload.body,
        purpose=payload.purpose.value,
        to_address=payload.to_address,
    )
    return Status(201, _one(actor, message))


@router.get("/messages/{message_id}", response=responses(MessageOut), summary="Get a message")
def get_message(request: HttpRequest, message_id: int) -> MessageOut:
    actor = actor_of(request)
    return _one(actor, selectors.message_get(actor=actor, message_id=message_id))


@router.post(
    "/messages/{message_id}/retry",
    response=responses(MessageOut),
    summary="Send a failed message again",
    description="Only a failed message (409 otherwise); its attempts start over and the policy is checked again.",
)
def retry_message(request: HttpRequest, message_id: int) -> MessageOut:
    actor = actor_of(request)
    message = services.message_retry(actor=actor, message_id=message_id)
    return _one(actor, selectors.message_get(actor=actor, message_id=message.pk))


@router.post(
    "/messages/{message_id}/bounce",
    response=responses(MessageOut),
    summary="Mark an email bounced",
    description="For bounces reported outside the inbound mail handling; needs the right to manage the policy.",
)
def bounce_message(request: HttpRequest, message_id: int, payload: BounceIn) -> MessageOut:
    actor = actor_of(request)
    require_permission(actor, MESSAGES_MANAGE_POLICY)
    message = selectors.message_get(actor=actor, message_id=message_id)
    if message.channel != MessageChannel.EMAIL:
        raise NotFound()
    services.message_mark_bounced(message_id=message.pk, reason=payload.reason, permanent=payload.permanent)
    return _one(actor, selectors.message_get(actor=actor, message_id=message.pk))


# Templates ------------------------------------------------------------------------------------------------


class TemplateOut(Schema):
    id: int
    name: str
    channel: MessageChannel
    purpose: MessagePurpose
    record_type: str
    subject_zh: str
    body_zh: str
    subject_en: str
    body_en: str
    provider_template_id: str
    provider_params: dict[str, str]
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


class TemplateList(Schema):
    items: list[TemplateOut]


class TemplateIn(Payload):
    name: str = Field(..., max_length=100)
    channel: MessageChannel
    purpose: MessagePurpose
    record_type: str = Field("customers.customer", json_schema_extra=_record_types)
    subject_zh: str = ""
    body_zh: str = ""
    subject_en: str = ""
    body_en: str = ""
    provider_template_id: str = Field("", description="SMS and WeChat: the provider's approved template.")
    provider_params: dict[str, str] = Field(
        default_factory=dict, description='Provider template parameter -> merge text, e.g. {"name": "{{ name }}"}.'
    )
    is_active: bool = True


class TemplatePatch(Payload):
    name: str | None = None
    purpose: MessagePurpose | None = None
    subject_zh: str | None = None
    body_zh: str | None = None
    subject_en: str | None = None
    body_en: str | None = None
    provider_template_id: str | None = None
    provider_params: dict[str, str] | None = None
    is_active: bool | None = None
    version: int | None = Field(None, description="The version you read; or send it in the If-Match header.")


class TemplateListQuery(Schema):
    channel: Annotated[str, listed_choices(("", *MessageChannel.values))] = ""
    purpose: Annotated[str, listed_choices(("", *MessagePurpose.values))] = ""
    record_type: str = Field("", json_schema_extra=_record_types_or_all)
    include_inactive: bool = Field(False, description="Also inactive templates (needs the right to manage them).")


class PreviewIn(Payload):
    record_id: RecordId = Field(description="The record to render the template for (one you may see).")
    language: Annotated[str, listed_choices(("", "zh-hans", "en"))] = Field(
        "", description="zh-hans or en; default the recipient's language."
    )


class PreviewOut(Schema):
    record_label: str
    to_address: str
    language: str
    subject: str
    body: str
    provider_template_id: str
    provider_data: dict[str, str]
    warnings: list[str]


class MergeFieldOut(Schema):
    name: str
    label: str


class MergeFieldList(Schema):
    items: list[MergeFieldOut]


class MergeFieldQuery(Schema):
    record_type: str = Field("customers.customer", json_schema_extra=_record_types)


def _template_out(template: MessageTemplate) -> TemplateOut:
    return TemplateOut(
        id=template.pk,
        name=template.name,
        channel=MessageChannel(template.channel),
        purpose=MessagePurpose(template.purpose),
        record_type=template.record_type,
        subject_zh=template.subject_zh,
        body_zh=template.body_zh,
        subject_en=template.subject_en,
        body_en=template.body_en,
        provider_template_id=template.provider_template_id,
        provider_params={str(k): str(v) for k, v in (template.provider_params or {}).items()},
        is_active=template.is_active,
        created_at=template.created_at,
        updated_at=template.updated_at,
        version=template.version,
    )


@router.get("/message-templates", response=responses(TemplateList), summary="List message templates")
def list_templates(request: HttpRequest, query: Query[TemplateListQuery]) -> TemplateList:
    templates = selectors.template_list(
        actor=actor_of(request),
        channel=query.channel,
        record_type=query.record_type,
        purpose=query.purpose,
        include_inactive=query.include_inactive,
    )
    return TemplateList(items=[_template_out(t) for t in templates])


@router.get(
    "/message-templates/merge-fields", response=responses(MergeFieldList), summary="Merge fields of a record type"
)
def list_merge_fields(request: HttpRequest, query: Query[MergeFieldQuery]) -> MergeFieldList:
    actor_of(request)
    if query.record_type not in recipient_sources():
        raise NotFound()
    fields = selectors.merge_fields_for(query.record_type)
    return MergeFieldList(items=[MergeFieldOut(name=f.name, label=str(f.label)) for f in fields])


@router.post(
    "/message-templates",
    response=responses(TemplateOut, status=201),
    summary="Create a message template",
    description="Every text is checked: a syntax error or an unknown merge field answers 422 naming the field "
    "(subject_zh, body_en, provider_params.<name>) and the line.",
)
def create_template(request: HttpRequest, payload: TemplateIn) -> Status[TemplateOut]:
    data = payload.model_dump(mode="json")
    template = services.message_template_create(actor=actor_of(request), data=data)
    return Status(201, _template_out(template))


@router.get(
    "/message-templates/{template_id}",
    response=responses(TemplateOut),
    summary="Get a message template",
    description="The ETag header carries the version.",
)
def get_template(request: HttpRequest, response: HttpResponse, template_id: int) -> TemplateOut:
    template = selectors.template_get(actor=actor_of(request), template_id=template_id)
    response["ETag"] = etag_for(template.version)
    return _template_out(template)


@router.patch(
    "/message-templates/{template_id}",
    response=responses(TemplateOut, errors=UPDATE_ERROR_STATUSES),
    summary="Change a message template",
    description="Channel and record type are fixed. Send the version you read (If-Match or `version`).",
)
def update_template(
    request: HttpRequest,
    response: HttpResponse,
    template_id: int,
    payload: TemplatePatch,
    if_match: str | None = IF_MATCH,
) -> TemplateOut:
    changes = payload.model_dump(exclude_unset=True, mode="json")
    version = expected_version(request, changes.pop("version", None))
    data = {key: value for key, value in changes.items() if value is not None}
    template = services.message_template_update(
        actor=actor_of(request), template_id=template_id, data=data, version=version
    )
    response["ETag"] = etag_for(template.version)
    return _template_out(template)


@router.delete(
    "/message-templates/{template_id}",
    response=responses(None, status=204),
    summary="Delete a message template",
    description="Only a template no message was sent from (409 otherwise: deactivate it instead).",
)
def delete_template(request: HttpRequest, template_id: int) -> Status[None]:
    services.message_template_delete(actor=actor_of(request), template_id=template_id)
    return Status(204, None)


@router.post(
    "/message-templates/{template_id}/preview",
    response=responses(PreviewOut),
    summary="Preview a template for a record",
    description="Renders the template for one record you may see, exactly as it would be sent (nothing is sent).",
)
def preview_template(request: HttpRequest, template_id: int, payload: PreviewIn) -> PreviewOut:
    actor = actor_of(request)
    template = selectors.template_get(actor=actor, template_id=template_id)
    preview = selectors.template_preview(
        actor=actor,
        texts=template,
        record_type=template.record_type,
        record_id=payload.record_id,
        language=payload.language,
    )
    return PreviewOut(
        record_label=preview.record_label,
        to_address=preview.to_address,
        language=preview.composed.language,
        subject=preview.composed.subject,
        body=preview.composed.body,
        provider_template_id=preview.composed.provider_template_id,
        provider_data=preview.composed.provider_data,
        warnings=preview.warnings,
    )


# Contact policy ---------------------------------------------------------------------------------------


class PolicyOut(Schema):
    caps_enabled: bool
    email_cap_count: int | None
    email_cap_days: int
    sms_cap_count: int | None
    sms_cap_days: int
    wechat_cap_count: int | None
    wechat_cap_days: int
    quiet_hours_enabled: bool
    quiet_start: str = Field(description="HH:MM")
    quiet_end: str = Field(description="HH:MM")
    quiet_time_zone: str
    quiet_channels: list[MessageChannel]
    updated_at: dt.datetime
    version: int


class PolicyIn(Payload):
    caps_enabled: bool | None = None
    email_cap_count: int | None = Field(None, ge=0, le=1000, description="null: no cap on email.")
    email_cap_days: int | None = Field(None, ge=1, le=365)
    sms_cap_count: int | None = Field(None, ge=0, le=1000)
    sms_cap_days: int | None = Field(None, ge=1, le=365)
    wechat_cap_count: int | None = Field(None, ge=0, le=1000)
    wechat_cap_days: int | None = Field(None, ge=1, le=365)
    quiet_hours_enabled: bool | None = None
    quiet_start: str | None = Field(None, description="HH:MM, in quiet_time_zone")
    quiet_end: str | None = Field(None, description="HH:MM, in quiet_time_zone")
    quiet_time_zone: str | None = Field(None, description="An IANA time zone such as Asia/Shanghai.")
    quiet_channels: list[MessageChannel] | None = None
    version: int | None = Field(None, description="The version you read; or send it in the If-Match header.")


def _policy_out(policy: ContactPolicy) -> PolicyOut:
    return PolicyOut(
        caps_enabled=policy.caps_enabled,
        email_cap_count=policy.email_cap_count,
        email_cap_days=policy.email_cap_days,
        sms_cap_count=policy.sms_cap_count,
        sms_cap_days=policy.sms_cap_days,
        wechat_cap_count=policy.wechat_cap_count,
        wechat_cap_days=policy.wechat_cap_days,
        quiet_hours_enabled=policy.quiet_hours_enabled,
        quiet_start=policy.quiet_start.strftime("%H:%M"),
        quiet_end=policy.quiet_end.strftime("%H:%M"),
        quiet_time_zone=policy.quiet_time_zone,
        quiet_channels=[MessageChannel(c) for c in policy.quiet_channels or []],
        updated_at=policy.updated_at,
        version=policy.version,
    )


@router.get("/contact-policy", response=responses(PolicyOut), summary="Get the contact policy")
def get_policy(request: HttpRequest, response: HttpResponse) -> PolicyOut:
    policy = selectors.contact_policy_get(actor=actor_of(request))
    response["ETag"] = etag_for(policy.version)
    return _policy_out(policy)


@router.put(
    "/contact-policy",
    response=responses(PolicyOut, errors=UPDATE_ERROR_STATUSES),
    summary="Change the contact policy",
    description="Fields left out keep their value; a cap count sent as null removes that cap. "
    "Send the version you read (If-Match or `version`).",
)
def put_policy(
    request: HttpRequest, response: HttpResponse, payload: PolicyIn, if_match: str | None = IF_MATCH
) -> PolicyOut:
    data = payload.model_dump(exclude_unset=True, mode="json")
    version = expected_version(request, data.pop("version", None))
    policy = services.contact_policy_update(actor=actor_of(request), data=data, version=version)
    response["ETag"] = etag_for(policy.version)
    return _policy_out(policy)


class SuppressionOut(Schema):
    id: int
    channel: MessageChannel
    address: str
    reason: SuppressionReason
    source: str
    created_by_id: int | None
    created_at: dt.datetime


class SuppressionPage(Schema):
    items: list[SuppressionOut]
    next_cursor: str | None


class SuppressionQuery(PageQuery):
    channel: Annotated[str, listed_choices(("", *MessageChannel.values))] = ""
    address: str = Field("", max_length=300, description="The address, or at least 3 characters of it.")


class SuppressionIn(Payload):
    channel: MessageChannel
    address: str = Field(..., max_length=300)
    reason: Annotated[str, listed_choices((SuppressionReason.BLOCKED, SuppressionReason.UNSUBSCRIBED))] = (
        SuppressionReason.BLOCKED
    )
    source: str = Field("", max_length=100)


def _suppression_out(item: Suppression) -> SuppressionOut:
    return SuppressionOut(
        id=item.pk,
        channel=MessageChannel(item.channel),
        address=item.address,
        reason=SuppressionReason(item.reason),
        source=item.source,
        created_by_id=item.created_by_id,
        created_at=item.created_at,
    )


@router.get(
    "/contact-policy/suppressions",
    response=responses(SuppressionPage),
    summary="List unsubscribed and blocked addresses",
)
def list_suppressions(request: HttpRequest, params: Query[SuppressionQuery]) -> SuppressionPage:
    qs = selectors.suppression_list(actor=actor_of(request), channel=params.channel, address=params.address)
    page = keyset_paginate(qs, sort="-id", cursor=params.cursor, page_size=params.limit)
    return page_out(SuppressionPage, page, _suppression_out)


@router.post(
    "/contact-policy/suppressions",
    response=responses(SuppressionOut, status=201),
    summary="Block an address or mark it unsubscribed",
)
def create_suppression(request: HttpRequest, payload: SuppressionIn) -> Status[SuppressionOut]:
    item = services.suppression_add(
        actor=actor_of(request),
        channel=payload.channel.value,
        address=payload.address,
        reason=payload.reason,
        source=payload.source,
    )
    return Status(201, _suppression_out(item))


@router.delete(
    "/contact-policy/suppressions/{suppression_id}",
    response=responses(None, status=204),
    summary="Take an address off the list",
)
def delete_suppression(request: HttpRequest, suppression_id: int) -> Status[None]:
    services.suppression_remove(actor=actor_of(request), suppression_id=suppression_id)
    return Status(204, None)


def mount(api: NinjaAPI) -> None:
    api.add_router("/", router)

"""API routes of webhooks (mounted under /api/v1/): subscriptions (CRUD, rotate the secret, test ping), the
delivery log with redelivery, and the event types one can subscribe to. Everything needs `webhooks.manage`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Query, Router, Schema, Status

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
from guanxi.platform.events.registry import event_types
from guanxi.platform.webhooks import selectors, services
from guanxi.platform.webhooks.addresses import URL_MAX
from guanxi.platform.webhooks.delivery import delivery_request_body
from guanxi.platform.webhooks.models import (
    ALL_EVENTS,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

router = Router(tags=["webhooks"])


# Schemas -----------------------------------------------------------------------------------------


def _list_event_names(schema: dict[str, Any]) -> None:
    """The subscribable event names as the apps registered them (read when the schema is built); the service
    checks them with its own message."""
    schema["enum"] = [ALL_EVENTS, *(item.name for item in event_types())]


EventName = Annotated[str, Field(json_schema_extra=_list_event_names)]
EVENT_TYPES_DESCRIPTION = 'Registered event names, or ["*"] for every event (including ones added later).'


class SubscriptionOut(Schema):
    id: int
    name: str
    url: str
    event_types: list[str]
    description: str
    is_active: bool
    secret_hint: str = Field(description="The signing secret, masked; it is shown in full only once.")
    secret_rotated_at: datetime | None
    consecutive_failures: int
    disabled_reason: str = Field(description='"", "manual" or "failures".')
    disabled_at: datetime | None
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class SubscriptionWithSecret(SubscriptionOut):
    secret: str = Field(description="The signing secret in full: store it now, it is not shown again.")


class SubscriptionPage(Schema):
    items: list[SubscriptionOut]
    next_cursor: str | None


class SubscriptionCreate(Payload):
    name: str = Field(max_length=services.NAME_MAX)
    url: str = Field(
        max_length=URL_MAX,
        description="The https:// address that receives the POST requests; its host must be a public address.",
    )
    event_types: list[EventName] = Field(min_length=1, description=EVENT_TYPES_DESCRIPTION)
    description: str = Field("", max_length=services.DESCRIPTION_MAX)
    is_active: bool = True


class SubscriptionPatch(Payload):
    name: str | None = Field(None, max_length=services.NAME_MAX)
    url: str | None = Field(None, max_length=URL_MAX)
    event_types: list[EventName] | None = Field(None, min_length=1, description=EVENT_TYPES_DESCRIPTION)
    description: str | None = Field(None, max_length=services.DESCRIPTION_MAX)
    is_active: bool | None = Field(None, description="Switching it back on clears the failure count.")
    version: int | None = Field(None, description="The version you read; or send it in the If-Match header.")


class DeliveryOut(Schema):
    id: int
    subscription_id: int
    subscription_name: str
    event: str
    event_id: str
    record_type: str
    occurred_at: datetime
    status: DeliveryStatus
    attempts: int
    max_attempts: int
    next_attempt_at: datetime | None
    response_code: int | None = Field(description="The status code of the last attempt.")
    duration_ms: int | None
    error_kind: str = Field(description="Why the last attempt failed; empty when it succeeded.")
    error: str
    first_attempted_at: datetime | None
    last_attempted_at: datetime | None
    manual: bool = Field(description="A redelivery or test ping, sent by hand (one attempt).")
    parent_id: int | None = Field(description="The delivery this one redelivers.")
    created_at: datetime


class AttemptOut(Schema):
    number: int
    url: str
    started_at: datetime
    duration_ms: int
    response_code: int | None
    response_body: str
    error_kind: str
    error: str
    request_headers: dict[str, str]


class DeliveryDetail(DeliveryOut):
    payload: dict[str, Any]
    request_body: str = Field(description="The JSON body every attempt sends.")
    response_body: str = Field(description="The start of the last response body.")
    attempt_log: list[AttemptOut]
    redelivery_ids: list[int]


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


class DeliveryQuery(PageQuery):
    subscription: RecordId | None = Field(None, description="Only this subscription's deliveries.")
    status: Annotated[str, listed_choices(["", *DeliveryStatus.values])] = Field("", description="Only this status.")
    event: str = Field(
        "", max_length=services.EVENT_NAME_MAX, description='Only this event, such as "customer.created".'
    )


class EventTypeOut(Schema):
    name: str
    label: str
    record_type: str
    fields: list[str]


# Rendering ---------------------------------------------------------------------------------------


def _subscription_out(subscription: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": subscription.pk,
        "name": subscription.name,
        "url": subscription.url,
        "event_types": list(subscription.event_types),
        "description": subscription.description,
        "is_active": subscription.is_active,
        "secret_hint": subscription.masked_secret,
        "secret_rotated_at": subscription.secret_rotated_at,
        "consecutive_failures": subscription.consecutive_failures,
        "disabled_reason": subscription.disabled_reason,
        "disabled_at": subscription.disabled_at,
        "created_by_id": subscription.created_by_id,
        "created_at": subscription.created_at,
        "updated_at": subscription.updated_at,
        "version": subscription.version,
    }


def _delivery_out(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "subscription_id": delivery.subscription_id,
        "subscription_name": delivery.subscription.name,
        "event": delivery.event_name,
        "event_id": delivery.event_id,
        "record_type": delivery.record_type,
        "occurred_at": delivery.occurred_at,
        "status": DeliveryStatus(delivery.status),
        "attempts": delivery.attempts,
        "max_attempts": delivery.max_attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "response_code": delivery.last_response_code,
        "duration_ms": delivery.duration_ms,
        "error_kind": delivery.error_kind,
        "error": delivery.error,
        "first_attempted_at": delivery.first_attempted_at,
        "last_attempted_at": delivery.last_attempted_at,
        "manual": delivery.manual,
        "parent_id": delivery.parent_id,
        "created_at": delivery.created_at,
    }


def _attempt_out(attempt: WebhookAttempt) -> AttemptOut:
    return AttemptOut(
        number=attempt.number,
        url=attempt.url,
        started_at=attempt.started_at,
        duration_ms=attempt.duration_ms,
        response_code=attempt.response_code,
        response_body=attempt.response_body,
        error_kind=attempt.error_kind,
        error=attempt.error,
        request_headers={str(k): str(v) for k, v in attempt.request_headers.items()},
    )


def _delivery_detail(delivery: WebhookDelivery) -> DeliveryDetail:
    return DeliveryDetail(
        **_delivery_out(delivery),
        payload=delivery.payload,
        request_body=delivery_request_body(delivery).decode("utf-8"),
        response_body=delivery.response_body,
        attempt_log=[_attempt_out(attempt) for attempt in delivery.attempt_log.all()],
        redelivery_ids=[redelivery.pk for redelivery in delivery.redeliveries.all()],
    )


# Subscriptions -----------------------------------------------------------------------------------


@router.get("/webhook-subscriptions", response=responses(SubscriptionPage), summary="List webhook subscriptions")
def list_subscriptions(request: HttpRequest, page: Query[PageQuery]) -> SubscriptionPage:
    subscriptions = selectors.subscription_list(actor=actor_of(request))
    result = keyset_paginate(subscriptions, sort="id", cursor=page.cursor, page_size=page.limit)
    return page_out(SubscriptionPage, result, lambda s: SubscriptionOut(**_subscription_out(s)))


@router.post(
    "/webhook-subscriptions",
    response=responses(SubscriptionWithSecret, status=201),
    summary="Create a webhook subscription",
    description="The answer holds the signing secret in full, this once.",
)
def create_subscription(request: HttpRequest, payload: SubscriptionCreate) -> Status[SubscriptionWithSecret]:
    subscription, secret = services.subscription_create(
        actor=actor_of(request),
        name=payload.name,
        url=payload.url,
        event_types=payload.event_types,
        description=payload.description,
        is_active=payload.is_active,
    )
    return Status(201, SubscriptionWithSecret(**_subscription_out(subscription), secret=secret))


@router.get(
    "/webhook-subscriptions/{subscription_id}",
    response=responses(SubscriptionOut),
    summary="Get a webhook subscription",
    description="The ETag header carries the version. The secret is masked.",
)
def get_subscription(request: HttpRequest, response: HttpResponse, subscription_id: RecordId) -> SubscriptionOut:
    subscription = selectors.subscription_get(actor=actor_of(request), subscription_id=subscription_id)
    response["ETag"] = etag_for(subscription.version)
    return SubscriptionOut(**_subscription_out(subscription))


@router.patch(
    "/webhook-subscriptions/{subscription_id}",
    response=responses(SubscriptionOut, errors=UPDATE_ERROR_STATUSES),
    summary="Change a webhook subscription",
    description="Send the version you read (If-Match or `version`): 428 without it, 412 when stale.",
)
def update_subscription(
    request: HttpRequest,
    response: HttpResponse,
    subscription_id: RecordId,
    payload: SubscriptionPatch,
    if_match: str | None = IF_MATCH,
) -> SubscriptionOut:
    actor = actor_of(request)
    subscription = selectors.subscription_get(actor=actor, subscription_id=subscription_id)
    changes = payload.model_dump(exclude_unset=True)
    version = expected_version(request, changes.pop("version", None))
    current: dict[str, Any] = {
        "name": subscription.name,
        "url": subscription.url,
        "event_types": subscription.event_types,
        "description": subscription.description,
        "is_active": subscription.is_active,
    }
    values = {**current, **{key: value for key, value in changes.items() if value is not None}}
    subscription = services.subscription_update(actor=actor, subscription=subscription, version=version, **values)
    response["ETag"] = etag_for(subscription.version)
    return SubscriptionOut(**_subscription_out(subscription))


@router.delete(
    "/webhook-subscriptions/{subscription_id}",
    response=responses(None, status=204),
    summary="Delete a webhook subscription and its delivery log",
)
def delete_subscription(request: HttpRequest, subscription_id: RecordId) -> Status[None]:
    actor = actor_of(request)
    subscription = selectors.subscription_get(actor=actor, subscription_id=subscription_id)
    services.subscription_delete(actor=actor, subscription=subscription)
    return Status(204, None)


@router.post(
    "/webhook-subscriptions/{subscription_id}/rotate-secret",
    response=responses(SubscriptionWithSecret, errors=UPDATE_ERROR_STATUSES),
    summary="Replace the signing secret",
    description=(
        "No body. The answer holds the new secret in full, this once; every attempt from now on is signed with "
        "it. An If-Match version is checked when sent (412 when stale)."
    ),
)
def rotate_secret(
    request: HttpRequest,
    response: HttpResponse,
    subscription_id: RecordId,
    if_match: str | None = IF_MATCH,
) -> SubscriptionWithSecret:
    actor = actor_of(request)
    subscription = selectors.subscription_get(actor=actor, subscription_id=subscription_id)
    version = optional_version(request, None)
    subscription, secret = services.subscription_rotate_secret(actor=actor, subscription=subscription, version=version)
    response["ETag"] = etag_for(subscription.version)
    response["Cache-Control"] = "no-store"
    return SubscriptionWithSecret(**_subscription_out(subscription), secret=secret)


@router.post(
    "/webhook-subscriptions/{subscription_id}/ping",
    response=responses(DeliveryOut, status=201),
    summary="Send a test ping",
    description='A signed "webhook.ping" delivery, sent once right away; follow it in the delivery log.',
)
def ping_subscription(request: HttpRequest, subscription_id: RecordId) -> Status[DeliveryOut]:
    actor = actor_of(request)
    subscription = selectors.subscription_get(actor=actor, subscription_id=subscription_id)
    delivery = services.subscription_ping(actor=actor, subscription=subscription)
    return Status(201, DeliveryOut(**_delivery_out(delivery)))


# Deliveries --------------------------------------------------------------------------------------


@router.get("/webhook-deliveries", response=responses(DeliveryPage), summary="The webhook delivery log")
def list_deliveries(request: HttpRequest, query: Query[DeliveryQuery]) -> DeliveryPage:
    deliveries = selectors.delivery_list(
        actor=actor_of(request), subscription_id=query.subscription, status=query.status, event=query.event.strip()
    )
    result = keyset_paginate(deliveries, sort="-id", cursor=query.cursor, page_size=query.limit)
    return page_out(DeliveryPage, result, lambda d: DeliveryOut(**_delivery_out(d)))


@router.get(
    "/webhook-deliveries/{delivery_id}",
    response=responses(DeliveryDetail),
    summary="Get a webhook delivery with every attempt",
)
def get_delivery(request: HttpRequest, delivery_id: RecordId) -> DeliveryDetail:
    return _delivery_detail(selectors.delivery_get(actor=actor_of(request), delivery_id=delivery_id))


@router.post(
    "/webhook-deliveries/{delivery_id}/redeliver",
    response=responses(DeliveryOut, status=201),
    summary="Redeliver",
    description="Sends the same event again as a new delivery (new id, one attempt) linked to this one.",
)
def redeliver(request: HttpRequest, delivery_id: RecordId) -> Status[DeliveryOut]:
    actor = actor_of(request)
    original = selectors.delivery_get(actor=actor, delivery_id=delivery_id)
    delivery = services.delivery_redeliver(actor=actor, delivery=original)
    return Status(201, DeliveryOut(**_delivery_out(delivery)))


# Event types -------------------------------------------------------------------------------------


@router.get(
    "/webhook-event-types",
    response=responses(list[EventTypeOut]),
    summary="The events a subscription can receive",
)
def list_event_types(request: HttpRequest) -> list[EventTypeOut]:
    return [
        EventTypeOut(name=item.name, label=str(item.label), record_type=item.record_type, fields=item.payload_fields())
        for item in selectors.subscribable_event_types(actor=actor_of(request))
    ]


def mount(api: NinjaAPI) -> None:
    api.add_router("/", router)

"""How deliveries travel: created from platform events (one per matching subscription, once per event id),
claimed by exactly one worker, sent signed, retried with exponential backoff, and given up on after the last
attempt; a subscription whose deliveries keep failing is switched off and its creator notified.

Claiming: a worker moves a due delivery's `next_attempt_at` past the lease and stamps its `claim_token` in one
conditional UPDATE (`status` open and `next_attempt_at <= now`). A second worker's UPDATE finds the row no
longer due and skips it, so no attempt is sent twice. The outcome is written only while the row still carries
that token; a worker that died mid-attempt leaves the row to be claimed again once the lease has passed.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from guanxi.platform.audit.history import attribute_history
from guanxi.platform.core.cn_ids import pii_decrypt
from guanxi.platform.events.registry import Event
from guanxi.platform.notifications.services import notification_send
from guanxi.platform.webhooks.models import (
    OPEN_STATUSES,
    AttemptError,
    DeliveryStatus,
    DisabledReason,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from guanxi.platform.webhooks.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    USER_AGENT,
    delivery_body,
    webhook_signature,
)
from guanxi.platform.webhooks.transport import AttemptOutcome, send_attempt

logger = logging.getLogger(__name__)

CLAIM_BATCH = 200
# A claimed attempt that has not reported back after this long is claimed again (the worker died).
CLAIM_LEASE = dt.timedelta(minutes=10)
NOTIFY_DISABLED = "webhooks.subscription_disabled"


# Settings ----------------------------------------------------------------------------------------


def max_attempts() -> int:
    return max(1, int(getattr(settings, "GUANXI_WEBHOOKS_MAX_ATTEMPTS", 8)))


def retry_delay(failed_attempts: int) -> dt.timedelta:
    """The wait after the n-th failed attempt: base, 2 x base, 4 x base... (1, 2, 4, 8, 16 minutes by default)."""
    base = int(getattr(settings, "GUANXI_WEBHOOKS_RETRY_BASE_SECONDS", 60))
    return dt.timedelta(seconds=base * 2 ** max(0, failed_attempts - 1))


def disable_after_failures() -> int:
    """Consecutive failed deliveries that switch a subscription off (0: never)."""
    return max(0, int(getattr(settings, "GUANXI_WEBHOOKS_DISABLE_AFTER_FAILURES", 5)))


# Creating ----------------------------------------------------------------------------------------


def json_safe(value: Any) -> Any:
    """`value` as plain JSON types (dates and decimals as text), the way it will be sent."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def delivery_create(
    *,
    subscription: WebhookSubscription,
    event_id: str,
    event_name: str,
    record_type: str,
    occurred_at: dt.datetime,
    payload: Mapping[str, Any],
    manual: bool = False,
    parent: WebhookDelivery | None = None,
    triggered_by_id: int | None = None,
) -> WebhookDelivery:
    """Store one delivery, due now, and send it once the transaction commits. Sent by hand: a single attempt."""
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event_id=event_id,
        event_name=event_name,
        record_type=record_type,
        occurred_at=occurred_at,
        payload=json_safe(dict(payload)),
        max_attempts=1 if manual else max_attempts(),
        next_attempt_at=timezone.now(),
        manual=manual,
        parent=parent,
        triggered_by_id=triggered_by_id,
    )
    transaction.on_commit(functools.partial(deliveries_dispatch, [delivery.pk]))
    return delivery


def deliveries_for_event(event: Event) -> list[int]:
    """The platform event subscriber: one delivery per active subscription that wants `event`.

    Idempotent: the unique (subscription, event id) constraint makes a second delivery of the same event
    create nothing, and dispatching a delivery that was already claimed does nothing.
    """
    subscriptions = [
        subscription
        for subscription in WebhookSubscription.objects.filter(is_active=True).only("id", "event_types")
        if subscription.accepts(event.name)
    ]
    if not subscriptions:
        return []
    occurred_at = parse_datetime(event.occurred_at) or timezone.now()
    payload = json_safe(event.payload)
    now = timezone.now()
    attempts = max_attempts()
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    subscription=subscription,
                    event_id=event.id,
                    event_name=event.name,
                    record_type=event.record_type,
                    occurred_at=occurred_at,
                    payload=payload,
                    max_attempts=attempts,
                    next_attempt_at=now,
                )
                for subscription in subscriptions
            ],
            ignore_conflicts=True,
        )
        ids = list(
            WebhookDelivery.objects.filter(
                event_id=event.id,
                manual=False,
                subscription_id__in=[subscription.pk for subscription in subscriptions],
                status=DeliveryStatus.PENDING,
                attempts=0,
                claim_token="",
            ).values_list("pk", flat=True)
        )
        transaction.on_commit(functools.partial(deliveries_dispatch, ids))
    return ids


def handle_event(event: Event) -> None:
    deliveries_for_event(event)


# Claiming ----------------------------------------------------------------------------------------


def _claim(ids: Iterable[int] | None, now: dt.datetime) -> tuple[str, list[int]]:
    """Claim up to CLAIM_BATCH due deliveries (all due ones, or only `ids`); returns the token and the ids won."""
    due = WebhookDelivery.objects.filter(status__in=OPEN_STATUSES, next_attempt_at__lte=now)
    if ids is not None:
        due = due.filter(pk__in=list(ids))
    with transaction.atomic():
        candidates = list(due.order_by("next_attempt_at", "id").values_list("pk", flat=True)[:CLAIM_BATCH])
        if not candidates:
            return "", []
        token = uuid.uuid4().hex
        WebhookDelivery.objects.filter(pk__in=candidates, status__in=OPEN_STATUSES, next_attempt_at__lte=now).update(
            claim_token=token, next_attempt_at=now + CLAIM_LEASE
        )
        won = list(
            WebhookDelivery.objects.filter(pk__in=candidates, claim_token=token)
            .order_by("id")
            .values_list("pk", flat=True)
        )
    return token, won


def _enqueue(token: str, ids: list[int]) -> None:
    from guanxi.platform.webhooks.tasks import send_delivery

    for delivery_id in ids:
        send_delivery.enqueue(delivery_id, token)


def deliveries_dispatch(ids: list[int]) -> int:
    """Claim the given deliveries that are due and queue one attempt each (run after they were committed)."""
    if not ids:
        return 0
    token, won = _claim(ids, timezone.now())
    _enqueue(token, won)
    return len(won)


def deliveries_send_due(now: dt.datetime | None = None) -> int:
    """The retry job: claim every due delivery (new ones whose first dispatch was lost, retries) and queue an
    attempt for each; returns how many. Idempotent and safe with several workers (see the module docstring)."""
    now = now or timezone.now()
    total = 0
    while True:
        token, won = _claim(None, now)
        _enqueue(token, won)
        total += len(won)
        if len(won) < CLAIM_BATCH:
            return total


# Sending -----------------------------------------------------------------------------------------


def subscription_secret(subscription: WebhookSubscription) -> str:
    return pii_decrypt(subscription.secret_encrypted)


def delivery_request_body(delivery: WebhookDelivery) -> bytes:
    """The exact body every attempt of `delivery` sends."""
    return delivery_body(
        delivery_id=int(delivery.pk),
        event=delivery.event_name,
        event_id=delivery.event_id,
        occurred_at=delivery.occurred_at.isoformat(),
        record_type=delivery.record_type,
        data=delivery.payload,
    )


def delivery_request_headers(delivery: WebhookDelivery, *, secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: delivery.event_name,
        DELIVERY_HEADER: str(delivery.pk),
        SIGNATURE_HEADER: webhook_signature(secret, body, timestamp),
    }


def delivery_attempt(*, delivery_id: int, claim_token: str) -> WebhookDelivery | None:
    """Send the attempt this worker claimed and record its outcome; None when the claim is no longer ours."""
    delivery = (
        WebhookDelivery.objects.select_related("subscription").filter(pk=delivery_id, claim_token=claim_token).first()
    )
    if delivery is None or not claim_token:
        return None
    subscription = delivery.subscription
    if not subscription.is_active and not delivery.manual:
        return _close_unsent(delivery, claim_token)
    body = delivery_request_body(delivery)
    headers = delivery_request_headers(
        delivery, secret=subscription_secret(subscription), body=body, timestamp=int(time.time())
    )
    url = subscription.url
    outcome = send_attempt(url=url, body=body, headers=headers)  # no transaction is open while we wait
    return _record(delivery, claim_token, outcome, url=url, headers=headers)


def _close_unsent(delivery: WebhookDelivery, claim_token: str) -> WebhookDelivery | None:
    """A subscription switched off after the delivery was queued: it is closed unsent (redeliver it later)."""
    updated = WebhookDelivery.objects.filter(pk=delivery.pk, claim_token=claim_token).update(
        status=DeliveryStatus.FAILED,
        next_attempt_at=None,
        claim_token="",
        error_kind=AttemptError.SUBSCRIPTION_DISABLED,
        error="",
    )
    if not updated:
        return None
    delivery.refresh_from_db()
    return delivery


def _record(
    delivery: WebhookDelivery, claim_token: str, outcome: AttemptOutcome, *, url: str, headers: dict[str, str]
) -> WebhookDelivery | None:
    number = delivery.attempts + 1
    if outcome.succeeded:
        status, next_attempt_at = DeliveryStatus.SUCCEEDED, None
    elif number >= delivery.max_attempts:
        status, next_attempt_at = DeliveryStatus.FAILED, None
    else:
        status, next_attempt_at = DeliveryStatus.RETRYING, outcome.started_at + retry_delay(number)
    started_at = Value(outcome.started_at, output_field=DateTimeField())
    with transaction.atomic():
        updated = WebhookDelivery.objects.filter(pk=delivery.pk, claim_token=claim_token).update(
            status=status,
            attempts=number,
            next_attempt_at=next_attempt_at,
            claim_token="",
            last_response_code=outcome.response_code,
            response_body=outcome.response_body,
            error_kind=outcome.error_kind,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
            first_attempted_at=Coalesce(F("first_attempted_at"), started_at),
            last_attempted_at=outcome.started_at,
        )
        if not updated:
            # Our lease ran out and another worker claimed the row; its outcome will be the one recorded.
            logger.warning("webhook delivery %s: attempt finished after its claim expired", delivery.pk)
            return None
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            url=url,
            request_headers=headers,
            started_at=outcome.started_at,
            duration_ms=outcome.duration_ms,
            response_code=outcome.response_code,
            response_body=outcome.response_body,
            error_kind=outcome.error_kind,
            error=outcome.error,
        )
        if outcome.succeeded:
            WebhookSubscription.objects.filter(pk=delivery.subscription_id, consecutive_failures__gt=0).update(
                consecutive_failures=0
            )
        elif status == DeliveryStatus.FAILED and not delivery.manual:
            _count_failed_delivery(delivery.subscription_id)
    delivery.refresh_from_db()
    return delivery


def _count_failed_delivery(subscription_id: int) -> None:
    """One more failed delivery in a row; switch the subscription off at the threshold and tell its creator."""
    WebhookSubscription.objects.filter(pk=subscription_id).update(consecutive_failures=F("consecutive_failures") + 1)
    threshold = disable_after_failures()
    if threshold == 0:
        return
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
    if not subscription.is_active or subscription.consecutive_failures < threshold:
        return
    subscription.is_active = False
    subscription.disabled_reason = DisabledReason.FAILURES
    subscription.disabled_at = timezone.now()
    subscription.bump_version()
    attribute_history(subscription, None)
    subscription.save(update_fields=["is_active", "disabled_reason", "disabled_at", "version", "updated_at"])
    _notify_disabled(subscription)


def _notify_disabled(subscription: WebhookSubscription) -> None:
    user = subscription.created_by
    if user is None or not user.is_active:
        logger.warning("webhook subscription %s was switched off; its creator cannot be notified", subscription.pk)
        return
    with translation.override(getattr(user, "language", "") or settings.LANGUAGE_CODE):
        title = _("Webhook “%(name)s” was switched off") % {"name": subscription.name}
        body = _(
            "%(count)s deliveries in a row failed, so no more events are sent to %(url)s. "
            "Fix the receiver, then switch the subscription back on."
        ) % {"count": subscription.consecutive_failures, "url": subscription.url}
        url = reverse("webhooks:subscription_detail", args=[subscription.pk])
    notification_send(recipient_id=int(user.pk), kind=NOTIFY_DISABLED, title=title, body=body, url=url)

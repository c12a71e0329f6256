"""Delivering queued messages: one attempt per message (a background task), and the periodic job that picks up
due retries, messages deferred by quiet hours and attempts a dead worker left behind.

An attempt owns its message by a claim: a conditional UPDATE sets `claim_token` only where the row is queued,
due and unclaimed (or its claim expired), so two workers - or the job running twice - never send one message
twice. The provider is called outside any transaction; the outcome is written only while the claim still
holds. A retryable failure is tried again after base * 2^(attempt-1) seconds, up to `max_attempts`; then, or
after a permanent failure, the message is failed.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from guanxi.platform.channels import conf
from guanxi.platform.channels.backends import get_backend
from guanxi.platform.channels.backends.base import DeliveryError, OutgoingMessage, RetryableError, SendResult
from guanxi.platform.channels.composition import LINK_PARAM
from guanxi.platform.channels.models import (
    ConsentState,
    HeldReason,
    MessageChannel,
    MessagePurpose,
    MessageStatus,
    OutboundMessage,
)
from guanxi.platform.channels.policy import Decision, contact_policy, decide, due_q, unclaimed_q
from guanxi.platform.channels.registry import recipient_source
from guanxi.platform.channels.unsubscribe import normalise_address, one_click_unsubscribe_url

logger = logging.getLogger(__name__)

RETRY_BATCH = 200
MAX_PER_RUN = 2000
# A message queued without a delivery task (the enqueue was lost) is picked up by the job after this long.
LOST_ENQUEUE_GRACE = dt.timedelta(minutes=2)


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: base, 2 x base, 4 x base, ... capped."""
    seconds = conf.retry_base_seconds() * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, conf.retry_max_seconds()))


def _claim(message_id: int, now: dt.datetime) -> str:
    token = uuid.uuid4().hex
    claimed = OutboundMessage.objects.filter(due_q(now) & unclaimed_q(now), pk=message_id).update(
        claim_token=token, claimed_until=now + dt.timedelta(seconds=conf.claim_seconds())
    )
    return token if claimed == 1 else ""


def _finish(message_id: int, token: str, **changes: Any) -> bool:
    """Write an attempt's outcome and release the claim, if this attempt still owns the message."""
    changes.update(claim_token="", claimed_until=None, updated_at=timezone.now())
    return OutboundMessage.objects.filter(pk=message_id, claim_token=token).update(**changes) == 1


def _recheck(message: OutboundMessage, now: dt.datetime) -> Decision:
    """The policy again at delivery time: the address may have unsubscribed or lost consent while the message
    waited, and a retry may fall into quiet hours. Frequency caps were counted when it was queued."""
    consent: str = ConsentState.GRANTED
    if message.purpose == MessagePurpose.MARKETING:
        consent = ConsentState.UNKNOWN
        source = recipient_source(message.record_type)
        if source is not None and source.is_visible(None, message.record_id):
            for recipient in source.resolve(message.record_id, message.channel):
                if normalise_address(message.channel, recipient.address) == message.to_address:
                    consent = recipient.consent
                    break
    return decide(
        policy=contact_policy(),
        purpose=message.purpose,
        channel=message.channel,
        address=message.to_address,
        consent=consent,
        record_type=message.record_type,
        record_id=message.record_id,
        now=now,
        count_cap=False,
    )


def outgoing_for(message: OutboundMessage) -> OutgoingMessage:
    headers: dict[str, str] = {}
    if message.channel == MessageChannel.EMAIL and message.purpose == MessagePurpose.MARKETING:
        headers = {
            "List-Unsubscribe": f"<{one_click_unsubscribe_url(message.channel, message.to_address)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    data = {str(k): str(v) for k, v in (message.provider_data or {}).items()}
    link = data.pop(LINK_PARAM, "") if message.channel == MessageChannel.WECHAT else ""
    return OutgoingMessage(
        message_id=message.pk,
        channel=message.channel,
        to=message.to_address,
        subject=message.subject,
        body=message.body,
        language=message.language,
        provider_template_id=message.provider_template_id,
        provider_data=data,
        headers=headers,
        link=link,
    )


def message_deliver(message_id: int, *, claim: str = "", now: dt.datetime | None = None) -> str:
    """One delivery attempt. Returns "sent", "retry", "failed", "held", "deferred" or "skipped" (not due, or
    another attempt owns it). `claim` is the token the retry job claimed the message with."""
    now = now or timezone.now()
    if claim:
        token = (
            claim
            if OutboundMessage.objects.filter(pk=message_id, claim_token=claim, status=MessageStatus.QUEUED).exists()
            else ""
        )
    else:
        token = _claim(message_id, now)
    if not token:
        return "skipped"
    message = OutboundMessage.objects.get(pk=message_id)
    decision = _recheck(message, now)
    if decision.held:
        _finish(
            message_id,
            token,
            status=MessageStatus.HELD,
            held_reason=decision.reason,
            held_params=decision.params,
            next_attempt_at=None,
        )
        return "held"
    if decision.defer_until is not None:
        _finish(
            message_id,
            token,
            held_reason=HeldReason.QUIET_HOURS,
            held_params=decision.params,
            next_attempt_at=decision.defer_until,
        )
        return "deferred"
    attempts = message.attempts + 1
    try:
        result: SendResult = get_backend(message.channel).send(outgoing_for(message))
    except DeliveryError as error:
        return _record_failure(message, token, attempts, error)
    except Exception as error:  # a bug or an unexpected answer: log it, and let the retries decide
        logger.exception("delivery of message %s failed unexpectedly", message_id)
        return _record_failure(message, token, attempts, RetryableError("error", f"{type(error).__name__}: {error}"))
    _finish(
        message_id,
        token,
        status=MessageStatus.SENT,
        attempts=attempts,
        sent_at=timezone.now(),
        provider=result.provider[:30],
        provider_message_id=result.provider_message_id[:200],
        next_attempt_at=None,
        last_error_code="",
        last_error="",
    )
    return "sent"


def _record_failure(message: OutboundMessage, token: str, attempts: int, error: DeliveryError) -> str:
    common: dict[str, Any] = {
        "attempts": attempts,
        "last_error_code": error.code[:100],
        "last_error": error.message[:2000],
    }
    if error.retryable and attempts < conf.max_attempts():
        _finish(message.pk, token, next_attempt_at=timezone.now() + backoff(attempts), **common)
        return "retry"
    _finish(message.pk, token, status=MessageStatus.FAILED, failed_at=timezone.now(), next_attempt_at=None, **common)
    return "failed"


def messages_retry_due(now: dt.datetime | None = None) -> int:
    """Claim due queued messages in batches and hand each to a delivery task; returns how many were handed on.

    Idempotent and safe with several workers: each batch is claimed with one conditional UPDATE, and only the
    rows carrying this run's claim token are handed on (a delivery task checks the token is still its own).
    """
    now = now or timezone.now()
    from guanxi.platform.channels.tasks import deliver_message

    handed = 0
    stale_before = now - LOST_ENQUEUE_GRACE
    while handed < MAX_PER_RUN:
        with transaction.atomic():
            due = (
                OutboundMessage.objects.filter(due_q(now) & unclaimed_q(now))
                .exclude(next_attempt_at__isnull=True, created_at__gt=stale_before)
                .order_by("next_attempt_at", "id")
                .values_list("id", flat=True)[:RETRY_BATCH]
            )
            ids = list(due)
            if not ids:
                return handed
            token = uuid.uuid4().hex
            OutboundMessage.objects.filter(due_q(now) & unclaimed_q(now), pk__in=ids).update(
                claim_token=token, claimed_until=now + dt.timedelta(seconds=conf.claim_seconds())
            )
            claimed = list(OutboundMessage.objects.filter(pk__in=ids, claim_token=token).values_list("id", flat=True))
        for message_id in claimed:
            deliver_message.enqueue(message_id, token)
        handed += len(claimed)
        if len(ids) < RETRY_BATCH:
            return handed
    return handed

"""The contact policy, decided in one place for every message: consent, suppression, caps, quiet hours.

Marketing messages need consent "granted" on the contact point for that channel, must not go to an address
that unsubscribed or is blocked, count against the frequency cap of their record and channel (messages
queued, sent or delivered in the period), and are deferred - not dropped - to the end of quiet hours.

Transactional messages (an order shipped, an appointment confirmed) are exempt from consent, caps, quiet hours
and unsubscribes: unsubscribing is from marketing. They are still never sent to an address that bounced or that
an administrator blocked, since nothing can or may reach it.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

from guanxi.platform.channels.models import (
    ConsentState,
    ContactPolicy,
    HeldReason,
    MessagePurpose,
    MessageStatus,
    OutboundMessage,
    Suppression,
    SuppressionReason,
)

COUNTED_STATUSES = (MessageStatus.QUEUED, MessageStatus.SENT, MessageStatus.DELIVERED)


@dataclass(frozen=True)
class Decision:
    """`held` with a reason; or go, possibly `defer_until` a time (quiet hours), with that reason."""

    held: bool = False
    reason: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    defer_until: dt.datetime | None = None


GO = Decision()


def contact_policy(*, for_update: bool = False) -> ContactPolicy:
    """The policy row, created with the defaults the first time it is needed."""
    qs = ContactPolicy.objects.select_for_update() if for_update else ContactPolicy.objects
    policy = qs.filter(pk=1).first()
    if policy is None:
        policy, _created = ContactPolicy.objects.get_or_create(pk=1)
        if for_update:
            policy = ContactPolicy.objects.select_for_update().get(pk=1)
    return policy


def time_zone_of(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def quiet_hours_end(policy: ContactPolicy, channel: str, now: dt.datetime) -> dt.datetime | None:
    """When quiet hours started before `now` end (aware), or None when `now` is not in quiet hours."""
    if not policy.quiet_hours_enabled or channel not in (policy.quiet_channels or []):
        return None
    start, end = policy.quiet_start, policy.quiet_end
    if start == end:
        return None
    zone = time_zone_of(policy.quiet_time_zone)
    local = now.astimezone(zone)
    moment = local.time().replace(tzinfo=None)
    if start < end:  # within one day, e.g. 12:00-14:00
        if not start <= moment < end:
            return None
        day = local.date()
    else:  # over midnight, e.g. 21:00-08:00
        if moment >= start:
            day = local.date() + dt.timedelta(days=1)
        elif moment < end:
            day = local.date()
        else:
            return None
    return dt.datetime.combine(day, end, tzinfo=zone)


def suppression_for(channel: str, address: str) -> Suppression | None:
    return Suppression.objects.filter(channel=channel, address=address).first()


def marketing_count(*, record_type: str, record_id: int, channel: str, since: dt.datetime) -> int:
    return OutboundMessage.objects.filter(
        record_type=record_type,
        record_id=record_id,
        channel=channel,
        purpose=MessagePurpose.MARKETING,
        status__in=COUNTED_STATUSES,
        created_at__gte=since,
    ).count()


def decide(
    *,
    policy: ContactPolicy,
    purpose: str,
    channel: str,
    address: str,
    consent: str,
    record_type: str,
    record_id: int,
    now: dt.datetime,
    count_cap: bool = True,
) -> Decision:
    """What the policy says about one message; the first rule that holds it back gives the reason."""
    suppression = suppression_for(channel, address)
    if suppression is not None and suppression.reason != SuppressionReason.UNSUBSCRIBED:
        return Decision(held=True, reason=HeldReason.BLOCKED, params={"reason": suppression.reason})
    if purpose != MessagePurpose.MARKETING:
        return GO
    if suppression is not None:
        return Decision(held=True, reason=HeldReason.UNSUBSCRIBED, params={"source": suppression.source})
    if consent != ConsentState.GRANTED:
        return Decision(held=True, reason=HeldReason.NO_CONSENT, params={"channel": channel, "consent": consent})
    limit, days = policy.cap_for(channel)
    if count_cap and limit is not None:
        count = marketing_count(
            record_type=record_type, record_id=record_id, channel=channel, since=now - dt.timedelta(days=days)
        )
        if count >= limit:
            return Decision(
                held=True,
                reason=HeldReason.FREQUENCY_CAP,
                params={"count": count, "limit": limit, "days": days, "channel": channel},
            )
    until = quiet_hours_end(policy, channel, now)
    if until is not None:
        return Decision(reason=HeldReason.QUIET_HOURS, params={"until": until.isoformat()}, defer_until=until)
    return GO


def due_q(now: dt.datetime) -> Q:
    """Queued messages whose attempt is due now."""
    return Q(status=MessageStatus.QUEUED) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def unclaimed_q(now: dt.datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)

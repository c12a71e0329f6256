"""Writes of the contact policy (caps, quiet hours) and of the suppression list, by administrators."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.platform.audit.history import attribute_history
from guanxi.platform.channels.models import ContactPolicy, MessageChannel, Suppression, SuppressionReason
from guanxi.platform.channels.permissions import MESSAGES_MANAGE_POLICY
from guanxi.platform.channels.policy import contact_policy
from guanxi.platform.channels.unsubscribe import normalise_address
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.platform.core.text import clean_text
from guanxi.platform.core.versioning import ensure_version
from guanxi.platform.identity.scoping import require_permission

CAP_MAX = 1000
DAYS_MAX = 365
POLICY_FIELDS = frozenset(
    {
        "caps_enabled", "email_cap_count", "email_cap_days", "sms_cap_count", "sms_cap_days", "wechat_cap_count",
        "wechat_cap_days", "quiet_hours_enabled", "quiet_start", "quiet_end", "quiet_time_zone", "quiet_channels",
    }
)  # fmt: skip


def _clean_time(value: Any, field: str, errors: dict[str, list[str]]) -> dt.time | None:
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    try:
        return dt.time.fromisoformat(clean_text(str(value or ""))).replace(second=0, microsecond=0, tzinfo=None)
    except ValueError:
        errors[field] = [_("Enter a time such as 21:00.")]
        return None


def _clean_int(value: Any, field: str, low: int, high: int, errors: dict[str, list[str]], *, blank: bool) -> int | None:
    if value in (None, "") and blank:
        return None
    try:
        number = int(value)
        if isinstance(value, float) and number != value:
            raise ValueError
    except (TypeError, ValueError):
        errors[field] = [_("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}]
        return None
    if not low <= number <= high:
        errors[field] = [_("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}]
        return None
    return number


@transaction.atomic
def contact_policy_update(*, actor: Actor, data: Mapping[str, Any], version: int | None) -> ContactPolicy:
    """Change the contact policy; fields left out keep their value. A blank cap means no cap on that channel."""
    require_permission(actor, MESSAGES_MANAGE_POLICY)
    unknown = sorted(set(data) - POLICY_FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown field.")] for name in unknown})
    policy = contact_policy(for_update=True)
    ensure_version(policy, version)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name in ("caps_enabled", "quiet_hours_enabled"):
        if name in data:
            values[name] = bool(data[name])
    for channel in MessageChannel.values:
        if f"{channel}_cap_count" in data:
            values[f"{channel}_cap_count"] = _clean_int(
                data[f"{channel}_cap_count"], f"{channel}_cap_count", 0, CAP_MAX, errors, blank=True
            )
        if f"{channel}_cap_days" in data:
            values[f"{channel}_cap_days"] = _clean_int(
                data[f"{channel}_cap_days"], f"{channel}_cap_days", 1, DAYS_MAX, errors, blank=False
            )
    for name in ("quiet_start", "quiet_end"):
        if name in data:
            values[name] = _clean_time(data[name], name, errors)
    if "quiet_time_zone" in data:
        zone = clean_text(str(data["quiet_time_zone"] or ""))
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors["quiet_time_zone"] = [_("Enter a time zone such as Asia/Shanghai.")]
        values["quiet_time_zone"] = zone
    if "quiet_channels" in data:
        raw = data["quiet_channels"] or []
        if not isinstance(raw, list | tuple) or any(item not in MessageChannel.values for item in raw):
            errors["quiet_channels"] = [_("Choose channels from the list.")]
        else:
            values["quiet_channels"] = [c for c in MessageChannel.values if c in raw]
    start = values.get("quiet_start", policy.quiet_start)
    end = values.get("quiet_end", policy.quiet_end)
    if not errors and values.get("quiet_hours_enabled", policy.quiet_hours_enabled) and start == end:
        errors["quiet_end"] = [_("Quiet hours need an end different from their start.")]
    if errors:
        raise ValidationFailed(fields=errors)
    for name, value in values.items():
        setattr(policy, name, value)
    policy.bump_version()
    attribute_history(policy, actor)
    policy.save()
    return policy


@transaction.atomic
def suppression_add(
    *, actor: Actor, channel: str, address: str, reason: str = SuppressionReason.BLOCKED, source: str = ""
) -> Suppression:
    """Put an address on the suppression list by hand: unsubscribed (no marketing) or blocked (nothing)."""
    require_permission(actor, MESSAGES_MANAGE_POLICY)
    errors: dict[str, list[str]] = {}
    if channel not in MessageChannel.values:
        errors["channel"] = [_("Choose a channel from the list.")]
    if reason not in (SuppressionReason.UNSUBSCRIBED, SuppressionReason.BLOCKED):
        errors["reason"] = [_("Choose a reason from the list.")]
    normalised = normalise_address(channel, address) if not errors else ""
    if not errors and not normalised:
        errors["address"] = [_("Enter an address.")]
    elif len(normalised) > 300:
        errors["address"] = [_("Keep it to %(n)s characters or fewer.") % {"n": 300}]
    if errors:
        raise ValidationFailed(fields=errors)
    if Suppression.objects.filter(channel=channel, address=normalised).exists():
        raise Conflict(_("This address is already on the list."))
    return Suppression.objects.create(
        channel=channel,
        address=normalised,
        reason=reason,
        source=clean_text(source)[:100] or "admin",
        created_by=actor.user,
    )


@transaction.atomic
def suppression_remove(*, actor: Actor, suppression_id: int) -> None:
    """Take an address off the list (it re-subscribed in writing, or was blocked by mistake). Consent is not
    given back: the contact point's consent must be granted again before marketing reaches it."""
    require_permission(actor, MESSAGES_MANAGE_POLICY)
    deleted, _rows = Suppression.objects.filter(pk=suppression_id).delete()
    if not deleted:
        raise NotFound()

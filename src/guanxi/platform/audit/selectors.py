"""Reads for the access log: who saw unmasked personal data or exported records, filtered for review."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from guanxi.platform.audit.models import AccessLogEntry
from guanxi.platform.core.actors import Actor
from guanxi.platform.identity.permissions import AUDIT_VIEW
from guanxi.platform.identity.scoping import require_permission


def access_log_list(
    *,
    actor: Actor,
    user_id: int | None = None,
    action: str = "",
    object_type: str = "",
    day_from: dt.date | None = None,
    day_to: dt.date | None = None,
) -> QuerySet[AccessLogEntry]:
    """Access log entries, newest first, with their user in the same query. Needs `audit.view`."""
    require_permission(actor, AUDIT_VIEW)
    qs = AccessLogEntry.objects.select_related("user")
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if day_from is not None:
        qs = qs.filter(occurred_at__gte=_start_of(day_from))
    if day_to is not None:
        qs = qs.filter(occurred_at__lt=_start_of(day_to + dt.timedelta(days=1)))
    return qs.order_by("-occurred_at", "-id")


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def access_log_object_types(*, actor: Actor) -> list[str]:
    """The record types that appear in the log, for the filter."""
    require_permission(actor, AUDIT_VIEW)
    return sorted(set(AccessLogEntry.objects.values_list("object_type", flat=True).distinct()))

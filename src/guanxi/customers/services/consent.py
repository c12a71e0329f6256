"""Consent of contact points changed from outside a customer's page: unsubscribe links and reply keywords.

Called through the channels recipient source of customers (`customers/channels.py`), which the unsubscribe
page and inbound SMS keywords reach via `guanxi.platform.channels.services.contact_unsubscribe`.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from guanxi.customers.models import ContactPoint
from guanxi.customers.models.choices import Consent
from guanxi.platform.audit.history import attribute_history

CONSENT_SOURCE_MAX = 100


@transaction.atomic
def contact_points_withdraw_consent(*, kind: str, value: str, source: str) -> int:
    """Withdraw consent on every contact point of `kind` holding `value` (on any customer); returns how many
    changed. Each change is in the contact point's history with its source ("unsubscribe link", "SMS TD")."""
    points = list(
        ContactPoint.objects.select_for_update()
        .filter(kind=kind, value=value)
        .exclude(consent=Consent.WITHDRAWN)
        .order_by("id")
    )
    now = timezone.now()
    for point in points:
        point.consent = Consent.WITHDRAWN
        point.consent_updated_at = now
        point.consent_source = source[:CONSENT_SOURCE_MAX]
        point.bump_version()
        attribute_history(point, None, reason=source[:CONSENT_SOURCE_MAX])
        point.save(update_fields=["consent", "consent_updated_at", "consent_source", "version", "updated_at"])
    return len(points)

"""Reads of the webhooks app, for those who manage webhooks: subscriptions, the delivery log, the events
one can subscribe to."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from guanxi.platform.audit.history import HistoryEntry, record_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound, ValidationFailed
from guanxi.platform.events.registry import EventType, event_types
from guanxi.platform.identity.scoping import require_permission
from guanxi.platform.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from guanxi.platform.webhooks.permissions import WEBHOOKS_MANAGE

RECENT_DELIVERIES = 10


@dataclass(frozen=True)
class EventGroup:
    """The events about one record type, for the subscription form's checkboxes."""

    record_type: str
    events: list[EventType]


def event_groups() -> list[EventGroup]:
    """Every registered event, grouped by record type (groups and events in name order)."""
    groups: dict[str, list[EventType]] = {}
    for item in event_types():
        groups.setdefault(item.record_type, []).append(item)
    return [EventGroup(record_type=key, events=groups[key]) for key in sorted(groups)]


def subscribable_event_types(*, actor: Actor) -> list[EventType]:
    """The events a subscription may name (besides "*"), for those who manage webhooks."""
    require_permission(actor, WEBHOOKS_MANAGE)
    return event_types()


def event_label(name: str) -> str | Promise:
    for item in event_types():
        if item.name == name:
            return item.label
    return name


def subscription_list(*, actor: Actor) -> QuerySet[WebhookSubscription]:
    require_permission(actor, WEBHOOKS_MANAGE)
    return WebhookSubscription.objects.select_related("created_by").order_by("name", "id")


def subscription_get(*, actor: Actor, subscription_id: int) -> WebhookSubscription:
    require_permission(actor, WEBHOOKS_MANAGE)
    subscription = WebhookSubscription.objects.select_related("created_by").filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound()
    return subscription


def subscription_history(*, actor: Actor, subscription: WebhookSubscription) -> list[HistoryEntry]:
    require_permission(actor, WEBHOOKS_MANAGE)
    return record_history(subscription)


def delivery_list(
    *, actor: Actor, subscription_id: int | None = None, status: str = "", event: str = ""
) -> QuerySet[WebhookDelivery]:
    """The delivery log, newest first; filters by subscription, status and event name."""
    require_permission(actor, WEBHOOKS_MANAGE)
    qs = WebhookDelivery.objects.select_related("subscription")
    if subscription_id is not None:
        qs = qs.filter(subscription_id=subscription_id)
    if status:
        if status not in DeliveryStatus.values:
            raise ValidationFailed.for_field("status", _("Choose a status from the list."))
        qs = qs.filter(status=status)
    if event:
        # No stored event name holds a NUL (PostgreSQL refuses it in a query) or is that long.
        qs = qs.none() if "\x00" in event or len(event) > 100 else qs.filter(event_name=event)
    return qs.order_by("-id")


def recent_deliveries(*, actor: Actor, subscription: WebhookSubscription) -> list[WebhookDelivery]:
    return list(delivery_list(actor=actor, subscription_id=subscription.pk)[:RECENT_DELIVERIES])


def delivery_get(*, actor: Actor, delivery_id: int) -> WebhookDelivery:
    """One delivery with its subscription, every attempt, the delivery it repeats and its redeliveries."""
    require_permission(actor, WEBHOOKS_MANAGE)
    delivery = (
        WebhookDelivery.objects.select_related("subscription", "parent", "triggered_by")
        .prefetch_related(
            Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number")),
            Prefetch("redeliveries", queryset=WebhookDelivery.objects.order_by("id")),
        )
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        raise NotFound()
    return delivery

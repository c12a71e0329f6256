"""Writes of the webhooks app: subscriptions (create, change, rotate the secret, delete), test pings,
redeliveries, and `webhook_call`, the contract the workflow action "call a webhook" uses.

How deliveries are claimed, sent and retried is in `delivery.py`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.platform.audit.history import attribute_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.cn_ids import pii_encrypt
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.text import clean_multiline, clean_text
from guanxi.platform.core.versioning import ensure_version
from guanxi.platform.events.registry import event_type
from guanxi.platform.identity.scoping import require_permission
from guanxi.platform.webhooks.addresses import validate_webhook_url
from guanxi.platform.webhooks.delivery import delivery_create, json_safe
from guanxi.platform.webhooks.models import (
    ALL_EVENTS,
    PING_EVENT,
    DisabledReason,
    WebhookDelivery,
    WebhookSubscription,
)
from guanxi.platform.webhooks.permissions import WEBHOOKS_MANAGE
from guanxi.platform.webhooks.signing import new_secret

NAME_MAX = 100
DESCRIPTION_MAX = 1000
EVENT_NAME_MAX = 100
EVENT_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
PAYLOAD_MAX_BYTES = 256 * 1024
SUBSCRIPTION_RECORD_TYPE = "webhooks.subscription"


def clean_event_types(raw: Any) -> list[str]:
    """The subscribed event names: registered ones, sorted, or ["*"] for every event."""
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list | tuple) or not all(isinstance(item, str) for item in raw):
        raise ValidationFailed.for_field("event_types", _("Send a list of event names."))
    names = sorted({clean_text(item) for item in raw if clean_text(item)})
    if not names:
        raise ValidationFailed.for_field("event_types", _("Choose at least one event, or all events."))
    if ALL_EVENTS in names:
        return [ALL_EVENTS]
    unknown = [name for name in names if event_type(name) is None]
    if unknown:
        raise ValidationFailed.for_field(
            "event_types",
            _("Unknown event type: %(names)s. Choose from the registered events.")
            % {"names": ", ".join(f"“{name}”" for name in unknown)},
        )
    return names


def _clean_subscription(*, name: str, url: str, event_types: Any, description: str) -> tuple[str, str, list[str], str]:
    """Every field checked; all errors reported at once."""
    errors: dict[str, list[str]] = {}
    name = clean_text(name)
    if not name:
        errors["name"] = [_("Enter a name.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("Keep it to %(n)s characters or fewer.") % {"n": NAME_MAX}]
    description = clean_multiline(description)
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [_("Keep it to %(n)s characters or fewer.") % {"n": DESCRIPTION_MAX}]
    try:
        url = validate_webhook_url(clean_text(url))
    except ValidationFailed as exc:
        errors.update(exc.fields)
    cleaned_events: list[str] = []
    try:
        cleaned_events = clean_event_types(event_types)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    return name, url, cleaned_events, description


def _set_secret(subscription: WebhookSubscription, secret: str) -> None:
    subscription.secret_encrypted = pii_encrypt(secret)
    subscription.secret_hint = secret[-4:]


@transaction.atomic
def subscription_create(
    *,
    actor: Actor,
    name: str,
    url: str,
    event_types: Iterable[str] | Any,
    description: str = "",
    is_active: bool = True,
) -> tuple[WebhookSubscription, str]:
    """Create a subscription with a fresh secret; returns it and the secret, which is shown this once."""
    require_permission(actor, WEBHOOKS_MANAGE)
    name, url, events, description = _clean_subscription(
        name=name, url=url, event_types=event_types, description=description
    )
    secret = new_secret()
    subscription = WebhookSubscription(
        name=name,
        url=url,
        event_types=events,
        description=description,
        is_active=bool(is_active),
        created_by=actor.user,
    )
    if not subscription.is_active:
        subscription.disabled_reason = DisabledReason.MANUAL
        subscription.disabled_at = timezone.now()
    _set_secret(subscription, secret)
    attribute_history(subscription, actor)
    subscription.save()
    return subscription, secret


@transaction.atomic
def subscription_update(
    *,
    actor: Actor,
    subscription: WebhookSubscription,
    name: str,
    url: str,
    event_types: Iterable[str] | Any,
    description: str,
    is_active: bool,
    version: int | None = None,
) -> WebhookSubscription:
    """Change a subscription. Switching it back on clears the failure count and the reason it was off."""
    require_permission(actor, WEBHOOKS_MANAGE)
    name, url, events, description = _clean_subscription(
        name=name, url=url, event_types=event_types, description=description
    )
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    ensure_version(subscription, version)
    subscription.bump_version()
    subscription.name, subscription.url, subscription.event_types = name, url, events
    subscription.description = description
    is_active = bool(is_active)
    if is_active and not subscription.is_active:
        subscription.consecutive_failures = 0
        subscription.disabled_reason = ""
        subscription.disabled_at = None
    elif not is_active and subscription.is_active:
        subscription.disabled_reason = DisabledReason.MANUAL
        subscription.disabled_at = timezone.now()
    subscription.is_active = is_active
    attribute_history(subscription, actor)
    subscription.save()
    return subscription


@transaction.atomic
def subscription_rotate_secret(
    *, actor: Actor, subscription: WebhookSubscription, version: int | None = None
) -> tuple[WebhookSubscription, str]:
    """Replace the signing secret; every attempt from now on (retries too) is signed with the new one."""
    require_permission(actor, WEBHOOKS_MANAGE)
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    ensure_version(subscription, version)
    secret = new_secret()
    _set_secret(subscription, secret)
    subscription.secret_rotated_at = timezone.now()
    subscription.bump_version()
    attribute_history(subscription, actor)
    subscription.save()
    return subscription, secret


@transaction.atomic
def subscription_delete(*, actor: Actor, subscription: WebhookSubscription) -> None:
    """Delete a subscription and its delivery log."""
    require_permission(actor, WEBHOOKS_MANAGE)
    attribute_history(subscription, actor)
    subscription.delete()


@transaction.atomic
def subscription_ping(*, actor: Actor, subscription: WebhookSubscription) -> WebhookDelivery:
    """Send a signed "webhook.ping" to the subscription now (one attempt, also when it is switched off)."""
    require_permission(actor, WEBHOOKS_MANAGE)
    return delivery_create(
        subscription=subscription,
        event_id=str(uuid.uuid4()),
        event_name=PING_EVENT,
        record_type=SUBSCRIPTION_RECORD_TYPE,
        occurred_at=timezone.now(),
        payload={"subscription_id": subscription.pk, "subscription_name": subscription.name},
        manual=True,
        triggered_by_id=actor.id,
    )


@transaction.atomic
def delivery_redeliver(*, actor: Actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the same event again as a new delivery linked to `delivery` (one attempt, a new delivery id)."""
    require_permission(actor, WEBHOOKS_MANAGE)
    return delivery_create(
        subscription=delivery.subscription,
        event_id=delivery.event_id,
        event_name=delivery.event_name,
        record_type=delivery.record_type,
        occurred_at=delivery.occurred_at,
        payload=delivery.payload,
        manual=True,
        parent=delivery,
        triggered_by_id=actor.id,
    )


@transaction.atomic
def webhook_call(*, subscription_id: int, event_name: str, payload: dict[str, Any]) -> WebhookDelivery:
    """One signed delivery of `payload` to the subscription's URL, whatever events it subscribes to; sent after
    commit, retried like any delivery. For the workflow action "call a webhook" (no actor: the system)."""
    errors: dict[str, list[str]] = {}
    subscription = WebhookSubscription.objects.filter(pk=subscription_id).first() if subscription_id else None
    if subscription is None:
        errors["subscription_id"] = [_("Choose an existing webhook subscription.")]
    elif not subscription.is_active:
        errors["subscription_id"] = [
            _("The webhook subscription “%(name)s” is switched off.") % {"name": subscription.name}
        ]
    event_name = clean_text(event_name)
    if not event_name or len(event_name) > EVENT_NAME_MAX or not EVENT_NAME_PATTERN.match(event_name):
        errors["event_name"] = [
            _("Name the event with up to %(n)s letters, digits and . _ : -, such as “customer.win_back”.")
            % {"n": EVENT_NAME_MAX}
        ]
    data: Any = None
    if not isinstance(payload, dict):
        errors["payload"] = [_("Send the payload as an object.")]
    else:
        try:
            data = json_safe(payload)
        except (TypeError, ValueError):
            errors["payload"] = [_("The payload can hold only text, numbers, yes/no, dates, lists and objects.")]
        else:
            if len(json.dumps(data, ensure_ascii=False).encode("utf-8")) > PAYLOAD_MAX_BYTES:
                errors["payload"] = [_("The payload is too large (at most 256 KB).")]
    if errors:
        raise ValidationFailed(fields=errors)
    assert subscription is not None
    registered = event_type(event_name)
    return delivery_create(
        subscription=subscription,
        event_id=str(uuid.uuid4()),
        event_name=event_name,
        record_type=registered.record_type if registered is not None else "",
        occurred_at=timezone.now(),
        payload=data,
    )

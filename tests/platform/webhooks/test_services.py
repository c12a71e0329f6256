"""Subscription writes (validation, secret, versions, permissions), test pings, redelivery and webhook_call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from guanxi.platform.core.cn_ids import pii_decrypt
from guanxi.platform.core.errors import PermissionDenied, StaleVersion, ValidationFailed
from guanxi.platform.events.registry import Event
from guanxi.platform.webhooks import services
from guanxi.platform.webhooks.models import (
    DeliveryStatus,
    DisabledReason,
    WebhookDelivery,
    WebhookSubscription,
)
from guanxi.platform.webhooks.signing import webhook_signature_verify
from tests.platform.webhooks.conftest import Receiver, subscribe

Publish = Callable[..., Event]
URL = "https://erp.example.com/hooks"


def test_a_subscription_is_created_with_a_secret_shown_once(org: Any) -> None:
    subscription, secret = services.subscription_create(
        actor=org.actor("admin"),
        name="  ERP 系统 ",
        url=f"  {URL} ",
        event_types=["lead.created", "customer.created", "customer.created"],
        description="同步客户\r\n到 ERP",
    )
    subscription.refresh_from_db()
    assert (subscription.name, subscription.url, subscription.description) == ("ERP 系统", URL, "同步客户\n到 ERP")
    assert subscription.event_types == ["customer.created", "lead.created"]
    assert (subscription.is_active, subscription.created_by, subscription.version) == (True, org.admin, 1)
    assert secret.startswith("whsec_") and secret not in subscription.secret_encrypted
    assert pii_decrypt(subscription.secret_encrypted) == secret
    assert subscription.masked_secret == f"whsec_••••••••{secret[-4:]}"
    history = subscription.history.get()
    assert not hasattr(history, "secret_encrypted")  # the secret never reaches the history table


def test_all_events_is_a_star(org: Any) -> None:
    subscription, _ = subscribe(org.actor("admin"), URL, ["customer.created", "*"])
    assert subscription.event_types == ["*"]
    assert subscription.accepts("anything.at_all")


def test_bad_input_is_refused_with_every_message_and_nothing_saved(org: Any) -> None:
    with pytest.raises(ValidationFailed) as failed:
        services.subscription_create(
            actor=org.actor("admin"),
            name="",
            url="ftp://erp.example.com",
            event_types=["customer.created", "rocket.launched", "customer.exploded"],
            description="x" * 1001,
        )
    assert failed.value.fields == {
        "name": ["Enter a name."],
        "url": ["Use an address starting with https:// (or http://)."],
        "event_types": [
            "Unknown event type: “customer.exploded”, “rocket.launched”. Choose from the registered events."
        ],
        "description": ["Keep it to 1000 characters or fewer."],
    }
    with pytest.raises(ValidationFailed) as empty:
        subscribe(org.actor("admin"), URL, [])
    assert empty.value.fields == {"event_types": ["Choose at least one event, or all events."]}
    with pytest.raises(ValidationFailed) as not_a_list:
        subscribe(org.actor("admin"), URL, [1, 2])  # type: ignore[list-item]
    assert not_a_list.value.fields == {"event_types": ["Send a list of event names."]}
    assert WebhookSubscription.objects.count() == 0


def test_a_rep_cannot_manage_webhooks(org: Any) -> None:
    with pytest.raises(PermissionDenied):
        subscribe(org.actor("rep_north"), URL)
    subscription, _ = subscribe(org.actor("admin"), URL)
    for call in (
        lambda actor: services.subscription_rotate_secret(actor=actor, subscription=subscription),
        lambda actor: services.subscription_ping(actor=actor, subscription=subscription),
        lambda actor: services.subscription_delete(actor=actor, subscription=subscription),
        lambda actor: services.subscription_update(
            actor=actor, subscription=subscription, name="x", url=URL, event_types=["*"], description="", is_active=True
        ),
    ):
        with pytest.raises(PermissionDenied):
            call(org.actor("manager_north"))
    assert WebhookSubscription.objects.get().name == "ERP"


def test_an_update_checks_the_version_and_switching_back_on_clears_the_failures(org: Any) -> None:
    admin = org.actor("admin")
    subscription, _ = subscribe(admin, URL)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        is_active=False, disabled_reason=DisabledReason.FAILURES, consecutive_failures=5
    )
    subscription.refresh_from_db()
    fields = {"name": "ERP", "url": URL, "event_types": ["*"], "description": ""}
    with pytest.raises(StaleVersion):
        services.subscription_update(actor=admin, subscription=subscription, is_active=True, version=7, **fields)
    updated = services.subscription_update(actor=admin, subscription=subscription, is_active=True, version=1, **fields)
    assert (updated.is_active, updated.consecutive_failures, updated.disabled_reason, updated.disabled_at) == (
        True,
        0,
        "",
        None,
    )
    assert (updated.event_types, updated.version) == (["*"], 2)
    off = services.subscription_update(actor=admin, subscription=updated, is_active=False, version=2, **fields)
    assert (off.is_active, off.disabled_reason) == (False, DisabledReason.MANUAL) and off.disabled_at is not None


def test_rotating_the_secret_replaces_it(org: Any, receiver: Receiver, publish_customer_created: Publish) -> None:
    admin = org.actor("admin")
    subscription, old_secret = subscribe(admin, receiver.url)
    rotated, new_secret = services.subscription_rotate_secret(actor=admin, subscription=subscription, version=1)
    assert new_secret != old_secret and rotated.version == 2 and rotated.secret_rotated_at is not None
    with pytest.raises(StaleVersion):
        services.subscription_rotate_secret(actor=admin, subscription=rotated, version=1)
    publish_customer_created()
    request = receiver.requests[0]
    assert webhook_signature_verify(new_secret, request.headers["X-Guanxi-Signature"], request.body, 60)
    assert not webhook_signature_verify(old_secret, request.headers["X-Guanxi-Signature"], request.body, 60)


def test_a_test_ping_is_sent_once_even_when_the_subscription_is_off(
    org: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.answer(500)
    subscription, secret = subscribe(org.actor("admin"), receiver.url, is_active=False)
    assert subscription.disabled_reason == DisabledReason.MANUAL
    with django_capture_on_commit_callbacks(execute=True):
        ping = services.subscription_ping(actor=org.actor("admin"), subscription=subscription)
    ping.refresh_from_db()
    assert (ping.event_name, ping.record_type, ping.manual, ping.triggered_by) == (
        "webhook.ping",
        "webhooks.subscription",
        True,
        org.admin,
    )
    assert (ping.status, ping.attempts, ping.max_attempts, ping.last_response_code) == (
        DeliveryStatus.FAILED,
        1,
        1,
        500,
    )
    assert ping.payload == {"subscription_id": subscription.pk, "subscription_name": "ERP"}
    request = receiver.requests[0]
    assert request.headers["X-Guanxi-Event"] == "webhook.ping"
    assert webhook_signature_verify(secret, request.headers["X-Guanxi-Signature"], request.body, 60)
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0  # sent by hand: does not count towards switching off


def test_a_redelivery_is_a_new_delivery_of_the_same_event(
    org: Any,
    receiver: Receiver,
    publish_customer_created: Publish,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.GUANXI_WEBHOOKS_MAX_ATTEMPTS = 1
    receiver.answer(500)
    subscribe(org.actor("admin"), receiver.url)
    event = publish_customer_created()
    original = WebhookDelivery.objects.get()
    assert original.status == DeliveryStatus.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        again = services.delivery_redeliver(actor=org.actor("admin"), delivery=original)
    again.refresh_from_db()
    assert (again.parent, again.manual, again.event_id, again.payload) == (original, True, event.id, original.payload)
    assert (again.status, again.last_response_code, again.max_attempts) == (DeliveryStatus.SUCCEEDED, 200, 1)
    assert [r.headers["X-Guanxi-Delivery"] for r in receiver.requests] == [str(original.pk), str(again.pk)]
    assert (
        receiver.requests[0].body.replace(b'"id":%d' % original.pk, b'"id":%d' % again.pk) == receiver.requests[1].body
    )
    with pytest.raises(PermissionDenied):
        services.delivery_redeliver(actor=org.actor("rep_north"), delivery=original)


def test_webhook_call_sends_any_payload_to_a_subscription_whatever_its_events(
    org: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    subscription, secret = subscribe(org.actor("admin"), receiver.url, ["lead.created"])
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.webhook_call(
            subscription_id=subscription.pk,
            event_name="customer.win_back",
            payload={"customer_id": 5, "stage": "沉睡", "due": "2025-03-01"},
        )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.manual, delivery.record_type) == (DeliveryStatus.SUCCEEDED, False, "")
    request = receiver.requests[0]
    assert request.headers["X-Guanxi-Event"] == "customer.win_back"
    assert webhook_signature_verify(secret, request.headers["X-Guanxi-Signature"], request.body, 60)
    assert b'"data":{"customer_id":5,"due":"2025-03-01","stage":"\xe6\xb2\x89\xe7\x9d\xa1"}' in request.body


def test_webhook_call_takes_the_record_type_of_a_registered_event(org: Any) -> None:
    subscription, _ = subscribe(org.actor("admin"), URL)
    delivery = services.webhook_call(subscription_id=subscription.pk, event_name="lead.converted", payload={"a": 1})
    assert delivery.record_type == "customers.lead"
    assert (delivery.status, delivery.max_attempts) == (DeliveryStatus.PENDING, 8)


def test_webhook_call_refuses_bad_input(org: Any) -> None:
    off, _ = subscribe(org.actor("admin"), URL, name="旧系统", is_active=False)
    with pytest.raises(ValidationFailed) as missing:
        services.webhook_call(subscription_id=999_999, event_name="bad name!", payload=[1])  # type: ignore[arg-type]
    assert missing.value.fields == {
        "subscription_id": ["Choose an existing webhook subscription."],
        "event_name": ["Name the event with up to 100 letters, digits and . _ : -, such as “customer.win_back”."],
        "payload": ["Send the payload as an object."],
    }
    with pytest.raises(ValidationFailed) as switched_off:
        services.webhook_call(subscription_id=off.pk, event_name="x", payload={"when": object()})
    assert switched_off.value.fields == {
        "subscription_id": ["The webhook subscription “旧系统” is switched off."],
        "payload": ["The payload can hold only text, numbers, yes/no, dates, lists and objects."],
    }
    assert WebhookDelivery.objects.count() == 0


def test_deleting_a_subscription_deletes_its_log(
    org: Any, publish_customer_created: Publish, receiver: Receiver
) -> None:
    subscription, _ = subscribe(org.actor("admin"), receiver.url)
    publish_customer_created()
    services.subscription_delete(actor=org.actor("admin"), subscription=subscription)
    assert (WebhookSubscription.objects.count(), WebhookDelivery.objects.count()) == (0, 0)

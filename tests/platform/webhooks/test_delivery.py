"""Deliveries end to end: platform events reach a real HTTP server on 127.0.0.1, signed; failures are retried
with exponential backoff, given up on after the last attempt, and switch a failing subscription off."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from django.utils import timezone

from guanxi.customers import public as customers
from guanxi.platform.core.jobs import periodic_jobs, run_periodic_job
from guanxi.platform.events.registry import Event, deliver, event_type
from guanxi.platform.notifications.models import Notification
from guanxi.platform.webhooks import delivery as delivery_module
from guanxi.platform.webhooks.delivery import NOTIFY_DISABLED, deliveries_send_due, delivery_attempt
from guanxi.platform.webhooks.models import AttemptError, DeliveryStatus, DisabledReason, WebhookDelivery
from guanxi.platform.webhooks.signing import webhook_signature_verify
from guanxi.platform.webhooks.transport import use_client_factory
from tests.factories import CustomerFactory
from tests.platform.webhooks.conftest import Receiver, subscribe

Publish = Callable[..., Event]


def _only_delivery() -> WebhookDelivery:
    deliveries = list(WebhookDelivery.objects.all())
    assert len(deliveries) == 1
    return deliveries[0]


def test_a_customer_event_reaches_the_receiver_signed(
    org: Any, receiver: Receiver, publish_customer_created: Publish
) -> None:
    subscription, secret = subscribe(org.actor("admin"), receiver.url)
    customer = CustomerFactory(name="王小明", owner=org.rep_north)
    event = publish_customer_created(customer)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    delivery = _only_delivery()
    assert request.path == "/hooks/guanxi"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "guanxi-webhooks/1"
    assert request.headers["X-Guanxi-Event"] == "customer.created"
    assert request.headers["X-Guanxi-Delivery"] == str(delivery.pk)
    assert webhook_signature_verify(secret, request.headers["X-Guanxi-Signature"], request.body, tolerance=60)
    assert not webhook_signature_verify(secret, request.headers["X-Guanxi-Signature"], request.body + b" ", 60)
    assert request.body.startswith(b'{"id":%d,"event":"customer.created","event_id":' % delivery.pk)
    assert json.loads(request.body) == {
        "id": delivery.pk,
        "event": "customer.created",
        "event_id": event.id,
        "occurred_at": delivery.occurred_at.isoformat(),
        "record_type": "customers.customer",
        "data": {
            "record_id": customer.pk,
            "kind": "person",
            "name": "王小明",
            "owner_id": org.rep_north.pk,
            "team_id": org.north.pk,
            "lifecycle_stage": customer.lifecycle_stage,
        },
    }
    assert "王小明".encode() in request.body  # UTF-8, not \u escapes
    assert (delivery.subscription_id, delivery.status, delivery.attempts) == (
        subscription.pk,
        DeliveryStatus.SUCCEEDED,
        1,
    )
    assert (delivery.last_response_code, delivery.response_body, delivery.next_attempt_at) == (200, '{"ok":true}', None)
    assert delivery.first_attempted_at == delivery.last_attempted_at is not None
    attempt = delivery.attempt_log.get()
    assert (attempt.number, attempt.response_code, attempt.error_kind, attempt.url) == (1, 200, "", receiver.url)
    assert attempt.request_headers["X-Guanxi-Signature"] == request.headers["X-Guanxi-Signature"]


def test_creating_and_changing_a_customer_through_its_services_sends_signed_deliveries(
    org: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    subscription, secret = subscribe(org.actor("admin"), receiver.url, ["customer.created", "customer.updated"])
    rep = org.actor("rep_north")
    with django_capture_on_commit_callbacks(execute=True):
        customer = customers.customer_create(actor=rep, data={"name": "李雷", "kind": "person"})
    with django_capture_on_commit_callbacks(execute=True):
        customers.customer_update(actor=rep, customer=customer, data={"name": "李雷雷"})
    assert [request.headers["X-Guanxi-Event"] for request in receiver.requests] == [
        "customer.created",
        "customer.updated",
    ]
    for request in receiver.requests:
        assert webhook_signature_verify(secret, request.headers["X-Guanxi-Signature"], request.body, tolerance=60)
    created, updated = (json.loads(request.body) for request in receiver.requests)
    assert (created["record_type"], created["data"]["record_id"], created["data"]["name"]) == (
        "customers.customer",
        customer.pk,
        "李雷",
    )
    assert (created["data"]["owner_id"], created["data"]["team_id"]) == (org.rep_north.pk, org.north.pk)
    assert updated["data"]["record_id"] == customer.pk
    assert updated["data"]["changes"]["name"] == ["李雷", "李雷雷"]
    assert list(
        WebhookDelivery.objects.filter(subscription=subscription).order_by("id").values_list("event_name", "status")
    ) == [("customer.created", DeliveryStatus.SUCCEEDED), ("customer.updated", DeliveryStatus.SUCCEEDED)]


def test_the_same_event_delivered_twice_makes_one_delivery(
    org: Any, receiver: Receiver, publish_customer_created: Publish, django_capture_on_commit_callbacks: Any
) -> None:
    subscribe(org.actor("admin"), receiver.url)
    event = publish_customer_created()
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = deliver(event)  # the worker runs the event again (a retried job)
    assert outcomes["webhooks"] == "ok"
    assert WebhookDelivery.objects.count() == 1
    assert len(receiver.requests) == 1


def test_only_active_subscriptions_for_the_event_get_it(
    org: Any, receiver: Receiver, publish_customer_created: Publish, publish_customer_deleted: Publish
) -> None:
    admin = org.actor("admin")
    wants_created, _ = subscribe(admin, receiver.url, ["customer.created"], name="created")
    wants_all, _ = subscribe(admin, receiver.url, ["*"], name="all")
    subscribe(admin, receiver.url, ["customer.deleted", "lead.created"], name="deleted")
    subscribe(admin, receiver.url, ["customer.created"], name="off", is_active=False)
    publish_customer_created()
    assert sorted(WebhookDelivery.objects.values_list("subscription__name", flat=True)) == ["all", "created"]
    assert len(receiver.requests) == 2
    publish_customer_deleted(42)
    assert sorted(
        WebhookDelivery.objects.filter(event_name="customer.deleted").values_list("subscription__name", flat=True)
    ) == ["all", "deleted"]
    assert wants_created.pk != wants_all.pk


def test_a_failing_endpoint_is_retried_with_exponential_backoff_then_succeeds(
    org: Any, receiver: Receiver, publish_customer_created: Publish
) -> None:
    receiver.answer(500, 503, 500)  # then 200
    subscription, _ = subscribe(org.actor("admin"), receiver.url)
    publish_customer_created()
    delivery = _only_delivery()
    waits = []
    for expected_attempts in (1, 2, 3):
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.RETRYING, expected_attempts)
        last = delivery.attempt_log.order_by("number").last()
        assert last is not None
        waits.append(delivery.next_attempt_at - last.started_at)
        # Not due a second early; due on time.
        assert deliveries_send_due(now=delivery.next_attempt_at - dt.timedelta(seconds=1)) == 0
        assert deliveries_send_due(now=delivery.next_attempt_at) == 1
        delivery.refresh_from_db()
    assert waits == [dt.timedelta(minutes=1), dt.timedelta(minutes=2), dt.timedelta(minutes=4)]
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (DeliveryStatus.SUCCEEDED, 4, 200)
    assert delivery.next_attempt_at is None and delivery.error_kind == ""
    assert list(delivery.attempt_log.values_list("number", "response_code", "error_kind")) == [
        (1, 500, AttemptError.HTTP_STATUS),
        (2, 503, AttemptError.HTTP_STATUS),
        (3, 500, AttemptError.HTTP_STATUS),
        (4, 200, ""),
    ]
    assert [request.headers["X-Guanxi-Delivery"] for request in receiver.requests] == [str(delivery.pk)] * 4
    assert len({request.body for request in receiver.requests}) == 1  # every attempt sends the same body
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0


def test_the_retry_job_sends_a_due_attempt_once_however_often_it_runs(
    org: Any, receiver: Receiver, publish_customer_created: Publish
) -> None:
    receiver.answer(500)
    subscribe(org.actor("admin"), receiver.url)
    publish_customer_created()
    delivery = _only_delivery()
    due = delivery.next_attempt_at
    assert deliveries_send_due(now=due) == 1
    assert deliveries_send_due(now=due) == 0  # a second worker, or the job running twice
    assert len(receiver.requests) == 2


def test_a_claim_is_won_by_one_worker_only(org: Any, receiver: Receiver) -> None:
    subscription, _ = subscribe(org.actor("admin"), receiver.url)
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event_id="e-1",
        event_name="customer.created",
        occurred_at=timezone.now(),
        payload={"record_id": 1},
        max_attempts=3,
        next_attempt_at=timezone.now(),
    )
    first_token, first = delivery_module._claim([delivery.pk], timezone.now())
    second_token, second = delivery_module._claim([delivery.pk], timezone.now())
    assert (first, second) == ([delivery.pk], [])
    assert delivery_attempt(delivery_id=delivery.pk, claim_token="someone-else") is None
    assert receiver.requests == []
    sent = delivery_attempt(delivery_id=delivery.pk, claim_token=first_token)
    assert sent is not None and sent.status == DeliveryStatus.SUCCEEDED
    assert delivery_attempt(delivery_id=delivery.pk, claim_token=first_token) is None  # the claim is spent
    assert len(receiver.requests) == 1 and second_token == ""


def test_an_attempt_whose_worker_died_is_claimed_again_after_the_lease(org: Any, receiver: Receiver) -> None:
    subscription, _ = subscribe(org.actor("admin"), receiver.url)
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event_id="e-2",
        event_name="customer.created",
        occurred_at=now,
        payload={"record_id": 1},
        max_attempts=3,
        next_attempt_at=now,
    )
    token, won = delivery_module._claim([delivery.pk], now)  # ... and the worker never reports back
    assert won == [delivery.pk]
    assert deliveries_send_due(now=now + dt.timedelta(minutes=9)) == 0
    assert deliveries_send_due(now=now + delivery_module.CLAIM_LEASE) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.requests)) == (DeliveryStatus.SUCCEEDED, 1, 1)
    assert delivery_attempt(delivery_id=delivery.pk, claim_token=token) is None


def test_the_periodic_job_is_registered_and_sends_what_is_due(org: Any, receiver: Receiver) -> None:
    subscription, _ = subscribe(org.actor("admin"), receiver.url)
    WebhookDelivery.objects.create(
        subscription=subscription,
        event_id="lost-dispatch",  # created, but the worker stopped before its first attempt was queued
        event_name="customer.created",
        occurred_at=timezone.now(),
        payload={"record_id": 1},
        max_attempts=8,
        next_attempt_at=timezone.now(),
    )
    job = next(job for job in periodic_jobs() if job.name == "webhooks.retry_due")
    assert (job.minute, job.hour) == ("*", "*")
    assert run_periodic_job("webhooks.retry_due") == 1
    assert run_periodic_job("webhooks.retry_due") == 0
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED and len(receiver.requests) == 1


def test_a_network_error_is_retried(org: Any, closed_port_url: str, publish_customer_created: Publish) -> None:
    subscribe(org.actor("admin"), closed_port_url)
    publish_customer_created()
    delivery = _only_delivery()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (DeliveryStatus.RETRYING, 1, None)
    assert delivery.error_kind == AttemptError.CONNECTION
    assert delivery.error.startswith("ConnectError: ")
    assert delivery.next_attempt_at == delivery.last_attempted_at + dt.timedelta(minutes=1)


def test_after_the_last_attempt_the_delivery_has_failed(
    org: Any, receiver: Receiver, publish_customer_created: Publish, settings: Any
) -> None:
    settings.GUANXI_WEBHOOKS_MAX_ATTEMPTS = 3
    receiver.default_status = 500
    receiver.response_body = b"database down \x00 again"
    subscription, _ = subscribe(org.actor("admin"), receiver.url)
    publish_customer_created()
    delivery = _only_delivery()
    for _attempt in range(2):
        deliveries_send_due(now=delivery.next_attempt_at)
        delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.max_attempts) == (DeliveryStatus.FAILED, 3, 3)
    assert (delivery.next_attempt_at, delivery.last_response_code) == (None, 500)
    assert delivery.response_body == "database down \ufffd again"
    assert deliveries_send_due(now=timezone.now() + dt.timedelta(days=1)) == 0
    assert len(receiver.requests) == 3
    subscription.refresh_from_db()
    assert (subscription.consecutive_failures, subscription.is_active) == (1, True)


def test_consecutive_failed_deliveries_switch_the_subscription_off_and_tell_its_creator(
    org: Any, receiver: Receiver, publish_customer_created: Publish, settings: Any
) -> None:
    settings.GUANXI_WEBHOOKS_MAX_ATTEMPTS = 1
    settings.GUANXI_WEBHOOKS_DISABLE_AFTER_FAILURES = 3
    receiver.answer(500, 200)
    receiver.default_status = 502
    subscription, _ = subscribe(org.actor("admin"), receiver.url)
    publish_customer_created()
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 1
    publish_customer_created()  # a success resets the count
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0
    for _event in range(3):
        publish_customer_created()
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.disabled_reason, subscription.consecutive_failures) == (
        False,
        DisabledReason.FAILURES,
        3,
    )
    assert subscription.disabled_at is not None and subscription.version == 2
    notification = Notification.objects.get(recipient=org.admin)
    assert notification.kind == NOTIFY_DISABLED
    assert notification.title == "Webhook “ERP” was switched off"
    assert notification.body.startswith("3 deliveries in a row failed, so no more events are sent to http://127.0.0.1:")
    assert notification.url == f"/settings/webhooks/{subscription.pk}/"
    sent = len(receiver.requests)
    publish_customer_created()  # switched off: nothing more is created or sent
    assert WebhookDelivery.objects.count() == 5 and len(receiver.requests) == sent


def test_deliveries_queued_before_a_subscription_was_switched_off_are_closed_unsent(
    org: Any, receiver: Receiver, publish_customer_created: Publish
) -> None:
    receiver.answer(500)
    subscription, _ = subscribe(org.actor("admin"), receiver.url)
    publish_customer_created()
    delivery = _only_delivery()
    type(subscription).objects.filter(pk=subscription.pk).update(is_active=False)
    deliveries_send_due(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.error_kind, delivery.attempts) == (
        DeliveryStatus.FAILED,
        AttemptError.SUBSCRIPTION_DISABLED,
        1,
    )
    assert len(receiver.requests) == 1


def test_redirects_are_not_followed(org: Any, receiver: Receiver, publish_customer_created: Publish) -> None:
    receiver.answer(302)
    receiver.extra_headers = {"Location": "http://169.254.169.254/latest/meta-data/"}
    subscribe(org.actor("admin"), receiver.url)
    publish_customer_created()
    delivery = _only_delivery()
    assert (delivery.status, delivery.last_response_code, delivery.error_kind) == (
        DeliveryStatus.RETRYING,
        302,
        AttemptError.REDIRECT,
    )
    assert delivery.error == "HTTP 302 → http://169.254.169.254/latest/meta-data/"
    assert len(receiver.requests) == 1


def test_a_slow_endpoint_times_out(
    org: Any, receiver: Receiver, publish_customer_created: Publish, settings: Any
) -> None:
    settings.GUANXI_WEBHOOKS_TIMEOUT = 1
    receiver.delay = 2.5
    subscribe(org.actor("admin"), receiver.url)
    publish_customer_created()
    delivery = _only_delivery()
    assert (delivery.status, delivery.error_kind) == (DeliveryStatus.RETRYING, AttemptError.TIMEOUT)
    assert 900 <= delivery.duration_ms < 2500


def test_private_addresses_are_refused_again_at_send_time(
    org: Any, receiver: Receiver, publish_customer_created: Publish, settings: Any
) -> None:
    subscribe(org.actor("admin"), receiver.url)  # saved while private hosts were allowed
    settings.GUANXI_WEBHOOKS_ALLOW_PRIVATE_HOSTS = False
    publish_customer_created()
    delivery = _only_delivery()
    assert (delivery.status, delivery.error_kind, delivery.last_response_code) == (
        DeliveryStatus.RETRYING,
        AttemptError.BLOCKED_ADDRESS,
        None,
    )
    assert delivery.error == "127.0.0.1 resolves to 127.0.0.1, which is not a public address"
    assert receiver.requests == []


def test_a_host_whose_dns_answer_changed_to_a_private_address_is_not_called(
    org: Any, receiver: Receiver, publish_customer_created: Publish, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guanxi.platform.webhooks import addresses

    real_getaddrinfo = addresses.socket.getaddrinfo

    def rebinding(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host == "hooks.example.com":  # the name now points at this machine
            return [(2, 1, 6, "", ("127.0.0.1", port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    subscribe(org.actor("admin"), f"http://hooks.example.com:{receiver.port}/hooks")
    settings.GUANXI_WEBHOOKS_ALLOW_PRIVATE_HOSTS = False
    monkeypatch.setattr(addresses.socket, "getaddrinfo", rebinding)
    publish_customer_created()
    delivery = _only_delivery()
    assert delivery.error_kind == AttemptError.BLOCKED_ADDRESS
    assert receiver.requests == []


def test_plain_http_is_refused_at_send_time_when_the_settings_say_https_only(
    org: Any, receiver: Receiver, publish_customer_created: Publish, settings: Any
) -> None:
    subscribe(org.actor("admin"), receiver.url)
    settings.GUANXI_WEBHOOKS_ALLOW_HTTP = False
    publish_customer_created()
    delivery = _only_delivery()
    assert (delivery.error_kind, delivery.error) == (
        AttemptError.INVALID_URL,
        "Use an https:// address; this installation refuses plain http.",
    )
    assert receiver.requests == []


def test_an_injected_client_sends_the_requests(org: Any, publish_customer_created: Publish) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    subscribe(org.actor("admin"), "https://erp.example.com/hooks")
    with use_client_factory(lambda: httpx.Client(transport=httpx.MockTransport(handler))):
        publish_customer_created()
    delivery = _only_delivery()
    assert (delivery.status, delivery.last_response_code) == (DeliveryStatus.SUCCEEDED, 204)
    assert [str(request.url) for request in seen] == ["https://erp.example.com/hooks"]
    assert seen[0].headers["x-guanxi-event"] == "customer.created"


def test_every_registered_customer_event_can_be_subscribed() -> None:
    for name in ("customer.created", "customer.owner_changed", "pool.returned", "task.overdue", "lead.converted"):
        assert event_type(name) is not None

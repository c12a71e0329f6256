"""The webhooks API: subscriptions (CRUD, rotate, ping), the delivery log with filters and cursor, redelivery,
event types; administrators only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from guanxi.platform.events.registry import Event
from guanxi.platform.identity.models import ApiToken
from guanxi.platform.identity.services import api_token_create
from guanxi.platform.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from guanxi.platform.webhooks.signing import webhook_signature_verify
from tests.platform.webhooks.conftest import Receiver, make_deliveries, subscribe

Publish = Callable[..., Event]
SUBSCRIPTIONS = "/api/v1/webhook-subscriptions"
DELIVERIES = "/api/v1/webhook-deliveries"
URL = "https://erp.example.com/hooks"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_admin_creates_reads_changes_and_deletes_a_subscription(org: Any) -> None:
    client = _client(org.admin)
    created = client.post(
        SUBSCRIPTIONS,
        {"name": "ERP", "url": URL, "event_types": ["customer.created", "lead.converted"], "description": "同步"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and body["secret_hint"] == f"whsec_••••••••{secret[-4:]}"
    assert (body["name"], body["url"], body["event_types"], body["version"]) == (
        "ERP",
        URL,
        ["customer.created", "lead.converted"],
        1,
    )
    url = f"{SUBSCRIPTIONS}/{body['id']}"
    read = client.get(url)
    assert read["ETag"] == '"1"' and "secret" not in read.json() and read.json()["secret_hint"] == body["secret_hint"]
    changed = client.patch(url, {"event_types": ["*"], "is_active": False}, content_type="application/json",
                           HTTP_IF_MATCH='"1"')  # fmt: skip
    assert changed.status_code == 200, changed.content
    assert (changed.json()["event_types"], changed.json()["is_active"], changed.json()["disabled_reason"]) == (
        ["*"],
        False,
        "manual",
    )
    assert client.patch(url, {"name": "X"}, content_type="application/json", HTTP_IF_MATCH='"1"').status_code == 412
    assert client.patch(url, {"name": "X"}, content_type="application/json").status_code == 428
    listed = client.get(SUBSCRIPTIONS).json()
    assert [item["name"] for item in listed["items"]] == ["ERP"] and listed["next_cursor"] is None
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_bad_subscriptions_answer_422_naming_the_fields(org: Any) -> None:
    response = _client(org.admin).post(
        SUBSCRIPTIONS,
        {"name": "ERP", "url": "javascript:alert(1)", "event_types": ["customer.flew"], "colour": "red"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"colour": ["Unknown field."]}
    response = _client(org.admin).post(
        SUBSCRIPTIONS,
        {"name": "ERP", "url": "javascript:alert(1)", "event_types": ["customer.flew"]},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": "Some fields are not valid.",
        "fields": {
            "url": ["Use an address starting with https:// (or http://)."],
            "event_types": ["Unknown event type: “customer.flew”. Choose from the registered events."],
        },
    }
    assert WebhookSubscription.objects.count() == 0


def test_private_hosts_are_refused_through_the_api(org: Any, settings: Any) -> None:
    settings.GUANXI_WEBHOOKS_ALLOW_PRIVATE_HOSTS = False
    response = _client(org.admin).post(
        SUBSCRIPTIONS,
        {"name": "metadata", "url": "http://169.254.169.254/latest/", "event_types": ["*"]},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["url"] == [
        "“169.254.169.254” points to a private, loopback or reserved network address; webhooks may only call "
        "public addresses."
    ]


def test_rotate_secret_answers_the_new_secret_once(org: Any) -> None:
    subscription, old = subscribe(org.actor("admin"), URL)
    client = _client(org.admin)
    response = client.post(f"{SUBSCRIPTIONS}/{subscription.pk}/rotate-secret", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    new = response.json()["secret"]
    assert new != old and response.json()["version"] == 2
    assert client.post(f"{SUBSCRIPTIONS}/{subscription.pk}/rotate-secret", HTTP_IF_MATCH='"1"').status_code == 412


def test_ping_and_redeliver_through_the_api(
    org: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    subscription, secret = subscribe(org.actor("admin"), receiver.url)
    client = _client(org.admin)
    with django_capture_on_commit_callbacks(execute=True):
        ping = client.post(f"{SUBSCRIPTIONS}/{subscription.pk}/ping")
    assert ping.status_code == 201, ping.content
    assert (ping.json()["event"], ping.json()["manual"], ping.json()["status"]) == ("webhook.ping", True, "pending")
    detail = client.get(f"{DELIVERIES}/{ping.json()['id']}").json()
    assert (detail["status"], detail["response_code"], detail["attempts"]) == ("succeeded", 200, 1)
    assert detail["request_body"].encode() == receiver.requests[0].body
    [attempt] = detail["attempt_log"]
    assert (attempt["number"], attempt["response_code"], attempt["response_body"]) == (1, 200, '{"ok":true}')
    assert attempt["request_headers"]["X-Guanxi-Delivery"] == str(ping.json()["id"])
    assert webhook_signature_verify(
        secret, attempt["request_headers"]["X-Guanxi-Signature"], receiver.requests[0].body, 60
    )
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"{DELIVERIES}/{ping.json()['id']}/redeliver")
    assert again.status_code == 201
    assert (again.json()["parent_id"], again.json()["event_id"]) == (ping.json()["id"], detail["event_id"])
    assert client.get(f"{DELIVERIES}/{ping.json()['id']}").json()["redelivery_ids"] == [again.json()["id"]]
    assert len(receiver.requests) == 2
    assert client.post(f"{DELIVERIES}/999999/redeliver").status_code == 404


def test_the_delivery_log_filters_and_pages_with_a_cursor(org: Any) -> None:
    erp, _ = subscribe(org.actor("admin"), URL, name="ERP")
    crm, _ = subscribe(org.actor("admin"), URL, name="CRM")
    make_deliveries(erp, 3)
    make_deliveries(erp, 2, status=DeliveryStatus.FAILED, event_name="lead.created")
    make_deliveries(crm, 4)
    client = _client(org.admin)
    first = client.get(DELIVERIES, {"limit": 5}).json()
    second = client.get(DELIVERIES, {"limit": 5, "cursor": first["next_cursor"]}).json()
    ids = [d["id"] for d in first["items"] + second["items"]]
    assert ids == sorted(WebhookDelivery.objects.values_list("id", flat=True), reverse=True)
    assert second["next_cursor"] is None
    assert len(client.get(DELIVERIES, {"subscription": erp.pk}).json()["items"]) == 5
    failed = client.get(DELIVERIES, {"status": "failed"}).json()["items"]
    assert {(d["status"], d["event"], d["subscription_name"]) for d in failed} == {("failed", "lead.created", "ERP")}
    assert len(client.get(DELIVERIES, {"event": "customer.created", "subscription": crm.pk}).json()["items"]) == 4
    bad = client.get(DELIVERIES, {"status": "lost"})
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"] == {"status": ["Choose a status from the list."]}
    assert client.get(DELIVERIES, {"cursor": "nonsense"}).status_code == 422


def test_the_lists_run_the_same_queries_for_5_or_40_rows(org: Any) -> None:
    client = _client(org.admin)

    def queries_with(rows: int) -> tuple[int, int]:
        for _ in range(rows - WebhookSubscription.objects.count()):
            subscription, _secret = subscribe(org.actor("admin"), URL)
            make_deliveries(subscription, 1)
        with CaptureQueriesContext(connection) as subscriptions:
            assert len(client.get(SUBSCRIPTIONS, {"limit": 100}).json()["items"]) == rows
        with CaptureQueriesContext(connection) as deliveries:
            assert len(client.get(DELIVERIES, {"limit": 100}).json()["items"]) == rows
        return len(subscriptions), len(deliveries)

    assert queries_with(5) == queries_with(40)


def test_event_types_list_what_can_be_subscribed(org: Any) -> None:
    items = _client(org.admin).get("/api/v1/webhook-event-types").json()
    created = next(item for item in items if item["name"] == "customer.created")
    assert created == {
        "name": "customer.created",
        "label": "Customer created",
        "record_type": "customers.customer",
        "fields": ["record_id", "kind", "name", "owner_id", "team_id", "lifecycle_stage"],
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", SUBSCRIPTIONS),
        ("post", SUBSCRIPTIONS),
        ("get", DELIVERIES),
        ("get", "/api/v1/webhook-event-types"),
    ],
)
def test_a_rep_gets_403(org: Any, method: str, path: str) -> None:
    client = _client(org.rep_north)
    kwargs: dict[str, Any] = {"content_type": "application/json"} if method == "post" else {}
    body = {"name": "x", "url": URL, "event_types": ["*"]} if method == "post" else None
    response = getattr(client, method)(path, body, **kwargs) if body else getattr(client, method)(path)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_rep_gets_403_on_someone_elses_subscription_and_delivery(org: Any) -> None:
    subscription, _ = subscribe(org.actor("admin"), URL)
    [delivery] = make_deliveries(subscription, 1)
    client = _client(org.rep_north)
    assert client.get(f"{SUBSCRIPTIONS}/{subscription.pk}").status_code == 403
    assert client.post(f"{SUBSCRIPTIONS}/{subscription.pk}/ping").status_code == 403
    assert client.post(f"{SUBSCRIPTIONS}/{subscription.pk}/rotate-secret").status_code == 403
    assert client.get(f"{DELIVERIES}/{delivery.pk}").status_code == 403
    assert client.post(f"{DELIVERIES}/{delivery.pk}/redeliver").status_code == 403
    assert WebhookDelivery.objects.count() == 1


def test_api_tokens_need_the_webhooks_scope(org: Any) -> None:
    token, with_scope = api_token_create(
        actor=org.actor("admin"), name="ops", scopes=["webhooks:write"], expires_at=None
    )
    _, without = api_token_create(actor=org.actor("admin"), name="crm", scopes=["customers:read"], expires_at=None)
    assert isinstance(token, ApiToken)
    assert Client().get(SUBSCRIPTIONS, HTTP_AUTHORIZATION=f"Bearer {with_scope}").status_code == 200
    assert Client().get(SUBSCRIPTIONS, HTTP_AUTHORIZATION=f"Bearer {without}").status_code == 403

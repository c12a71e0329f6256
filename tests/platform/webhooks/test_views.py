"""Webhook settings pages: subscriptions (list, form with grouped event checkboxes, detail with the secret shown
once, rotate, ping, delete), the delivery log and a delivery's attempts; in both languages; admins only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.platform.events.registry import Event
from guanxi.platform.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from tests.platform.webhooks.conftest import Receiver, make_deliveries, subscribe

Publish = Callable[..., Event]
URL = "https://erp.example.com/hooks"


def _client(user: Any, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    if language != "en":
        user.language = language
        user.save(update_fields=["language"])
    return client


def _form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "ERP",
        "url": URL,
        "event_types": ["customer.created", "lead.converted"],
        "description": "",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_the_form_offers_the_events_grouped_by_record_type(org: Any) -> None:
    response = _client(org.admin).get(reverse("webhooks:subscription_create"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "customers.customer" in html and "customers.lead" in html
    assert 'value="customer.created"' in html and "Customer created (customer.created)" in html
    assert "All events, including ones added later" in html


def test_creating_shows_the_secret_once_then_masks_it(org: Any) -> None:
    client = _client(org.admin)
    response = client.post(reverse("webhooks:subscription_create"), _form())
    subscription = WebhookSubscription.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/settings/webhooks/{subscription.pk}/"
    assert subscription.event_types == ["customer.created", "lead.converted"]
    first = client.get(response["Location"])
    secret = first.context["secret"]
    assert secret.startswith("whsec_") and secret in first.content.decode()
    assert first["Cache-Control"] == "no-store"
    assert "the only time it is shown in full" in first.content.decode()
    second = client.get(response["Location"])
    assert second.context["secret"] == "" and secret not in second.content.decode()
    assert subscription.masked_secret in second.content.decode()


def test_all_events_checkbox_subscribes_to_everything(org: Any) -> None:
    _client(org.admin).post(reverse("webhooks:subscription_create"), _form(all_events="on", event_types=[]))
    assert WebhookSubscription.objects.get().event_types == ["*"]


def test_bad_input_is_shown_next_to_the_fields(org: Any) -> None:
    response = _client(org.admin).post(
        reverse("webhooks:subscription_create"), _form(name="", url="ftp://x.example.com", event_types=[])
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {
        "name": ["Enter a name."],
        "url": ["Use an address starting with https:// (or http://)."],
        "event_types": ["Choose at least one event, or all events."],
    }
    assert WebhookSubscription.objects.count() == 0


def test_editing_checks_the_version(org: Any) -> None:
    subscription, _ = subscribe(org.actor("admin"), URL)
    client = _client(org.admin)
    url = reverse("webhooks:subscription_edit", args=[subscription.pk])
    page = client.get(url)
    assert page.status_code == 200 and page.context["form"].initial["version"] == 1
    saved = client.post(url, _form(name="ERP 2", version=1, event_types=["task.overdue"]))
    assert saved.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.name, subscription.event_types, subscription.version) == ("ERP 2", ["task.overdue"], 2)
    stale = client.post(url, _form(name="ERP 3", version=1))
    assert stale.status_code == 422
    assert "The record was changed by someone else." in stale.content.decode()
    assert "ERP 2" in client.get(url).content.decode()  # the history lists the change


def test_rotate_ping_and_delete_from_the_detail_page(
    org: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    subscription, old = subscribe(org.actor("admin"), receiver.url)
    client = _client(org.admin)
    detail = reverse("webhooks:subscription_detail", args=[subscription.pk])
    rotated = client.post(reverse("webhooks:subscription_rotate_secret", args=[subscription.pk]), follow=True)
    new = rotated.context["secret"]
    assert new.startswith("whsec_") and new != old
    assert "the old one no longer works" in rotated.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        pinged = client.post(reverse("webhooks:subscription_ping", args=[subscription.pk]))
    ping = WebhookDelivery.objects.get()
    assert pinged["Location"] == reverse("webhooks:delivery_detail", args=[ping.pk])
    assert len(receiver.requests) == 1
    page = client.get(detail).content.decode()
    assert "webhook.ping" in page and "Recent deliveries" in page
    assert client.get(reverse("webhooks:subscription_rotate_secret", args=[subscription.pk])).status_code == 405
    deleted = client.post(reverse("webhooks:subscription_delete", args=[subscription.pk]))
    assert deleted["Location"] == reverse("webhooks:subscription_list")
    assert WebhookSubscription.objects.count() == 0


def test_a_subscription_switched_off_by_failures_says_so(org: Any) -> None:
    subscription, _ = subscribe(org.actor("admin"), URL)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        is_active=False, disabled_reason="failures", consecutive_failures=5
    )
    html = _client(org.admin).get(reverse("webhooks:subscription_detail", args=[subscription.pk])).content.decode()
    assert "after 5 failed deliveries in a row" in html
    listing = _client(org.admin).get(reverse("webhooks:subscription_list")).content.decode()
    assert "Switched off after failures" in listing


def test_the_delivery_log_filters_and_shows_codes_and_attempts(org: Any) -> None:
    erp, _ = subscribe(org.actor("admin"), URL, name="ERP")
    crm, _ = subscribe(org.actor("admin"), URL, name="CRM")
    make_deliveries(erp, 2)
    make_deliveries(crm, 1, status=DeliveryStatus.FAILED, event_name="lead.created")
    client = _client(org.admin)
    everything = client.get(reverse("webhooks:delivery_list"))
    assert len(everything.context["page"].items) == 3
    failed = client.get(reverse("webhooks:delivery_list"), {"status": "failed"})
    assert [d.subscription.name for d in failed.context["page"].items] == ["CRM"]
    by_event = client.get(reverse("webhooks:delivery_list"), {"event": "customer.created", "subscription": erp.pk})
    assert len(by_event.context["page"].items) == 2
    html = by_event.content.decode()
    assert "1/8" in html and ">200<" in html and 'list="webhook-event-names"' in html
    bad = client.get(reverse("webhooks:delivery_list"), {"status": "lost"})
    assert bad.status_code == 422


def test_the_pages_run_the_same_queries_for_5_or_30_rows(org: Any) -> None:
    client = _client(org.admin)

    def queries_with(rows: int) -> tuple[int, int]:
        for _ in range(rows - WebhookSubscription.objects.count()):
            subscription, _secret = subscribe(org.actor("admin"), URL)
            make_deliveries(subscription, 1)
        with CaptureQueriesContext(connection) as subscriptions:
            assert len(client.get(reverse("webhooks:subscription_list")).context["subscriptions"]) == rows
        with CaptureQueriesContext(connection) as deliveries:
            assert len(client.get(reverse("webhooks:delivery_list")).context["page"].items) == rows
        return len(subscriptions), len(deliveries)

    assert queries_with(5) == queries_with(30)


def test_older_deliveries_are_on_the_next_page(org: Any) -> None:
    subscription, _ = subscribe(org.actor("admin"), URL)
    make_deliveries(subscription, 60)
    client = _client(org.admin)
    first = client.get(reverse("webhooks:delivery_list"))
    second = client.get(reverse("webhooks:delivery_list") + first.context["next_url"])
    assert (len(first.context["page"].items), len(second.context["page"].items)) == (50, 10)


def test_a_delivery_shows_its_request_and_every_attempt_and_can_be_redelivered(
    org: Any, receiver: Receiver, publish_customer_created: Publish, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.answer(500)
    receiver.response_body = b"<h1>oops</h1>"
    subscribe(org.actor("admin"), receiver.url)
    publish_customer_created()
    delivery = WebhookDelivery.objects.get()
    client = _client(org.admin)
    url = reverse("webhooks:delivery_detail", args=[delivery.pk])
    html = client.get(url).content.decode()
    assert "Attempt 1" in html and "HTTP 500" in html and "The endpoint answered with an error status" in html
    assert "&lt;h1&gt;oops&lt;/h1&gt;" in html  # the receiver's answer is shown, escaped
    assert "X-Guanxi-Signature: t=" in html and "&quot;event&quot;:&quot;customer.created&quot;" in html
    assert 'hx-trigger="every 3s"' in html  # still open: the state refreshes itself
    partial = client.get(url, headers={"HX-Request": "true"})
    assert partial.templates[0].name == "webhooks/partials/delivery_state.html"
    assert "<html" not in partial.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("webhooks:delivery_redeliver", args=[delivery.pk]))
    again = WebhookDelivery.objects.get(parent=delivery)
    assert response["Location"] == reverse("webhooks:delivery_detail", args=[again.pk])
    page = client.get(response["Location"]).content.decode()
    assert f"#{delivery.pk}" in page and "every 3s" not in page and "HTTP 200" in page


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_page_renders_in_both_languages(
    org: Any, language: str, receiver: Receiver, publish_customer_created: Publish
) -> None:
    subscription, _ = subscribe(org.actor("admin"), receiver.url)
    publish_customer_created()
    delivery = WebhookDelivery.objects.get()
    client = _client(org.admin, language)
    for url in (
        reverse("webhooks:subscription_list"),
        reverse("webhooks:subscription_create"),
        reverse("webhooks:subscription_detail", args=[subscription.pk]),
        reverse("webhooks:subscription_edit", args=[subscription.pk]),
        reverse("webhooks:delivery_list"),
        reverse("webhooks:delivery_detail", args=[delivery.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "<script>" not in html and " style=" not in html and " onclick=" not in html


def test_a_rep_cannot_open_the_pages_and_has_no_nav_entry(org: Any) -> None:
    subscription, _ = subscribe(org.actor("admin"), URL)
    [delivery] = make_deliveries(subscription, 1)
    client = _client(org.rep_north)
    for url in (
        reverse("webhooks:subscription_list"),
        reverse("webhooks:subscription_create"),
        reverse("webhooks:subscription_detail", args=[subscription.pk]),
        reverse("webhooks:delivery_list"),
        reverse("webhooks:delivery_detail", args=[delivery.pk]),
    ):
        assert client.get(url).status_code == 403, url
    for url in (
        reverse("webhooks:subscription_ping", args=[subscription.pk]),
        reverse("webhooks:subscription_rotate_secret", args=[subscription.pk]),
        reverse("webhooks:subscription_delete", args=[subscription.pk]),
        reverse("webhooks:delivery_redeliver", args=[delivery.pk]),
    ):
        assert client.post(url).status_code == 403, url
    assert WebhookSubscription.objects.count() == 1 and WebhookDelivery.objects.count() == 1
    assert reverse("webhooks:subscription_list") not in client.get(reverse("ui:workbench")).content.decode()
    assert reverse("webhooks:subscription_list") in _client(org.admin).get(reverse("ui:workbench")).content.decode()

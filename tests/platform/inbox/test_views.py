"""Inbox pages: the list with filters and badges, a message as escaped text, filing by hand, both languages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanxi.customers.models import Interaction, Lead
from guanxi.customers.models.choices import ContactKind
from guanxi.platform.inbox.draft import InboundDraft
from guanxi.platform.inbox.models import InboundMessage, MatchStatus
from guanxi.platform.inbox.services import inbound_receive
from tests.platform.inbox.conftest import client_for, customer_with

LIST_URL = "/inbox/"


def receive(sender: str, message_id: str, body: str = "你好，请联系我", **extra: Any) -> InboundMessage:
    draft = InboundDraft(
        channel="email", provider="webhook", provider_message_id=message_id, from_raw=sender, body_text=body,
        received_at=timezone.now() - dt.timedelta(minutes=len(message_id)), **extra,
    )  # fmt: skip
    return inbound_receive(draft=draft)[0]


def test_the_inbox_lists_messages_with_status_and_record_links(org: Any) -> None:
    customer = customer_with(org.rep_north, ContactKind.EMAIL, "wang@example.com", name="王芳")
    filed = receive("wang@example.com", "<a@x>", subject="订单问题")
    stranger = receive("who@example.com", "<bb@x>", from_name="陌生人")
    page = client_for(org.admin).get(LIST_URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="/customers/{customer.pk}/">王芳</a>' in html
    assert f'data-message="{filed.pk}"' in html and f'data-message="{stranger.pk}"' in html
    assert 'data-status="matched"' in html and 'data-status="lead_created"' in html
    assert "订单问题" in html and "陌生人" in html
    rep_html = client_for(org.rep_north).get(LIST_URL).content.decode()
    assert f'data-message="{filed.pk}"' in rep_html and f'data-message="{stranger.pk}"' not in rep_html


def test_the_inbox_filters_and_reports_bad_filters(org: Any, settings: Any) -> None:
    settings.GUANXI_INBOX_CREATE_LEADS = False
    unmatched = receive("who@example.com", "<u@x>")
    customer_with(org.rep_north, ContactKind.EMAIL, "wang@example.com")
    matched = receive("wang@example.com", "<m@x>")
    html = client_for(org.admin).get(LIST_URL, {"status": "unmatched"}).content.decode()
    assert f'data-message="{unmatched.pk}"' in html and f'data-message="{matched.pk}"' not in html
    bad = client_for(org.admin).get(LIST_URL, {"channel": "fax"})
    assert bad.status_code == 422 and "Choose a value from the list." in bad.content.decode()


def test_the_inbox_page_runs_a_fixed_number_of_queries(org: Any) -> None:
    customer_with(org.rep_north, ContactKind.EMAIL, "wang@example.com")
    receive("wang@example.com", "<first@x>")
    receive("first-lead@example.com", "<first-lead@x>")  # one query per record type shown: customers, leads
    client = client_for(org.admin)
    client.get(LIST_URL)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST_URL)
    for n in range(8):
        receive("wang@example.com", f"<n{n}@x>")
        receive(f"new{n}@example.com", f"<l{n}@x>")
    with CaptureQueriesContext(connection) as many:
        assert client.get(LIST_URL).content.decode().count("data-message=") == 18
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_pages_render_in_chinese(org: Any) -> None:
    message = receive("who@example.com", "<zh@x>")
    org.admin.language = "zh-hans"
    org.admin.save()
    client = client_for(org.admin)
    for url in (LIST_URL, f"/inbox/{message.pk}/"):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Language"] == "zh-hans"


def test_a_message_shows_sender_html_as_text_only(org: Any) -> None:
    message = receive(
        "who@example.com", "<x@x>", body='<script>alert("x")</script><img src=x onerror=alert(1)>\n第二行'
    )
    html = client_for(org.admin).get(f"/inbox/{message.pk}/").content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<br>第二行" in html


def test_a_rep_cannot_open_unfiled_messages_or_the_actions(org: Any, settings: Any) -> None:
    settings.GUANXI_INBOX_CREATE_LEADS = False
    message = receive("who@example.com", "<r@x>")
    rep = client_for(org.rep_north)
    assert rep.get(f"/inbox/{message.pk}/").status_code == 404
    assert rep.post(f"/inbox/{message.pk}/create-lead/").status_code == 403
    assert client_for(org.analyst).get(LIST_URL).status_code == 403
    nav = rep.get("/").content.decode()
    assert 'href="/inbox/"' in nav
    assert 'href="/inbox/"' not in client_for(org.analyst).get("/").content.decode()


def test_a_manager_finds_a_customer_and_files_the_message(org: Any, settings: Any) -> None:
    settings.GUANXI_INBOX_CREATE_LEADS = False
    message = receive("who@example.com", "<f@x>")
    customer = customer_with(org.rep_north, ContactKind.EMAIL, "wang@example.com", name="张伟")
    client = client_for(org.manager_north)
    page = client.get(f"/inbox/{message.pk}/").content.decode()
    assert reverse("inbox:record_search", args=[message.pk]) in page and "Create a lead from this message" in page
    found = client.get(reverse("inbox:record_search", args=[message.pk]), {"q": "张伟"}, HTTP_HX_REQUEST="true")
    assert found.status_code == 200
    assert f'name="record_id" value="{customer.pk}"' in found.content.decode()
    assert "<html" not in found.content.decode()
    response = client.post(
        reverse("inbox:message_assign", args=[message.pk]),
        {"record_type": "customers.customer", "record_id": customer.pk, "version": message.version},
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.match_status, message.record_id) == (MatchStatus.MATCHED, customer.pk)
    assert Interaction.objects.filter(customer=customer).count() == 1
    assert "张伟" in client.get(f"/inbox/{message.pk}/").content.decode()


def test_filing_on_a_hidden_record_shows_the_reason(org: Any, settings: Any) -> None:
    settings.GUANXI_INBOX_CREATE_LEADS = False
    message = receive("who@example.com", "<h@x>")
    south = customer_with(org.rep_south, ContactKind.EMAIL, "south@example.com")
    response = client_for(org.manager_north).post(
        reverse("inbox:message_assign", args=[message.pk]), {"record_type": "customers.customer", "record_id": south.pk}
    )
    assert response.status_code == 422
    assert "Choose a record you can see." in response.content.decode()


def test_a_manager_creates_a_lead_and_retries_a_failed_message(org: Any, settings: Any) -> None:
    settings.GUANXI_INBOX_CREATE_LEADS = False
    message = receive("who@example.com", "<c@x>", from_name="陌生人")
    client = client_for(org.manager_north)
    response = client.post(reverse("inbox:message_create_lead", args=[message.pk]), {"name": "新客户"})
    assert response.status_code == 302
    message.refresh_from_db()
    assert Lead.objects.get(pk=message.record_id).name == "新客户"
    failed = receive("wang@example.com", "<e@x>")
    InboundMessage.objects.filter(pk=failed.pk).update(match_status=MatchStatus.ERROR, error="RuntimeError: x")
    page = client.get(f"/inbox/{failed.pk}/").content.decode()
    assert "RuntimeError: x" in page and reverse("inbox:message_retry", args=[failed.pk]) in page
    assert client.post(reverse("inbox:message_retry", args=[failed.pk])).status_code == 302
    failed.refresh_from_db()
    assert failed.match_status == MatchStatus.UNMATCHED
    conflict = client.post(reverse("inbox:message_retry", args=[failed.pk]))
    assert conflict.status_code == 409 and "Only a message that failed can be retried." in conflict.content.decode()

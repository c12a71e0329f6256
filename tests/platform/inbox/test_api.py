"""The inbound messages API: scoped lists with filters and cursors, details, and filing by hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.customers.models import Customer, Interaction, Lead
from guanxi.customers.models.choices import ContactKind
from guanxi.platform.inbox.draft import InboundDraft
from guanxi.platform.inbox.models import InboundMessage, MatchStatus
from guanxi.platform.inbox.services import inbound_receive
from tests.platform.inbox.conftest import client_for, customer_with

API = "/api/v1/inbound-messages"


@dataclass
class Inbox:
    north: Customer
    south: Customer
    to_north: InboundMessage
    to_south: InboundMessage
    unmatched: InboundMessage
    new_lead: InboundMessage


def receive(channel: str, sender: str, message_id: str, minutes_ago: int, **extra: Any) -> InboundMessage:
    provider = {"email": "webhook", "sms": "aliyun", "wechat": "wechat_mp"}[channel]
    draft = InboundDraft(
        channel=channel, provider=provider, provider_message_id=message_id, from_raw=sender,
        body_text=f"text of {message_id}", received_at=timezone.now() - dt.timedelta(minutes=minutes_ago), **extra,
    )  # fmt: skip
    return inbound_receive(draft=draft)[0]


@pytest.fixture
def inbox(org: Any, settings: Any) -> Inbox:
    north = customer_with(org.rep_north, ContactKind.EMAIL, "north@example.com")
    south = customer_with(org.rep_south, ContactKind.PHONE, "+8613812345678")
    settings.GUANXI_INBOX_LEAD_OWNER = "rep_north"
    new_lead = receive("wechat", "oNewPerson", "w1", 10)
    settings.GUANXI_INBOX_CREATE_LEADS = False
    return Inbox(
        north=north,
        south=south,
        to_north=receive("email", "north@example.com", "<n1@x>", 30, subject="Order"),
        to_south=receive("sms", "13812345678", "s1", 20),
        unmatched=receive("email", "stranger@example.com", "<u1@x>", 5),
        new_lead=new_lead,
    )


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_each_user_sees_the_messages_of_records_they_may_see(org: Any, inbox: Inbox) -> None:
    assert ids(client_for(org.rep_north).get(API)) == [inbox.new_lead.pk, inbox.to_north.pk]
    assert ids(client_for(org.rep_south).get(API)) == [inbox.to_south.pk]
    assert ids(client_for(org.manager_north).get(API)) == [inbox.unmatched.pk, inbox.new_lead.pk, inbox.to_north.pk]
    assert ids(client_for(org.admin).get(API)) == [
        inbox.unmatched.pk,
        inbox.new_lead.pk,
        inbox.to_south.pk,
        inbox.to_north.pk,
    ]
    response = client_for(org.analyst).get(API)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "permission_denied")


def test_list_items_show_the_record_and_mask_addresses_for_those_without_personal_data(org: Any, inbox: Inbox) -> None:
    item = client_for(org.admin).get(API, {"channel": "sms"}).json()["items"][0]
    assert item["from_address"] == "+8613812345678"
    assert item["record"] == {
        "type": "customers.customer", "id": inbox.south.pk, "label": inbox.south.name,
        "url": f"/customers/{inbox.south.pk}/",
    }  # fmt: skip
    assert (item["match_status"], item["preview"], item["channel"]) == ("matched", "text of s1", "sms")
    masked = client_for(org.marketer).get(API, {"channel": "sms"}).json()["items"][0]
    assert masked["from_address"] == "+86138****5678"


def test_filters_and_cursor_pages(org: Any, inbox: Inbox) -> None:
    admin = client_for(org.admin)
    assert ids(admin.get(API, {"status": "unmatched"})) == [inbox.unmatched.pk]
    assert ids(admin.get(API, {"channel": "email"})) == [inbox.unmatched.pk, inbox.to_north.pk]
    today = timezone.localdate().isoformat()
    assert len(ids(admin.get(API, {"received_from": today, "received_to": today}))) in (3, 4)  # around midnight
    first = admin.get(API, {"limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = admin.get(API, {"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [i["id"] for i in rest["items"]] == [inbox.to_north.pk] and rest["next_cursor"] is None
    bad = admin.get(API, {"status": "lost", "received_from": "yesterday"})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"status", "received_from"}


def test_the_list_runs_a_fixed_number_of_queries(org: Any, inbox: Inbox, django_assert_max_num_queries: Any) -> None:
    client = client_for(org.admin)
    client.get(API)  # warm the session and the user's role
    with CaptureQueriesContext(connection) as few:
        client.get(API)
    for n in range(6):
        receive("email", "north@example.com", f"<more-{n}@x>", 40 + n)
        receive("sms", "13812345678", f"more-{n}", 50 + n)
    with CaptureQueriesContext(connection) as many:
        assert len(ids(client.get(API))) == 16
    assert len(many.captured_queries) == len(few.captured_queries) <= 9


def test_detail_and_404_for_messages_out_of_sight(org: Any, inbox: Inbox) -> None:
    body = client_for(org.rep_north).get(f"{API}/{inbox.to_north.pk}").json()
    assert (body["body_text"], body["subject"], body["error"], body["attachments"]) == (
        "text of <n1@x>",
        "Order",
        "",
        [],
    )
    for message in (inbox.to_south, inbox.unmatched):
        response = client_for(org.rep_north).get(f"{API}/{message.pk}")
        assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    assert client_for(org.rep_north).get(f"{API}/99999999").status_code == 404


def test_a_manager_files_an_unmatched_message_through_the_api(org: Any, inbox: Inbox) -> None:
    client = client_for(org.manager_north)
    response = client.post(
        f"{API}/{inbox.unmatched.pk}/assign",
        {"record_type": "customers.customer", "record_id": inbox.north.pk, "version": inbox.unmatched.version},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["match_status"], body["record"]["id"], body["match_reason"]) == (
        "matched",
        inbox.north.pk,
        "filed_by_hand",
    )
    assert Interaction.objects.filter(customer=inbox.north).count() == 2
    assert ids(client_for(org.rep_north).get(API)) == [inbox.unmatched.pk, inbox.new_lead.pk, inbox.to_north.pk]


def test_assign_errors(org: Any, inbox: Inbox) -> None:
    client = client_for(org.manager_north)
    url = f"{API}/{inbox.unmatched.pk}/assign"
    hidden = client.post(
        url, {"record_type": "customers.customer", "record_id": inbox.south.pk}, content_type="application/json"
    )
    assert (hidden.status_code, hidden.json()["error"]["fields"]) == (
        422,
        {"record_id": ["Choose a record you can see."]},
    )
    stale = client.post(
        url,
        {"record_type": "customers.customer", "record_id": inbox.north.pk, "version": 99},
        content_type="application/json",
    )
    assert stale.status_code == 412
    unknown = client.post(
        url, {"record_type": "customers.customer", "record_id": 1, "x": 1}, content_type="application/json"
    )
    assert unknown.status_code == 422 and "x" in unknown.json()["error"]["fields"]
    rep = client_for(org.rep_north).post(
        f"{API}/{inbox.to_north.pk}/assign", {"record_type": "customers.customer", "record_id": inbox.north.pk},
        content_type="application/json",
    )  # fmt: skip
    assert rep.status_code == 403
    InboundMessage.objects.filter(pk=inbox.unmatched.pk).update(match_status=MatchStatus.PENDING)
    pending = client.post(
        url, {"record_type": "customers.customer", "record_id": inbox.north.pk}, content_type="application/json"
    )
    assert pending.status_code == 409


def test_create_lead_and_retry_through_the_api(org: Any, inbox: Inbox) -> None:
    client = client_for(org.manager_north)
    response = client.post(
        f"{API}/{inbox.unmatched.pk}/create-lead", {"name": "陌生人"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    lead = Lead.objects.get(pk=response.json()["record"]["id"])
    assert (lead.name, lead.email, lead.owner_id) == ("陌生人", "stranger@example.com", org.manager_north.pk)
    again = client.post(f"{API}/{inbox.unmatched.pk}/create-lead", {}, content_type="application/json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "conflict")
    not_failed = client.post(f"{API}/{inbox.to_north.pk}/retry")
    assert not_failed.status_code == 409
    InboundMessage.objects.filter(pk=inbox.to_north.pk).update(
        match_status=MatchStatus.ERROR, record_type="", record_id=None, error="Boom"
    )
    assert client_for(org.rep_north).get(f"{API}/{inbox.to_north.pk}").status_code == 404  # failed: managers only
    assert client.get(f"{API}/{inbox.to_north.pk}").json()["error"] == "Boom"
    assert client_for(org.rep_north).post(f"{API}/{inbox.to_north.pk}/retry").status_code == 404
    retried = client.post(f"{API}/{inbox.to_north.pk}/retry")
    assert (retried.status_code, retried.json()["match_status"], retried.json()["error"]) == (200, "matched", "")


def test_api_tokens_need_the_inbox_area(org: Any, inbox: Inbox) -> None:
    from django.test import Client

    from guanxi.platform.identity.services import api_token_create

    manager = org.actor("manager_north")
    _token, reader = api_token_create(
        actor=manager, name="read", scopes=["inbox:read", "customers:read", "leads:read"], expires_at=None
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {reader}")
    assert ids(client.get(API)) == [inbox.new_lead.pk, inbox.to_north.pk]  # unfiled ones need inbox:write
    refused = client.post(
        f"{API}/{inbox.to_north.pk}/assign", {"record_type": "customers.customer", "record_id": inbox.north.pk},
        content_type="application/json",
    )  # fmt: skip
    assert refused.status_code == 403
    _token, other = api_token_create(actor=manager, name="other", scopes=["customers:read"], expires_at=None)
    assert Client(HTTP_AUTHORIZATION=f"Bearer {other}").get(API).status_code == 403


def test_the_openapi_document_declares_the_inbox_routes(org: Any) -> None:
    schema = client_for(org.admin).get("/api/v1/openapi.json").json()
    operations = {
        (method, path): sorted(operation["responses"])
        for path, item in schema["paths"].items()
        if "inbound-messages" in path
        for method, operation in item.items()
    }
    read = ["200", "401", "403", "404", "422"]
    action = ["200", "400", "401", "403", "404", "409", "412", "422"]
    one = "/api/v1/inbound-messages/{inbound_message_id}"
    assert operations == {
        ("get", "/api/v1/inbound-messages"): read,
        ("get", one): read,
        ("post", f"{one}/assign"): action,
        ("post", f"{one}/create-lead"): action,
        ("post", f"{one}/retry"): action,
    }
    record_type = schema["components"]["schemas"]["AssignIn"]["properties"]["record_type"]
    assert record_type["enum"] == ["customers.customer", "customers.lead"]

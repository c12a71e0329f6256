"""The lead list writes one access-log entry per page that shows contact details in clear, like the customer
list; roles that see them masked write none."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from guanxi.platform.audit.models import AccessLogEntry
from tests.factories import LeadFactory


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_page_of_leads_shown_in_clear_is_logged_once(org: Any) -> None:
    with_phone = LeadFactory(owner=org.rep_north, team=org.north, phone="+8613812345678")
    LeadFactory(owner=org.rep_north, team=org.north, company_name="星河科技")  # nothing personal to show

    response = _client(org.rep_north).get(reverse("customers:lead_list"))

    assert response.status_code == 200
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.action, entry.object_type, entry.object_id, entry.record_count) == (
        org.rep_north,
        AccessLogEntry.Action.VIEW_PERSONAL_DATA,
        "customers.lead",
        with_phone.pk,
        1,
    )
    assert entry.detail == {"page": "lead_list"}


def test_masked_lead_list_writes_no_entry(org: Any) -> None:
    LeadFactory(owner=org.rep_north, team=org.north, phone="+8613812345678")

    response = _client(org.analyst).get(reverse("customers:lead_list"))

    assert response.status_code == 200
    assert "138 **** 5678" in response.content.decode()
    assert not AccessLogEntry.objects.exists()

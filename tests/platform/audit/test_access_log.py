"""The access log page: who saw unmasked personal data and who exported, for those with audit.view."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.platform.audit.models import AccessLogEntry
from guanxi.platform.audit.selectors import access_log_list
from guanxi.platform.audit.services import access_log_record
from guanxi.platform.core.errors import PermissionDenied

URL = "/settings/access-log/"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def entries(org: Any) -> list[AccessLogEntry]:
    customer, lead = "customers.customer", "customers.lead"
    return [
        access_log_record(actor=org.actor("rep_north"), action="view_personal_data", object_type=customer, object_id=7),
        access_log_record(
            actor=org.actor("manager_north", "api"), action="export", object_type=customer, record_count=250
        ),
        access_log_record(actor=org.actor("rep_south"), action="view_personal_data", object_type=lead, object_id=9),
    ]


def test_the_page_needs_audit_view(org: Any, entries: list[AccessLogEntry]) -> None:
    assert reverse("audit:access_log") == URL
    for name in ("rep_north", "manager_north", "marketer"):
        assert _client(getattr(org, name)).get(URL).status_code == 403
    with pytest.raises(PermissionDenied):
        access_log_list(actor=org.actor("manager_north"))


def test_admin_sees_views_and_exports_newest_first(org: Any, entries: list[AccessLogEntry]) -> None:
    response = _client(org.admin).get(URL)
    assert response.status_code == 200
    assert [e.pk for e in response.context["page"].items] == [e.pk for e in reversed(entries)]
    html = response.content.decode()
    assert "Viewed personal data" in html and "Exported records" in html and ">250<" in html


def test_the_log_filters_by_user_and_action(org: Any, entries: list[AccessLogEntry]) -> None:
    client = _client(org.admin)
    by_user = client.get(URL, {"user": org.rep_north.pk}).context["page"].items
    assert [e.pk for e in by_user] == [entries[0].pk]
    exports = client.get(URL, {"action": "export"}).context["page"].items
    assert [(e.user, e.channel, e.record_count) for e in exports] == [(org.manager_north, "api", 250)]
    both = client.get(URL, {"user": org.rep_south.pk, "action": "export"})
    assert (
        list(both.context["page"].items) == []
        and "No access has been logged for these filters." in both.content.decode()
    )
    bad = client.get(URL, {"action": "dance"})
    assert bad.status_code == 422


def test_the_page_runs_the_same_queries_for_10_or_50_entries(org: Any) -> None:
    client = _client(org.admin)

    def queries_with(rows: int) -> int:
        for _ in range(rows - AccessLogEntry.objects.count()):
            access_log_record(actor=org.actor("rep_north"), action="export", object_type="customers.customer")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        assert len(response.context["page"].items) == rows
        return len(queries)

    assert queries_with(10) == queries_with(50)


def test_older_entries_are_on_the_next_page(org: Any) -> None:
    AccessLogEntry.objects.bulk_create(
        [AccessLogEntry(user=org.rep_north, action="export", object_type="customers.customer") for _ in range(120)]
    )
    client = _client(org.admin)
    first = client.get(URL)
    second = client.get(URL + first.context["next_url"])
    assert len(first.context["page"].items) == 100 and len(second.context["page"].items) == 20
    assert second.context["next_url"] is None

"""The search results page and the as-you-type suggestions (an htmx partial)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.customers.services.customers import customer_create
from guanxi.platform.identity.services import actor_for_user


@pytest.fixture
def as_rep(client, org):
    client.force_login(org.rep_north)
    return client


def test_results_page_lists_groups_with_links(as_rep, data):
    response = as_rep.get("/search/", {"q": "zw"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Results for “zw”" in html
    assert f'href="/customers/{data.zhang_wei.pk}/">张伟</a>' in html
    assert "initials" in html
    assert "张薇" in html  # the lead group
    assert "王芳" not in html


@pytest.mark.parametrize(
    "typed", ["zhangwei", "zw", "张伟", "张", "5678", "138-1234-5678", "+86 138 1234 5678", "１３８１２３４５６７８"]
)
def test_results_page_finds_zhang_wei(as_rep, data, typed):
    html = as_rep.get("/search/", {"q": typed}).content.decode()
    assert f'href="/customers/{data.zhang_wei.pk}/">张伟</a>' in html


def test_results_page_without_query_shows_the_hint(as_rep, data):
    html = as_rep.get("/search/").content.decode()
    assert "Type a name, pinyin, initials, phone digits, email, company or card number." in html


def test_results_page_no_matches(as_rep, data):
    html = as_rep.get("/search/", {"q": "nothing-like-this"}).content.decode()
    assert html.count("No matches.") == 2


def test_results_page_masks_for_analyst(client, org, data):
    client.force_login(org.analyst)
    html = client.get("/search/", {"q": "5678"}).content.decode()
    assert "138 **** 5678" in html
    assert "138 1234 5678" not in html


def test_results_page_requires_login(client, data):
    response = client.get("/search/", {"q": "zw"})
    assert response.status_code == 302


def test_suggest_partial(as_rep, data):
    response = as_rep.get("/search/suggest/", {"q": "zw"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert '<div class="group">Customers</div>' in html
    assert f'<a href="/customers/{data.zhang_wei.pk}/"><strong>张伟</strong>' in html
    assert '<div class="group">Leads</div>' in html
    assert 'href="/search/?q=zw"' in html


def test_suggest_other_rep_sees_only_own(client, org, data):
    client.force_login(org.rep_south)
    html = client.get("/search/suggest/", {"q": "5678"}, headers={"HX-Request": "true"}).content.decode()
    assert html.strip() == '<div class="group">No matches</div>'


def test_suggest_empty_query_is_empty(as_rep, data):
    html = as_rep.get("/search/suggest/", {"q": ""}, headers={"HX-Request": "true"}).content.decode()
    assert html.strip() == ""


def _count(client, q: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/search/", {"q": q}).status_code == 200
    return len(ctx.captured_queries)


def test_results_page_query_count_constant(as_rep, org):
    rep = actor_for_user(org.rep_north)
    for i in range(10):
        customer_create(actor=rep, data={"name": f"孙{i}"})
    ten = _count(as_rep, "孙")
    for i in range(10, 50):
        customer_create(actor=rep, data={"name": f"孙{i}"})
    assert _count(as_rep, "孙") == ten

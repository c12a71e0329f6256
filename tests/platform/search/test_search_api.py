"""GET /api/v1/search: groups per kind, visibility, masking, validation, tokens and constant query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.customers.services.customers import customer_create
from guanxi.platform.identity.services import actor_for_user, api_token_create

URL = "/api/v1/search"


@pytest.fixture
def as_rep(client, org):
    client.force_login(org.rep_north)
    return client


def groups(response) -> dict[str, list[tuple[str, str]]]:
    return {g["kind"]: [(h["title"], h["matched_on"]) for h in g["hits"]] for g in response.json()["groups"]}


def test_search_returns_groups_per_kind(as_rep, data):
    response = as_rep.get(URL, {"q": "zhangwei"})
    assert response.status_code == 200
    body = response.json()
    assert body["q"] == "zhangwei"
    assert [(g["kind"], g["label"]) for g in body["groups"]] == [("customer", "Customers"), ("lead", "Leads")]
    assert groups(response) == {
        "customer": [("张伟", "pinyin"), ("张伟国", "pinyin")],
        "lead": [("张薇", "pinyin")],
    }
    first = body["groups"][0]["hits"][0]
    assert first == {
        "kind": "customer",
        "id": data.zhang_wei.pk,
        "title": "张伟",
        "subtitle": f"华为技术有限公司 · 138 1234 5678 · {data.zhang_wei.owner}",
        "url": f"/customers/{data.zhang_wei.pk}/",
        "matched_on": "pinyin",
        "extra": {"kind": "person", "in_pool": "false"},
    }


@pytest.mark.parametrize(
    "typed", ["zw", "张伟", "5678", "+86 138 1234 5678", "１３８１２３４５６７８", "zhang.wei@", "VIP0001"]
)
def test_search_finds_zhang_wei_by_any_key(as_rep, data, typed):
    hits = groups(as_rep.get(URL, {"q": typed}))["customer"]
    assert hits[0][0] == "张伟"


def test_limit_per_kind(as_rep, data):
    assert groups(as_rep.get(URL, {"q": "zhangwei", "limit": 1}))["customer"] == [("张伟", "pinyin")]


@pytest.mark.parametrize("q", ["", "   "])
def test_empty_query_is_422_naming_q(as_rep, data, q):
    response = as_rep.get(URL, {"q": q})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert list(response.json()["error"]["fields"]) == ["q"]


def test_missing_query_is_422(as_rep, data):
    response = as_rep.get(URL)
    assert response.status_code == 422
    assert "q" in response.json()["error"]["fields"]


@pytest.mark.parametrize("limit", ["0", "51", "many"])
def test_bad_limit_is_422(as_rep, data, limit):
    response = as_rep.get(URL, {"q": "zw", "limit": limit})
    assert response.status_code == 422
    assert "limit" in response.json()["error"]["fields"]


def test_anonymous_is_401(client, data):
    response = client.get(URL, {"q": "zw"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_other_rep_sees_nothing_of_north(client, org, data):
    client.force_login(org.rep_south)
    assert groups(client.get(URL, {"q": "zhangwei"})) == {"customer": [], "lead": [("张卫", "pinyin")]}
    assert groups(client.get(URL, {"q": "5678"})) == {"customer": [], "lead": []}


def test_pool_customer_found_by_other_rep(client, org, data):
    client.force_login(org.rep_south)
    assert groups(client.get(URL, {"q": "zm"}))["customer"] == [("赵敏", "initials")]


def test_masked_for_analyst(client, org, data):
    client.force_login(org.analyst)
    body = client.get(URL, {"q": "5678"}).json()
    [hit] = body["groups"][0]["hits"]
    assert hit["subtitle"] == f"华为技术有限公司 · 138 **** 5678 · {data.zhang_wei.owner}"


def test_token_scopes_limit_the_groups(client, org, data):
    _token, secret = api_token_create(
        actor=actor_for_user(org.rep_north), name="crm feed", scopes=["customers:read"], expires_at=None
    )
    response = client.get(URL, {"q": "zhangwei"}, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert groups(response) == {"customer": [("张伟", "pinyin"), ("张伟国", "pinyin")]}


def test_declared_in_openapi(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/search"]["get"]
    assert set(operation["responses"]) == {"200", "400", "401", "403", "422"}
    assert {p["name"] for p in operation["parameters"]} == {"q", "limit"}


def _count_queries(client, q: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, {"q": q, "limit": 50})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_query_count_is_the_same_for_10_and_50_hits(as_rep, org):
    rep = actor_for_user(org.rep_north)
    for i in range(10):
        customer_create(
            actor=rep, data={"name": f"刘{i}", "contact_points": [{"kind": "phone", "value": f"1380000{i:04d}"}]}
        )
    ten = _count_queries(as_rep, "刘")
    for i in range(10, 50):
        customer_create(
            actor=rep, data={"name": f"刘{i}", "contact_points": [{"kind": "phone", "value": f"1380000{i:04d}"}]}
        )
    assert len(as_rep.get(URL, {"q": "刘", "limit": 50}).json()["groups"][0]["hits"]) == 50
    assert _count_queries(as_rep, "刘") == ten

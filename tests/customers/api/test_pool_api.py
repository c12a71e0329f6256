"""The pool and handover API: /api/v1/pools, /pool/customers, claim, return, pool history, handovers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from guanxi.customers.models import Customer, Pool, PoolEvent
from guanxi.customers.models.choices import PoolAction
from guanxi.platform.identity.services import api_token_create
from tests.customers.pool_data import make_pool, owned_customer, pool_customer
from tests.factories import CustomerFactory, actor

API = "/api/v1"
SCOPES = ["customers:read", "customers:write", "pool:read", "pool:write"]


class Api:
    def __init__(self, token: str) -> None:
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(f"{API}{path}", params or {})

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(f"{API}{path}", body or {}, content_type="application/json")

    def patch(self, path: str, body: Any, **headers: str) -> Any:
        return self.client.patch(f"{API}{path}", body, content_type="application/json", headers=headers)


@pytest.fixture
def as_user(org: Any) -> Callable[[str], Api]:
    def make(username: str, scopes: list[str] | None = None) -> Api:
        _token, secret = api_token_create(
            actor=actor(getattr(org, username)), name="pool tests", scopes=scopes or SCOPES, expires_at=None
        )
        return Api(secret)

    return make


def test_list_pool_customers_pages_with_a_cursor(org: Any, as_user: Callable[[str], Api]) -> None:
    pool = make_pool(name="公司公海", is_default=True)
    customers = [pool_customer(pool, days_in_pool=days) for days in (1, 2, 3)]
    CustomerFactory(owner=org.rep_south)

    first = as_user("rep_north").get("/pool/customers", {"limit": 2})
    body = first.json()

    assert first.status_code == 200
    assert [row["id"] for row in body["items"]] == [customers[0].pk, customers[1].pk]
    assert body["items"][0]["pool_name"] == "公司公海"
    assert body["items"][0]["claimable_from"] is None
    second = as_user("rep_north").get("/pool/customers", {"limit": 2, "cursor": body["next_cursor"]}).json()
    assert [row["id"] for row in second["items"]] == [customers[2].pk]
    assert second["next_cursor"] is None


def test_list_pool_customers_query_count_does_not_grow_with_rows(org: Any, as_user: Callable[[str], Api]) -> None:
    pool = make_pool(is_default=True)
    client = as_user("rep_north")
    for _ in range(10):
        customer = owned_customer(org.rep_south, owned_days=3)
        customer.owner, customer.pool = None, pool
        customer.save()
        PoolEvent.objects.create(customer=customer, pool=pool, action=PoolAction.RETURNED, from_user=org.rep_south)
    client.get("/pool/customers")  # warm caches (content types, token lookup paths)
    with CaptureQueriesContext(connection) as ten:
        assert len(client.get("/pool/customers", {"limit": 100}).json()["items"]) == 10
    for _ in range(40):
        pool_customer(pool)
    with CaptureQueriesContext(connection) as fifty:
        assert len(client.get("/pool/customers", {"limit": 100}).json()["items"]) == 50

    assert len(ten.captured_queries) == len(fifty.captured_queries)


def test_list_pool_customers_rejects_a_bad_filter(as_user: Callable[[str], Api]) -> None:
    response = as_user("rep_north").get("/pool/customers", {"pool_id": "abc"})

    assert response.status_code == 422
    assert "pool_id" in response.json()["error"]["fields"]


def test_claim_makes_me_the_owner(org: Any, as_user: Callable[[str], Api]) -> None:
    customer = pool_customer(make_pool(is_default=True))

    response = as_user("rep_north").post(f"/pool/customers/{customer.pk}/claim")

    assert response.status_code == 200
    body = response.json()
    assert (body["owner_id"], body["team_id"], body["pool_id"]) == (org.rep_north.pk, org.north.pk, None)


def test_second_claim_answers_409(org: Any, as_user: Callable[[str], Api]) -> None:
    customer = pool_customer(make_pool(is_default=True))
    as_user("rep_north").post(f"/pool/customers/{customer.pk}/claim")

    response = as_user("rep_south").post(f"/pool/customers/{customer.pk}/claim")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_claimed"


def test_claim_over_the_limit_answers_409_with_the_reason(org: Any, as_user: Callable[[str], Api]) -> None:
    pool = make_pool(is_default=True, max_owned_per_rep=1)
    CustomerFactory(owner=org.rep_north)
    customer = pool_customer(pool)

    response = as_user("rep_north").post(f"/pool/customers/{customer.pk}/claim")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "pool_claim_limit"
    assert "at most 1 per rep" in error["message"]


def test_claim_of_another_reps_customer_is_404(org: Any, as_user: Callable[[str], Api]) -> None:
    make_pool(is_default=True)
    theirs = CustomerFactory(owner=org.rep_south)

    assert as_user("rep_north").post(f"/pool/customers/{theirs.pk}/claim").status_code == 404


def test_south_rep_cannot_claim_from_the_north_pool(org: Any, as_user: Callable[[str], Api]) -> None:
    customer = pool_customer(make_pool(team=org.north), team=org.north)
    client = as_user("rep_south")

    assert client.get("/pool/customers").json()["items"] == []
    response = client.post(f"/pool/customers/{customer.pk}/claim")
    assert response.status_code == 404  # another team's pool is invisible, like any record one may not see
    assert client.get(f"/customers/{customer.pk}").status_code == 404


def test_return_to_pool_needs_a_reason(org: Any, as_user: Callable[[str], Api]) -> None:
    make_pool(is_default=True)
    customer = owned_customer(org.rep_north, owned_days=2)
    client = as_user("rep_north")

    missing = client.post(f"/customers/{customer.pk}/return-to-pool", {"reason": "  "})
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"] == {"reason": ["Say why."]}
    ok = client.post(f"/customers/{customer.pk}/return-to-pool", {"reason": "客户无意向"})
    assert ok.status_code == 200
    assert ok.json()["owner_id"] is None and ok.json()["pool_id"] is not None


def test_return_of_another_reps_customer_is_404(org: Any, as_user: Callable[[str], Api]) -> None:
    make_pool(is_default=True)
    theirs = owned_customer(org.rep_south, owned_days=2)

    assert as_user("rep_north").post(f"/customers/{theirs.pk}/return-to-pool", {"reason": "x"}).status_code == 404


def test_bulk_return_counts_what_moved(org: Any, as_user: Callable[[str], Api]) -> None:
    make_pool(is_default=True)
    mine = [owned_customer(org.rep_north, owned_days=2) for _ in range(2)]
    theirs = owned_customer(org.rep_south, owned_days=2)

    response = as_user("rep_north").post(
        "/pool/returns", {"customer_ids": [c.pk for c in [*mine, theirs]], "reason": "清理"}
    )

    assert response.status_code == 200
    assert response.json() == {"returned": 2}


def test_pool_history_lists_every_move(org: Any, as_user: Callable[[str], Api]) -> None:
    pool = make_pool(name="公司公海", is_default=True)
    customer = owned_customer(org.rep_north, owned_days=2)
    client = as_user("rep_north")
    client.post(f"/customers/{customer.pk}/return-to-pool", {"reason": "无意向"})
    as_user("rep_south").post(f"/pool/customers/{customer.pk}/claim")

    items = as_user("rep_south").get(f"/customers/{customer.pk}/pool-history").json()["items"]

    assert [(i["action"], i["pool_name"], i["reason"]) for i in items] == [
        ("claimed", "公司公海", ""), ("returned", "公司公海", "无意向"),
    ]  # fmt: skip
    assert items[1]["from_user_id"] == org.rep_north.pk
    assert items[0]["to_user_id"] == org.rep_south.pk
    assert client.get(f"/customers/{customer.pk}/pool-history").status_code == 404
    assert pool.pk == items[0]["pool_id"]


def test_pools_create_list_and_patch_with_version(org: Any, as_user: Callable[[str], Api]) -> None:
    admin = as_user("admin")
    created = admin.post("/pools", {"name": "华北公海", "team_id": org.north.pk, "max_owned_per_rep": 50})
    assert created.status_code == 201
    pool_id = created.json()["id"]
    assert created.json()["team_name"] == org.north.name

    assert admin.patch(f"/pools/{pool_id}", {"cooldown_days": 3}).status_code == 428
    patched = admin.patch(f"/pools/{pool_id}", {"cooldown_days": 3}, **{"If-Match": '"1"'})
    assert patched.status_code == 200
    assert (patched.json()["cooldown_days"], patched.json()["version"]) == (3, 2)
    stale = admin.patch(f"/pools/{pool_id}", {"cooldown_days": 4, "version": 1})
    assert stale.status_code == 412
    assert [p["name"] for p in as_user("rep_north").get("/pools").json()["items"]] == ["华北公海"]
    assert as_user("rep_south").get("/pools").json()["items"] == []


def test_pool_create_names_bad_fields_and_needs_manage(org: Any, as_user: Callable[[str], Api]) -> None:
    bad = as_user("admin").post("/pools", {"name": "", "cooldown_days": 999})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"name", "cooldown_days"}
    assert as_user("rep_north").post("/pools", {"name": "我的"}).status_code == 403
    assert not Pool.objects.exists()


def test_handover_through_the_api(org: Any, as_user: Callable[[str], Api]) -> None:
    CustomerFactory.create_batch(2, owner=org.rep_north)
    client = as_user("manager_north")

    response = client.post(
        "/handovers", {"from_user_id": org.rep_north.pk, "to_user_id": org.rep_north_sub.pk, "reason": "离职"}
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["customers_moved"], body["to_user_id"], body["reason"]) == (2, org.rep_north_sub.pk, "离职")
    assert Customer.objects.filter(owner=org.rep_north_sub).count() == 2
    assert [h["id"] for h in client.get("/handovers").json()["items"]] == [body["id"]]


def test_handover_errors(org: Any, as_user: Callable[[str], Api]) -> None:
    same = as_user("admin").post(
        "/handovers", {"from_user_id": org.rep_north.pk, "to_user_id": org.rep_north.pk, "reason": "x"}
    )
    assert same.status_code == 422
    assert "to_user_id" in same.json()["error"]["fields"]
    denied = as_user("rep_north").post(
        "/handovers", {"from_user_id": org.rep_south.pk, "to_user_id": org.rep_north.pk, "reason": "x"}
    )
    assert denied.status_code == 403
    assert as_user("rep_north").get("/handovers").status_code == 403


def test_pool_routes_need_a_token_or_session() -> None:
    assert Client().get(f"{API}/pool/customers").status_code == 401


@pytest.mark.django_db
def test_openapi_declares_the_pool_routes_and_their_errors() -> None:
    schema = Client().get(f"{API}/openapi.json").json()

    claim = schema["paths"][f"{API}/pool/customers/{{customer_id}}/claim"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(claim["responses"])
    assert f"{API}/customers/{{customer_id}}/return-to-pool" in schema["paths"]
    assert set(schema["paths"][f"{API}/handovers"]) == {"get", "post"}
    assert set(schema["paths"][f"{API}/pools/{{pool_id}}"]["patch"]["responses"]) >= {"200", "412", "428"}

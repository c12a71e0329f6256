"""Pool pages: the pool with claim buttons, the 360° pool panel, returning with a reason, handover, settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.customers.models import Customer, Handover, Pool, PoolEvent
from guanxi.customers.models.choices import PoolAction
from tests.customers.pool_data import make_pool, owned_customer, pool_customer
from tests.factories import CustomerFactory, TaskFactory

HX = {"HX-Request": "true"}


@pytest.fixture
def login(org: Any) -> Callable[[str], Client]:
    def make(username: str) -> Client:
        client = Client()
        client.force_login(getattr(org, username))
        return client

    return make


# --- the pool page -----------------------------------------------------------------------------------


def test_pool_page_lists_customers_with_claim_buttons_and_my_allowance(
    org: Any, login: Callable[[str], Client]
) -> None:
    pool = make_pool(name="公司公海", is_default=True, max_owned_per_rep=5, cooldown_days=3)
    waiting = pool_customer(pool, name="张伟")
    CustomerFactory(owner=org.rep_north)

    response = login("rep_north").get(reverse("customers:pool"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "张伟" in html
    assert reverse("customers:pool_claim", args=[waiting.pk]) in html
    assert "You own 1 customer." in html
    assert "you may claim 4 more" in html
    assert "3-day cool-down for previous owners" in html


def test_pool_page_hides_pools_of_other_teams(org: Any, login: Callable[[str], Client]) -> None:
    pool_customer(make_pool(name="华北公海", team=org.north), name="北方客户")

    html = login("rep_south").get(reverse("customers:pool")).content.decode()

    assert "北方客户" not in html
    assert "The pool is empty." in html


def test_pool_page_shows_the_cooldown_instead_of_the_claim_button(org: Any, login: Callable[[str], Client]) -> None:
    pool = make_pool(is_default=True, cooldown_days=7)
    customer = owned_customer(org.rep_north, owned_days=3)
    login("rep_north").post(reverse("customers:customer_return_to_pool", args=[customer.pk]), {"reason": "无意向"})

    html = login("rep_north").get(reverse("customers:pool")).content.decode()

    assert reverse("customers:pool_claim", args=[customer.pk]) not in html
    assert "From 20" in html
    assert pool.pk == Customer.objects.get(pk=customer.pk).pool_id


def test_pool_page_bad_filter_answers_422(login: Callable[[str], Client]) -> None:
    response = login("rep_north").get(reverse("customers:pool"), {"entered_from": "yesterday"})

    assert response.status_code == 422
    assert "Enter a date as YYYY-MM-DD." in response.content.decode()


def test_pool_page_needs_pool_view(login: Callable[[str], Client]) -> None:
    assert login("service").get(reverse("customers:pool")).status_code == 403


def test_pool_page_query_count_does_not_grow_with_rows(org: Any, login: Callable[[str], Client]) -> None:
    pool = make_pool(is_default=True, cooldown_days=2)
    client = login("rep_north")
    for _ in range(10):
        customer = pool_customer(pool)
        PoolEvent.objects.create(customer=customer, pool=pool, action=PoolAction.RETURNED, from_user=org.rep_south)
    client.get(reverse("customers:pool"))
    with CaptureQueriesContext(connection) as ten:
        assert client.get(reverse("customers:pool")).content.decode().count('id="pool-row-') == 10
    for _ in range(40):
        pool_customer(pool)
    with CaptureQueriesContext(connection) as fifty:
        assert client.get(reverse("customers:pool")).content.decode().count('id="pool-row-') == 50

    assert len(ten.captured_queries) == len(fifty.captured_queries)


# --- claim -------------------------------------------------------------------------------------------


def test_claim_with_htmx_replaces_the_row_and_refreshes_the_allowance(org: Any, login: Callable[[str], Client]) -> None:
    pool = make_pool(is_default=True, max_claims_per_day=3)
    customer = pool_customer(pool, name="王芳")

    response = login("rep_north").post(reverse("customers:pool_claim", args=[customer.pk]), headers=HX)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="pool-row-{customer.pk}"' in html
    assert "王芳 is now your customer." in html
    assert 'id="pool-allowance"' in html and 'hx-swap-oob="true"' in html
    assert "you may claim 2 more" in html
    assert Customer.objects.get(pk=customer.pk).owner_id == org.rep_north.pk


def test_claim_already_taken_shows_the_reason_in_the_row(org: Any, login: Callable[[str], Client]) -> None:
    customer = pool_customer(make_pool(is_default=True))
    login("rep_south").post(reverse("customers:pool_claim", args=[customer.pk]), headers=HX)

    response = login("rep_north").post(reverse("customers:pool_claim", args=[customer.pk]), headers=HX)

    assert response.status_code == 409
    assert "Someone else has just claimed this customer." in response.content.decode()


def test_claim_without_htmx_redirects_to_the_customer(org: Any, login: Callable[[str], Client]) -> None:
    customer = pool_customer(make_pool(is_default=True))

    response = login("rep_north").post(reverse("customers:pool_claim", args=[customer.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("customers:customer_detail", args=[customer.pk])


def test_claim_refused_without_htmx_goes_back_to_the_pool(org: Any, login: Callable[[str], Client]) -> None:
    pool = make_pool(is_default=True, max_owned_per_rep=1)
    CustomerFactory(owner=org.rep_north)
    customer = pool_customer(pool)
    client = login("rep_north")

    response = client.post(reverse("customers:pool_claim", args=[customer.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("customers:pool")
    assert "at most 1 per rep" in response.content.decode()


def test_claim_needs_post(login: Callable[[str], Client]) -> None:
    assert login("rep_north").get(reverse("customers:pool_claim", args=[1])).status_code == 405


# --- the 360° panel and returning --------------------------------------------------------------------


def test_panel_of_a_pool_customer_offers_the_claim(org: Any, login: Callable[[str], Client]) -> None:
    customer = pool_customer(make_pool(name="公司公海", is_default=True))

    html = (
        login("rep_north")
        .get(reverse("customers:customer_pool_panel", args=[customer.pk]), headers=HX)
        .content.decode()
    )

    assert 'id="customer-pool-panel"' in html
    assert "In the pool" in html and "公司公海" in html
    assert "Claim this customer" in html
    assert "Return to the pool" not in html


def test_claim_from_the_panel_re_renders_the_panel(org: Any, login: Callable[[str], Client]) -> None:
    customer = pool_customer(make_pool(is_default=True))

    response = login("rep_north").post(
        reverse("customers:pool_claim", args=[customer.pk]), {"from": "panel"}, headers=HX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "You are now the owner of this customer." in html
    assert "Claimed" in html  # the history line
    assert "Return to the pool" in html
    assert "customerOwnershipChanged" in response["HX-Trigger"]
    assert response["HX-Refresh"] == "true"


def test_panel_of_my_customer_offers_the_return_and_shows_history(org: Any, login: Callable[[str], Client]) -> None:
    make_pool(is_default=True)
    customer = owned_customer(org.rep_north, owned_days=2)
    PoolEvent.objects.create(customer=customer, action=PoolAction.ASSIGNED, from_user=org.rep_south,
                             to_user=org.rep_north, actor=org.manager_north)  # fmt: skip

    html = (
        login("rep_north")
        .get(reverse("customers:customer_pool_panel", args=[customer.pk]), headers=HX)
        .content.decode()
    )

    assert "Return to the pool" in html
    assert "Assigned" in html and str(org.manager_north) in html


def test_panel_of_another_reps_customer_is_404(org: Any, login: Callable[[str], Client]) -> None:
    theirs = CustomerFactory(owner=org.rep_south)

    assert login("rep_north").get(reverse("customers:customer_pool_panel", args=[theirs.pk])).status_code == 404
    assert (
        login("rep_north")
        .post(reverse("customers:customer_return_to_pool", args=[theirs.pk]), {"reason": "x"})
        .status_code
        == 404
    )


def test_return_form_shows_the_error_next_to_the_reason(org: Any, login: Callable[[str], Client]) -> None:
    make_pool(is_default=True)
    customer = owned_customer(org.rep_north, owned_days=2)
    client = login("rep_north")
    url = reverse("customers:customer_return_to_pool", args=[customer.pk])

    form = client.get(url, headers=HX)
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    response = client.post(url, {"reason": ""}, headers=HX)

    assert response.status_code == 422
    html = response.content.decode()
    assert "has-error" in html and "Say why." in html
    assert Customer.objects.get(pk=customer.pk).owner_id == org.rep_north.pk


def test_return_with_htmx_re_renders_the_panel(org: Any, login: Callable[[str], Client]) -> None:
    pool = make_pool(name="公司公海", is_default=True)
    customer = owned_customer(org.rep_north, owned_days=2)

    response = login("rep_north").post(
        reverse("customers:customer_return_to_pool", args=[customer.pk]), {"reason": "客户无意向"}, headers=HX
    )

    assert response.status_code == 200
    assert response["HX-Retarget"] == "#customer-pool-panel"
    assert response["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert "Returned to the pool." in html and "客户无意向" in html
    assert Customer.objects.get(pk=customer.pk).pool_id == pool.pk


def test_return_without_htmx_redirects_and_without_pool_explains(org: Any, login: Callable[[str], Client]) -> None:
    customer = owned_customer(org.rep_north, owned_days=2)
    client = login("rep_north")
    url = reverse("customers:customer_return_to_pool", args=[customer.pk])

    no_pool = client.post(url, {"reason": "无意向"})
    assert no_pool.status_code == 409
    assert "There is no public pool" in no_pool.content.decode()
    make_pool(is_default=True)
    done = client.post(url, {"reason": "无意向"})
    assert done.status_code == 302
    assert done["Location"] == reverse("customers:customer_detail", args=[customer.pk])
    assert client.get(url).status_code == 200  # the full page form still renders for a customer in the pool


# --- handover ----------------------------------------------------------------------------------------


def test_handover_page_previews_the_counts_then_runs(org: Any, login: Callable[[str], Client]) -> None:
    CustomerFactory.create_batch(3, owner=org.rep_north)
    TaskFactory.create_batch(2, assignee=org.rep_north)
    client = login("manager_north")
    data = {"from_user": org.rep_north.pk, "target": "user", "to_user": org.rep_north_sub.pk, "reason": "离职"}

    assert client.get(reverse("customers:handover")).status_code == 200
    preview = client.post(reverse("customers:handover"), data)
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "3 customers" in html and "2 open tasks" in html and "0 leads" in html
    assert "Hand over now" in html
    assert Customer.objects.filter(owner=org.rep_north).count() == 3

    done = client.post(reverse("customers:handover"), {**data, "confirm": "1"}, follow=True)

    assert done.redirect_chain[-1][0] == reverse("customers:handover")
    assert "Handed over 3 customers, 2 open tasks and 0 leads." in done.content.decode()
    assert Customer.objects.filter(owner=org.rep_north_sub).count() == 3
    assert Handover.objects.get().customers_moved == 3


def test_handover_to_a_pool_from_the_page(org: Any, login: Callable[[str], Client]) -> None:
    pool = make_pool(name="华北公海", team=org.north)
    CustomerFactory.create_batch(2, owner=org.rep_north)
    data = {"from_user": org.rep_north.pk, "target": "pool", "to_pool": pool.pk, "reason": "离职", "confirm": "1"}

    response = login("manager_north").post(reverse("customers:handover"), data)

    assert response.status_code == 302
    assert Customer.objects.filter(pool=pool, owner__isnull=True).count() == 2


def test_handover_page_shows_errors_next_to_the_fields(org: Any, login: Callable[[str], Client]) -> None:
    data = {"from_user": org.rep_north.pk, "target": "user", "to_user": org.rep_north.pk, "reason": ""}

    response = login("manager_north").post(reverse("customers:handover"), data)

    assert response.status_code == 422
    html = response.content.decode()
    assert "Choose someone other than the user handing over." in html
    assert "Say why." in html
    assert "Hand over now" not in html


def test_handover_page_needs_the_permission(login: Callable[[str], Client]) -> None:
    assert login("rep_north").get(reverse("customers:handover")).status_code == 403


# --- pool settings -----------------------------------------------------------------------------------


def test_pool_settings_lists_pools_for_managers_only(org: Any, login: Callable[[str], Client]) -> None:
    make_pool(name="公司公海", is_default=True, return_after_days_without_follow_up=30)

    html = login("manager_north").get(reverse("customers:pool_settings")).content.decode()

    assert "公司公海" in html and "no follow-up for 30 days" in html
    assert login("rep_north").get(reverse("customers:pool_settings")).status_code == 403


def test_pool_create_form_validates_and_saves(org: Any, login: Callable[[str], Client]) -> None:
    client = login("admin")
    bad = client.post(reverse("customers:pool_create"), {"name": "", "cooldown_days": "-2", "is_active": "on"})
    assert bad.status_code == 422
    html = bad.content.decode()
    assert "Enter a name." in html and "Enter a number of days from 0 to 365." in html

    good = client.post(
        reverse("customers:pool_create"),
        {"name": "华北公海", "team": org.north.pk, "max_owned_per_rep": "30", "cooldown_days": "7",
         "return_after_days_without_deal": "90", "is_active": "on", "is_default": "on"},
    )  # fmt: skip

    assert good.status_code == 302
    pool = Pool.objects.get()
    assert (pool.team_id, pool.max_owned_per_rep, pool.cooldown_days, pool.is_default) == (org.north.pk, 30, 7, True)
    assert pool.return_after_days_without_deal == 90


def test_pool_edit_refuses_a_stale_version(org: Any, login: Callable[[str], Client]) -> None:
    pool = make_pool(name="公司公海")
    client = login("admin")
    url = reverse("customers:pool_edit", args=[pool.pk])
    assert client.get(url).status_code == 200

    saved = client.post(url, {"name": "公司公海", "cooldown_days": "3", "is_active": "on", "version": "1"})
    stale = client.post(url, {"name": "公司公海", "cooldown_days": "4", "is_active": "on", "version": "1"})

    assert saved.status_code == 302
    assert stale.status_code == 412
    assert Pool.objects.get().cooldown_days == 3

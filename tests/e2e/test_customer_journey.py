"""End-to-end: a sales rep's day in real Chromium, through the real pages.

Only the starting data (the rep, a team, a pool with a customer waiting in it) is made with factories;
everything after the sign-in is done by clicking and typing, as a person would.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import translation

from guanxi.customers.models import Customer, Interaction
from guanxi.platform.identity.models import User
from tests.customers.pool_data import make_pool, pool_customer
from tests.factories import TeamFactory, UserFactory, role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"  # the password every factory user gets


@pytest.fixture
def rep(db: None) -> User:
    team = TeamFactory(name="华北销售")
    return UserFactory(username="li.na", display_name="李娜", team=team, role=role("sales_rep"))


def sign_in(page: Any, live_server: Any, user: User) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("heading", name="Workbench").wait_for()


def global_search(page: Any) -> Any:
    """The search box in the top bar (the customer list has a search filter of its own)."""
    return page.get_by_role("banner").get_by_role("searchbox", name="Search")


def test_rep_creates_a_customer_logs_a_follow_up_finds_it_by_initials_and_claims_from_the_pool(
    page: Any, live_server: Any, rep: User
) -> None:
    from playwright.sync_api import expect

    pool = make_pool(name="公司公海", is_default=True, max_owned_per_rep=10)
    waiting = pool_customer(pool, name="王芳", days_in_pool=3)

    sign_in(page, live_server, rep)

    # Create a customer: a bad phone number is refused, with the message next to the phone field.
    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_role("link", name=re.compile("^New customer")).click()
    expect(page.get_by_role("heading", name="New customer")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("张伟")
    page.get_by_label("Phone", exact=True).fill("12345")
    page.get_by_role("button", name="Create customer").click()

    phone_field = page.locator(".field.has-error", has=page.get_by_label("Phone", exact=True))
    expect(phone_field.locator(".error")).to_have_text("“12345” is not a valid phone number.")
    expect(page.get_by_label("Phone", exact=True)).to_have_value("12345")
    assert list(Customer.objects.values_list("name", flat=True)) == ["王芳"]  # nothing half-written

    # Fixed: the customer is created and the 360° page opens.
    page.get_by_label("Phone", exact=True).fill("138 0013 8000")
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("张伟")
    customer = Customer.objects.get(name="张伟")
    assert page.url == f"{live_server.url}/customers/{customer.pk}/"
    expect(page.locator("#contact-points")).to_contain_text("138")

    # Log a follow-up with the inline form on the timeline; it appears without a page load.
    timeline = page.locator(f"#timeline-customer-{customer.pk}")
    expect(timeline.get_by_text("No interactions yet. Log the first one above.")).to_be_visible()
    timeline.get_by_label("Subject").fill("首次电话沟通")
    timeline.get_by_label("What happened").fill("客户对企业版感兴趣，下周再联系。")
    timeline.get_by_role("button", name="Log the follow-up").click()
    item = page.locator(f"#timeline-customer-{customer.pk} .timeline-item").first
    expect(item).to_contain_text("首次电话沟通")
    expect(item).to_contain_text("客户对企业版感兴趣")
    expect(item).to_contain_text("李娜")
    assert Interaction.objects.filter(customer=customer, subject="首次电话沟通", user=rep).count() == 1

    # Find the customer again by the initials of the name's pinyin, from the box at the top.
    page.get_by_role("link", name="Workbench").click()
    search = global_search(page)
    search.press_sequentially("zw")
    suggestion = page.locator("#search-suggest").get_by_role("link", name=re.compile("张伟"))
    expect(suggestion).to_be_visible()
    suggestion.click()
    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("张伟")

    # Claim a customer from the public pool.
    page.get_by_role("link", name="Public pool").click()
    expect(page.get_by_role("heading", name="Public pool")).to_be_visible()
    row = page.locator(f"#pool-row-{waiting.pk}")
    expect(row).to_contain_text("王芳")
    row.get_by_role("button", name="Claim").click()
    expect(row).to_contain_text("王芳 is now your customer.")
    expect(page.locator("#pool-allowance")).to_contain_text("You own 2 customers.")

    row.get_by_role("link", name="Open").click()
    page.wait_for_url(f"{live_server.url}/customers/{waiting.pk}/")
    expect(page.locator(".customer-head .subtitle")).to_contain_text("Owner: 李娜")
    panel = page.locator("#customer-pool-panel")
    expect(panel).to_contain_text("李娜")
    expect(panel.locator(".badge-ok", has_text="You")).to_be_visible()
    waiting.refresh_from_db()
    assert (waiting.owner_id, waiting.pool_id) == (rep.pk, None)


@pytest.mark.parametrize("saved_language", ["", "en"], ids=["follows-browser", "saved-english"])
def test_language_switch_in_the_sidebar_turns_the_interface_to_chinese(
    page: Any, live_server: Any, rep: User, saved_language: str
) -> None:
    from playwright.sync_api import expect

    rep.language = saved_language  # a language saved in the preferences must not block the switch
    rep.save(update_fields=["language"])
    sign_in(page, live_server, rep)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_label("Language").select_option(label="简体中文")

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#lang-select")).to_have_value("zh-hans")
    with translation.override("zh-hans"):
        workbench, customers = translation.gettext("Workbench"), translation.gettext("Customers")
    if workbench != "Workbench":  # the Chinese catalogue is compiled: the labels follow the language
        sidebar = page.locator("#sidebar")
        expect(sidebar.get_by_role("link", name=workbench, exact=True)).to_be_visible()
        expect(sidebar.get_by_role("link", name=customers, exact=True)).to_be_visible()
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")


def test_slash_focuses_the_search_box_and_n_opens_the_new_customer_form(page: Any, live_server: Any, rep: User) -> None:
    from playwright.sync_api import expect

    sign_in(page, live_server, rep)
    page.get_by_role("link", name="Customers", exact=True).click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()

    page.get_by_role("heading", name="Customers").click()  # focus on the page, not on a field
    page.keyboard.press("/")
    expect(global_search(page)).to_be_focused()
    expect(global_search(page)).to_have_value("")  # the "/" itself is not typed into the box

    global_search(page).blur()
    page.keyboard.press("n")
    page.wait_for_url(f"{live_server.url}/customers/new/")
    expect(page.get_by_role("heading", name="New customer")).to_be_visible()

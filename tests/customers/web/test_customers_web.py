"""Customer pages: the list (filters, pages, masking, bulk actions, saved views, query count), the 360°
page and its contact point partials, and the create, edit and delete forms."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.customers.models import ContactPoint, Customer
from guanxi.customers.models.choices import ContactKind, CustomerKind
from guanxi.customers.services.customers import customer_create, customer_update
from guanxi.platform.annotations.models import Tag, TaggedItem
from guanxi.platform.audit.models import AccessLogEntry
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from guanxi.platform.ui.models import SavedView
from tests.factories import ContactPointFactory, CustomerFactory, PoolFactory

ClientFor = Callable[[str], Client]
LIST = reverse("customers:customer_list")
HTMX = {"HTTP_HX_REQUEST": "true"}


def detail_url(customer: Customer) -> str:
    return reverse("customers:customer_detail", args=[customer.pk])


def edit_url(customer: Customer) -> str:
    return reverse("customers:customer_edit", args=[customer.pk])


def row_ids(response: Any) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="ids" value="(\d+)"', response.content.decode())]


def field_block(html: str, name: str) -> str:
    """The <div class="field ..."> that holds the input named `name` (label, input and its errors)."""
    blocks = re.findall(r'<div class="field[^"]*">.*?</div>\s*(?:<div class="error"[^>]*>.*?</div>\s*)*', html, re.S)
    for block in blocks:
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"no field {name}")


def form_html(response: Any) -> str:
    return response.content.decode()


# --- list -------------------------------------------------------------------------------------------------


def test_list_shows_only_visible_customers(org: Any, client_for: ClientFor) -> None:
    mine = CustomerFactory(owner=org.rep_north)
    CustomerFactory(owner=org.rep_south)
    response = client_for("rep_north").get(LIST)
    assert response.status_code == 200
    assert row_ids(response) == [mine.pk]


def test_manager_list_covers_team_and_sub_team(org: Any, client_for: ClientFor) -> None:
    north = CustomerFactory(owner=org.rep_north)
    sub = CustomerFactory(owner=org.rep_north_sub)
    CustomerFactory(owner=org.rep_south)
    assert sorted(row_ids(client_for("manager_north").get(LIST))) == sorted([north.pk, sub.pk])


def test_filters_narrow_the_list_and_htmx_gets_only_the_table(org: Any, client_for: ClientFor) -> None:
    active = CustomerFactory(owner=org.rep_north, lifecycle_stage="active", rating=5)
    CustomerFactory(owner=org.rep_north, lifecycle_stage="new", rating=5)
    CustomerFactory(owner=org.rep_north, lifecycle_stage="active", rating=1)
    client = client_for("manager_north")
    response = client.get(LIST, {"stage": "active", "rating_min": "4"}, **HTMX)
    assert response.status_code == 200
    assert row_ids(response) == [active.pk]
    html = response.content.decode()
    assert "<html" not in html and 'id="bulk-form"' in html
    page = client.get(LIST, {"stage": "active", "rating_min": "4"}).content.decode()
    assert 'hx-get="/customers/"' in page and 'hx-push-url="true"' in page and 'hx-target="#customer-results"' in page
    assert '<option value="active" selected>' in page


def test_bad_filter_is_shown_next_to_its_field_with_422(org: Any, client_for: ClientFor) -> None:
    CustomerFactory(owner=org.rep_north)
    response = client_for("rep_north").get(LIST, {"created_from": "last week"})
    assert response.status_code == 422
    assert "Enter a date as YYYY-MM-DD." in field_block(form_html(response), "created_from")
    assert row_ids(response) == []


def test_keyset_pages_with_next_and_first_links(org: Any, client_for: ClientFor) -> None:
    customers = [CustomerFactory(owner=org.rep_north) for _ in range(55)]
    client = client_for("rep_north")
    first = client.get(LIST, {"sort": "-id", "stage": "prospect"})
    first_ids = row_ids(first)
    assert first_ids == sorted((c.pk for c in customers), reverse=True)[:50]
    html = first.content.decode()
    next_url = re.search(r'href="(/customers/\?[^"]*cursor=[^"]+)"[^>]*rel="next"', html).group(1).replace("&amp;", "&")
    assert "stage=prospect" in next_url and "sort=-id" in next_url
    assert "First page" not in html
    second = client.get(next_url)
    second_ids = row_ids(second)
    assert second_ids == sorted((c.pk for c in customers), reverse=True)[50:]
    assert not set(first_ids) & set(second_ids)
    assert 'rel="next"' not in second.content.decode()
    assert "First page" in second.content.decode()


def test_nullable_sort_pages_through_empty_last_contact(org: Any, client_for: ClientFor) -> None:
    from django.utils import timezone

    now = timezone.now()
    customers = [CustomerFactory(owner=org.rep_north) for _ in range(60)]
    for i, customer in enumerate(customers[:30]):
        Customer.objects.filter(pk=customer.pk).update(last_contact_at=now - timezone.timedelta(days=i % 7))
    client = client_for("rep_north")
    seen = row_ids(first := client.get(LIST, {"sort": "-last_contact_at"}))
    next_url = re.search(r'href="([^"]*cursor=[^"]+)"', first.content.decode()).group(1).replace("&amp;", "&")
    seen += row_ids(client.get(next_url))
    assert len(seen) == len(set(seen)) == 60
    assert set(seen[:30]) == {c.pk for c in customers[:30]}


def test_bad_cursor_asks_to_start_again(org: Any, client_for: ClientFor) -> None:
    response = client_for("rep_north").get(LIST, {"cursor": "garbage"})
    assert response.status_code == 422
    assert "This page link is not valid; start from the first page." in response.content.decode()


def test_empty_state_offers_a_new_customer(org: Any, client_for: ClientFor) -> None:
    html = client_for("rep_north").get(LIST).content.decode()
    assert "No customers yet." in html
    assert f'href="{reverse("customers:customer_create")}"' in html
    assert f'data-new-url="{reverse("customers:customer_create")}"' in html
    filtered = client_for("rep_north").get(LIST, {"stage": "loyal"}).content.decode()
    assert "No customers match these filters." in filtered


def test_list_masks_contacts_for_analyst_and_logs_views_of_clear_data(org: Any, client_for: ClientFor) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    ContactPointFactory(customer=customer, value="+8613812345678")
    ContactPointFactory(customer=customer, kind=ContactKind.EMAIL, value="zhang.wei@example.com", search_key="x")

    analyst = client_for("analyst").get(LIST).content.decode()
    assert "138 **** 5678" in analyst and "z***@example.com" in analyst
    assert "13812345678" not in analyst and "zhang.wei" not in analyst
    assert not AccessLogEntry.objects.exists()

    rep = client_for("rep_north").get(LIST).content.decode()
    assert "138 1234 5678" in rep and "zhang.wei@example.com" in rep
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.action, entry.object_type, entry.record_count) == (
        org.rep_north,
        "view_personal_data",
        "customers.customer",
        1,
    )


def test_export_is_a_disabled_placeholder(org: Any, client_for: ClientFor) -> None:
    CustomerFactory(owner=org.rep_north)
    html = client_for("rep_north").get(LIST).content.decode()
    assert re.search(r'<button[^>]*disabled[^>]*title="Export arrives with data import/export"', html)


def _list_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(LIST)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _customers_with_tags_and_contacts(org: Any, n: int, tags: list[Tag]) -> None:
    for _ in range(n):
        customer = CustomerFactory(owner=org.rep_north, organisation=None)
        ContactPointFactory(customer=customer)
        ContactPointFactory(
            customer=customer, kind=ContactKind.EMAIL, value=f"c{customer.pk}@example.com", search_key="x"
        )
        for tag in tags:
            TaggedItem.objects.create(tag=tag, target="customers.customer", object_id=customer.pk)


def test_list_query_count_is_the_same_for_10_and_50_customers(org: Any, client_for: ClientFor) -> None:
    tags = [Tag.objects.create(name="VIP", color="red"), Tag.objects.create(name="B2B", color="blue")]
    client = client_for("manager_north")
    _customers_with_tags_and_contacts(org, 10, tags)
    client.get(LIST)
    ten = _list_queries(client)
    _customers_with_tags_and_contacts(org, 40, tags)
    fifty_response = client.get(LIST)
    assert len(row_ids(fifty_response)) == 50
    assert fifty_response.content.decode().count('class="tag tag-red"') == 50
    assert _list_queries(client) == ten


# --- bulk actions and saved views ---------------------------------------------------------------------------


def test_bulk_assign_moves_the_selected_customers(org: Any, client_for: ClientFor) -> None:
    a, b, c = (CustomerFactory(owner=org.rep_north) for _ in range(3))
    response = client_for("manager_north").post(
        reverse("customers:customer_bulk"),
        {"action": "assign", "ids": [a.pk, b.pk], "owner_id": org.rep_north_sub.pk, "query": "stage=prospect&cursor=x"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?stage=prospect"
    owners = dict(Customer.objects.values_list("pk", "owner_id"))
    assert owners == {a.pk: org.rep_north_sub.pk, b.pk: org.rep_north_sub.pk, c.pk: org.rep_north.pk}
    assert Customer.objects.get(pk=a.pk).team == org.north_sub


def test_bulk_assign_needs_the_permission(org: Any, client_for: ClientFor) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    client = client_for("rep_north")
    response = client.post(
        reverse("customers:customer_bulk"), {"action": "assign", "ids": [customer.pk], "owner_id": org.rep_south.pk}
    )
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).owner == org.rep_north
    assert "You do not have permission to do this." in client.get(LIST).content.decode()


def test_bulk_tag_tags_only_visible_customers(org: Any, client_for: ClientFor) -> None:
    vip = Tag.objects.create(name="VIP", color="red")
    north, south = CustomerFactory(owner=org.rep_north), CustomerFactory(owner=org.rep_south)
    client = client_for("manager_north")
    client.post(reverse("customers:customer_bulk"), {"action": "tag", "ids": [north.pk, south.pk], "tag_id": vip.pk})
    assert list(TaggedItem.objects.values_list("object_id", flat=True)) == [north.pk]
    assert "1 customer tagged." in client.get(LIST).content.decode()


def test_bulk_return_to_pool_needs_a_reason(org: Any, client_for: ClientFor) -> None:
    pool = PoolFactory(is_default=True)
    a, b = CustomerFactory(owner=org.rep_north), CustomerFactory(owner=org.rep_north)
    client = client_for("rep_north")
    client.post(reverse("customers:customer_bulk"), {"action": "return", "ids": [a.pk, b.pk], "reason": ""})
    assert Customer.objects.filter(owner__isnull=True).count() == 0
    assert "Say why." in client.get(LIST).content.decode()
    client.post(reverse("customers:customer_bulk"), {"action": "return", "ids": [a.pk], "reason": "不再联系"})
    a.refresh_from_db()
    assert (a.owner, a.pool) == (None, pool)
    assert Customer.objects.get(pk=b.pk).owner == org.rep_north


def test_bulk_without_selection_says_so(org: Any, client_for: ClientFor) -> None:
    client = client_for("manager_north")
    client.post(reverse("customers:customer_bulk"), {"action": "assign", "owner_id": org.rep_north.pk})
    CustomerFactory(owner=org.rep_north)
    assert "Select at least one customer." in client.get(LIST).content.decode()


def test_saved_views_save_list_and_delete(org: Any, client_for: ClientFor) -> None:
    CustomerFactory(owner=org.rep_north)
    client = client_for("rep_north")
    response = client.post(
        reverse("customers:customer_view_save"), {"name": "Active", "query": "stage=active&cursor=abc"}
    )
    assert response.status_code == 302 and response["Location"] == f"{LIST}?stage=active"
    view = SavedView.objects.get()
    assert (view.user, view.target, view.query) == (org.rep_north, "customers.customer", "stage=active")
    html = client.get(LIST).content.decode()
    assert f'href="{LIST}?stage=active">Active</a>' in html
    other = client_for("rep_south")
    assert other.post(reverse("customers:customer_view_delete", args=[view.pk])).status_code == 404
    client.post(reverse("customers:customer_view_delete", args=[view.pk]))
    assert not SavedView.objects.exists()


def test_saving_a_view_without_a_name_says_so(org: Any, client_for: ClientFor) -> None:
    CustomerFactory(owner=org.rep_north)
    client = client_for("rep_north")
    client.post(reverse("customers:customer_view_save"), {"name": "", "query": "stage=new"})
    assert not SavedView.objects.exists()
    assert "Give the view a name." in client.get(LIST).content.decode()


# --- 360° page ------------------------------------------------------------------------------------------------


def test_detail_page_renders_profile_and_every_panel_slot(org: Any, client_for: ClientFor) -> None:
    company = CustomerFactory(owner=org.rep_north, kind=CustomerKind.ORGANISATION, name="华为")
    person = CustomerFactory(
        owner=org.rep_north, name="张伟", organisation=company, preferences="喜欢绿茶", rating=4,
        family_members=[{"relation": "妻子", "name": "李娜"}],
    )  # fmt: skip
    response = client_for("rep_north").get(detail_url(person))
    assert response.status_code == 200
    html = response.content.decode()
    for slot in ("timeline", "tasks", "pool", "tags", "notes", "attachments", "history"):
        assert f'id="panel-{slot}"' in html
    assert f'hx-get="{reverse("customers:customer_history", args=[person.pk])}"' in html
    assert f'hx-get="{reverse("customers:customer_timeline", args=[person.pk])}"' in html
    assert f'hx-get="{reverse("annotations:tags_panel")}?target=customers.customer&amp;object_id={person.pk}"' in html
    assert "喜欢绿茶" in html and "妻子 李娜" in html and "★★★★☆" in html
    assert f'href="{detail_url(company)}">华为</a>' in html
    org_html = client_for("rep_north").get(detail_url(company)).content.decode()
    assert f'href="{detail_url(person)}">张伟</a>' in org_html


def test_rep_cannot_open_or_change_another_teams_customer(org: Any, client_for: ClientFor) -> None:
    south = CustomerFactory(owner=org.rep_south, name="南方客户")
    point = ContactPointFactory(customer=south)
    client = client_for("rep_north")
    urls = [
        detail_url(south),
        edit_url(south),
        reverse("customers:customer_history", args=[south.pk]),
        reverse("customers:customer_contact_points", args=[south.pk]),
        reverse("customers:customer_contact_point_add", args=[south.pk]),
        reverse("customers:customer_contact_point_edit", args=[south.pk, point.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "南方客户" not in response.content.decode()
    assert client.post(edit_url(south), {"name": "改名", "version": south.version}).status_code == 404
    assert client.post(reverse("customers:customer_contact_point_remove", args=[south.pk, point.pk])).status_code == 404
    assert client.post(reverse("customers:customer_delete", args=[south.pk])).status_code == 404
    south.refresh_from_db()
    assert south.name == "南方客户" and ContactPoint.objects.filter(pk=point.pk).exists()


def test_manager_opens_sub_team_customer_but_not_other_team(org: Any, client_for: ClientFor) -> None:
    sub, south = CustomerFactory(owner=org.rep_north_sub), CustomerFactory(owner=org.rep_south)
    client = client_for("manager_north")
    assert client.get(detail_url(sub)).status_code == 200
    assert client.get(detail_url(south)).status_code == 404


def test_detail_masks_personal_data_for_analyst(org: Any, client_for: ClientFor) -> None:
    customer = customer_create(
        actor=org.actor("rep_north"),
        data={
            "name": "王芳",
            "id_number": "11010519491231002X",
            "contact_points": [{"kind": "phone", "value": "13812345678"}],
        },
    )
    analyst = client_for("analyst").get(detail_url(customer)).content.decode()
    assert "110105********002X" in analyst and "138 **** 5678" in analyst
    assert "11010519491231002X" not in analyst and "13812345678" not in analyst
    assert not AccessLogEntry.objects.exists()
    rep = client_for("rep_north").get(detail_url(customer)).content.decode()
    assert "11010519491231002X" in rep and "138 1234 5678" in rep
    entry = AccessLogEntry.objects.get()
    assert (entry.object_id, entry.action, entry.detail["fields"]) == (
        customer.pk,
        "view_personal_data",
        ["contact_points", "id_number"],
    )


def test_history_partial_lists_changes(org: Any, client_for: ClientFor) -> None:
    rep = org.actor("rep_north")
    customer = customer_create(actor=rep, data={"name": "赵敏"})
    customer_update(actor=rep, customer=customer, data={"lifecycle_stage": "loyal"})
    html = (
        client_for("rep_north").get(reverse("customers:customer_history", args=[customer.pk]), **HTMX).content.decode()
    )
    assert "Prospect" in html and "Loyal" in html and str(org.rep_north) in html


def test_edit_and_delete_buttons_follow_permissions(org: Any, client_for: ClientFor) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    rep = client_for("rep_north").get(detail_url(customer)).content.decode()
    assert f'href="{edit_url(customer)}"' in rep
    assert reverse("customers:customer_delete", args=[customer.pk]) not in rep
    analyst = client_for("analyst").get(detail_url(customer)).content.decode()
    assert f'href="{edit_url(customer)}"' not in analyst
    assert "Add a contact point" not in analyst
    manager = client_for("manager_north").get(detail_url(customer)).content.decode()
    assert reverse("customers:customer_delete", args=[customer.pk]) in manager


# --- contact points ------------------------------------------------------------------------------------------


def test_add_contact_point_with_bad_phone_shows_the_error_next_to_the_field(org: Any, client_for: ClientFor) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    url = reverse("customers:customer_contact_point_add", args=[customer.pk])
    response = client_for("rep_north").post(url, {"kind": "phone", "value": "12345"}, **HTMX)
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#contact-point-form-new"
    assert response["HX-Reswap"] == "outerHTML"
    block = field_block(response.content.decode(), "value")
    assert "has-error" in block and 'class="error"' in block
    assert not ContactPoint.objects.exists()


def test_add_edit_and_remove_contact_points(org: Any, client_for: ClientFor) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    client = client_for("rep_north")
    add = reverse("customers:customer_contact_point_add", args=[customer.pk])
    response = client.post(add, {"kind": "phone", "value": "138 1234 5678", "consent": "granted"}, **HTMX)
    assert response.status_code == 200
    point = ContactPoint.objects.get()
    assert (point.value, point.is_primary, point.consent) == ("+8613812345678", True, "granted")
    assert "138 1234 5678" in response.content.decode() and "primary" in response.content.decode()

    edit = reverse("customers:customer_contact_point_edit", args=[customer.pk, point.pk])
    form = client.get(edit, **HTMX).content.decode()
    assert f'name="version" value="{point.version}"' in form
    response = client.post(edit, {"value": "13900001111", "label": "office", "version": point.version}, **HTMX)
    assert response.status_code == 200
    point.refresh_from_db()
    assert (point.value, point.label) == ("+8613900001111", "office")

    stale = client.post(edit, {"value": "13900002222", "version": point.version - 1}, **HTMX)
    assert stale.status_code == 412
    assert "changed by someone else" in stale.content.decode()
    point.refresh_from_db()
    assert point.value == "+8613900001111"

    remove = reverse("customers:customer_contact_point_remove", args=[customer.pk, point.pk])
    response = client.post(remove, **HTMX)
    assert response.status_code == 200
    assert not ContactPoint.objects.exists()
    assert "No phone, email, WeChat or address yet." in response.content.decode()


def test_contact_point_forms_work_without_htmx(org: Any, client_for: ClientFor) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    client = client_for("rep_north")
    add = reverse("customers:customer_contact_point_add", args=[customer.pk])
    bad = client.post(add, {"kind": "email", "value": "not-an-email"})
    assert bad.status_code == 422 and "<html" in bad.content.decode()
    good = client.post(add, {"kind": "email", "value": "a@example.com"})
    assert good.status_code == 302 and good["Location"] == detail_url(customer)


def test_analyst_cannot_add_contact_points(org: Any, client_for: ClientFor) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    url = reverse("customers:customer_contact_point_add", args=[customer.pk])
    assert client_for("analyst").post(url, {"kind": "phone", "value": "13812345678"}).status_code == 403
    assert not ContactPoint.objects.exists()


# --- create, edit, delete ----------------------------------------------------------------------------------


def test_create_form_has_person_and_organisation_fields(org: Any, client_for: ClientFor) -> None:
    rep = client_for("rep_north").get(reverse("customers:customer_create")).content.decode()
    for name in ("name", "family_name", "uscc", "cp_phone", "cp_email", "cp_wechat", "cp_address", "preferences"):
        assert f'name="{name}"' in rep
    assert 'class="person-only"' in rep and "organisation-only" in rep
    assert 'name="owner"' not in rep
    assert 'name="owner"' in client_for("manager_north").get(reverse("customers:customer_create")).content.decode()


def test_create_with_a_bad_phone_shows_the_error_and_writes_nothing(org: Any, client_for: ClientFor) -> None:
    response = client_for("rep_north").post(
        reverse("customers:customer_create"),
        {"kind": "person", "name": "张伟", "cp_phone": "12345", "cp_email": "zhang@example.com", "rating": "0"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    phone = field_block(html, "cp_phone")
    assert "has-error" in phone and 'class="error"' in phone
    assert "has-error" not in field_block(html, "cp_email")
    assert 'value="张伟"' in html
    assert not Customer.objects.exists() and not ContactPoint.objects.exists()


def test_create_reports_every_bad_field_at_once(org: Any, client_for: ClientFor) -> None:
    response = client_for("rep_north").post(
        reverse("customers:customer_create"),
        {"kind": "person", "name": "", "cp_email": "nope", "id_number": "123", "birthday": "2999-01-01"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Enter a name." in field_block(html, "name")
    assert "This is not a valid Chinese ID number." in field_block(html, "id_number")
    assert "Enter a date between 1900 and today." in field_block(html, "birthday")
    assert "has-error" in field_block(html, "cp_email")
    assert not Customer.objects.exists()


def test_create_a_person_with_contacts_and_soft_data(org: Any, client_for: ClientFor) -> None:
    response = client_for("rep_north").post(
        reverse("customers:customer_create"),
        {
            "kind": "person", "name": "张伟", "cp_phone": "138 1234 5678", "cp_email": "Zhang@Example.com",
            "cp_wechat": "zhangwei88", "source": "referral", "rating": "3", "lifecycle_stage": "new",
            "family_members": "妻子, 李娜, 1990-05-01\n儿子，张小明", "preferences": "喜欢绿茶",
        },
    )  # fmt: skip
    customer = Customer.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(customer)
    assert (customer.owner, customer.team, customer.rating, customer.source) == (
        org.rep_north,
        org.north,
        3,
        "referral",
    )
    assert customer.family_members == [
        {"relation": "妻子", "name": "李娜", "birthday": "1990-05-01"},
        {"relation": "儿子", "name": "张小明"},
    ]
    assert sorted(customer.contact_points.values_list("kind", "value")) == [
        ("email", "zhang@example.com"), ("phone", "+8613812345678"), ("wechat", "zhangwei88"),
    ]  # fmt: skip


def test_create_an_organisation_and_link_a_person(org: Any, client_for: ClientFor) -> None:
    client = client_for("manager_north")
    client.post(
        reverse("customers:customer_create"),
        {
            "kind": "organisation",
            "name": "华为技术有限公司",
            "uscc": "914403001922038216",
            "owner": org.rep_north.pk,
            "job_title": "hidden on the page",
            "id_number": "not checked either",
        },
    )
    company = Customer.objects.get()
    assert (company.kind, company.uscc, company.owner) == ("organisation", "914403001922038216", org.rep_north)
    assert (company.job_title, company.id_number_masked) == ("", "")
    form = client.get(reverse("customers:customer_create")).content.decode()
    assert f'<option value="{company.pk}">华为技术有限公司</option>' in form
    client.post(reverse("customers:customer_create"), {"kind": "person", "name": "李雷", "organisation": company.pk})
    person = Customer.objects.get(name="李雷")
    assert (person.organisation, person.company_name) == (company, "华为技术有限公司")


def test_required_custom_field_error_is_next_to_it(org: Any, client_for: ClientFor) -> None:
    CustomFieldDefinition.objects.create(
        target="customers.customer", key="industry_code", label_zh="行业代码", label_en="Industry code",
        field_type=FieldType.TEXT, required=True,
    )  # fmt: skip
    response = client_for("rep_north").post(reverse("customers:customer_create"), {"kind": "person", "name": "张伟"})
    assert response.status_code == 422
    assert "This field is required." in field_block(response.content.decode(), "cf_industry_code")
    assert not Customer.objects.exists()


def test_edit_changes_only_what_changed(org: Any, client_for: ClientFor) -> None:
    customer = customer_create(
        actor=org.actor("rep_north"), data={"name": "张伟", "id_number": "11010519491231002X", "notes": "老客户"}
    )
    client = client_for("rep_north")
    form = client.get(edit_url(customer)).content.decode()
    assert f'name="version" value="{customer.version}"' in form and "110105********002X" in form
    data = {
        "version": customer.version, "kind": "person", "name": "张伟", "family_name": "张", "given_name": "伟",
        "lifecycle_stage": "active", "rating": "2", "notes": "老客户", "id_number": "",
    }  # fmt: skip
    response = client.post(edit_url(customer), data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.lifecycle_stage, customer.rating, customer.notes) == ("active", 2, "老客户")
    assert customer.id_number_masked == "110105********002X"
    assert customer.version == 2


def test_stale_edit_is_refused_without_overwriting(org: Any, client_for: ClientFor) -> None:
    customer = customer_create(actor=org.actor("rep_north"), data={"name": "张伟"})
    old_version = customer.version
    customer_update(actor=org.actor("rep_north"), customer=customer, data={"notes": "someone else"})
    response = client_for("rep_north").post(
        edit_url(customer), {"version": old_version, "kind": "person", "name": "张伟", "notes": "mine", "rating": "0"}
    )
    assert response.status_code == 412
    html = response.content.decode()
    assert "The record was changed by someone else. Reload it and try again." in html
    assert "Reload the latest version" in html
    customer.refresh_from_db()
    assert customer.notes == "someone else"


def test_edit_without_version_is_refused(org: Any, client_for: ClientFor) -> None:
    customer = customer_create(actor=org.actor("rep_north"), data={"name": "张伟"})
    response = client_for("rep_north").post(edit_url(customer), {"kind": "person", "name": "改了", "rating": "0"})
    assert response.status_code == 412
    assert Customer.objects.get().name == "张伟"


def test_edit_shows_validation_errors_with_422(org: Any, client_for: ClientFor) -> None:
    customer = customer_create(actor=org.actor("rep_north"), data={"name": "张伟"})
    response = client_for("rep_north").post(
        edit_url(customer), {"version": customer.version, "kind": "person", "name": "张伟", "birthday": "1800-01-01"}
    )
    assert response.status_code == 422
    assert "has-error" in field_block(response.content.decode(), "birthday")


def test_analyst_may_not_edit(org: Any, client_for: ClientFor) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    assert client_for("analyst").get(edit_url(customer)).status_code == 403
    assert client_for("analyst").get(reverse("customers:customer_create")).status_code == 403


@pytest.mark.parametrize("who, status", [("manager_north", 302), ("rep_north", 403)])
def test_delete_needs_confirmation_and_permission(org: Any, client_for: ClientFor, who: str, status: int) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    url = reverse("customers:customer_delete", args=[customer.pk])
    client = client_for(who)
    confirm = client.get(url)
    assert confirm.status_code == (200 if status == 302 else 403)
    response = client.post(url)
    assert response.status_code == status
    assert Customer.objects.filter(pk=customer.pk).exists() is (status != 302)


def test_deleting_an_organisation_with_people_explains_why_not(org: Any, client_for: ClientFor) -> None:
    company = CustomerFactory(owner=org.rep_north, kind=CustomerKind.ORGANISATION)
    CustomerFactory(owner=org.rep_north, organisation=company)
    response = client_for("manager_north").post(reverse("customers:customer_delete", args=[company.pk]))
    assert response.status_code == 422
    assert "Unlink the people of this organisation first." in response.content.decode()

"""Lead pages: list with filters and keyset pages, capture and edit forms, the lead page, status actions,
and the one-click conversion page."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from guanxi.customers.models import ContactPoint, Customer, Lead
from guanxi.customers.models.choices import CustomerKind, LeadStatus
from guanxi.customers.web.leads import PAGE_SIZE
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from tests.factories import CustomerFactory, LeadFactory


@pytest.fixture
def browser(org: Any) -> Any:
    def make(username: str) -> Client:
        client = Client()
        client.force_login(getattr(org, username))
        return client

    return make


def _lead(org: Any, owner: str = "rep_north", **fields: Any) -> Lead:
    user = getattr(org, owner)
    return LeadFactory(owner=user, team=user.team, **{"company_name": "星河科技", **fields})


def _html(response: Any) -> str:
    return response.content.decode()


# List ---------------------------------------------------------------------------------------


def test_list_shows_visible_leads_with_status_badges(org: Any, browser: Any) -> None:
    _lead(org, name="张伟", phone="+8613812345678", status=LeadStatus.QUALIFIED)
    _lead(org, "rep_south", name="南方线索")
    response = browser("rep_north").get(reverse("customers:lead_list"))
    html = _html(response)
    assert response.status_code == 200
    assert "张伟" in html and "南方线索" not in html
    assert '<span class="badge badge-ok" data-status="qualified">Qualified</span>' in html
    assert "138 1234 5678" in html
    assert f'data-new-url="{reverse("customers:lead_create")}"' in html


def test_list_masks_personal_data_for_the_analyst(org: Any, browser: Any) -> None:
    _lead(org, name="张伟", phone="+8613812345678", email="zhang.wei@example.com")
    html = _html(browser("analyst").get(reverse("customers:lead_list")))
    assert "138 **** 5678" in html and "z***@example.com" in html
    assert "+8613812345678" not in html and "zhang.wei@" not in html
    assert 'data-new-url=""' in html  # the analyst may not capture leads


def test_list_empty_states(org: Any, browser: Any) -> None:
    client = browser("rep_north")
    html = _html(client.get(reverse("customers:lead_list")))
    assert "There are no leads yet." in html
    assert reverse("customers:lead_create") in html
    _lead(org, name="张伟")
    html = _html(client.get(reverse("customers:lead_list"), {"q": "nobody-like-this"}))
    assert "No lead matches these filters." in html


def test_list_filters_and_reports_bad_filters(org: Any, browser: Any) -> None:
    _lead(org, name="甲", source="event")
    _lead(org, name="乙", source="website")
    client = browser("rep_north")
    html = _html(client.get(reverse("customers:lead_list"), {"source": "event"}))
    assert "甲" in html and ">乙<" not in html
    response = client.get(reverse("customers:lead_list"), {"created_from": "yesterday"})
    assert response.status_code == 422
    assert "Enter a date as YYYY-MM-DD." in _html(response)


def test_list_pages_with_a_cursor(org: Any, browser: Any) -> None:
    leads = [_lead(org, name=f"线索{index:03d}") for index in range(PAGE_SIZE + 3)]
    client = browser("rep_north")
    response = client.get(reverse("customers:lead_list"))
    first_page = response.context["rows"]
    assert [row["lead"] for row in first_page] == leads[::-1][:PAGE_SIZE]
    next_query = response.context["next_query"]
    assert next_query and "cursor=" in next_query
    assert f'href="?{next_query}"' in _html(response).replace("&amp;", "&")
    second = client.get(f"{reverse('customers:lead_list')}?{next_query}")
    assert [row["lead"] for row in second.context["rows"]] == leads[:3][::-1]
    assert second.context["next_query"] == ""
    assert "First page" in _html(second)


def test_list_page_query_count_does_not_grow_with_rows(org: Any, browser: Any) -> None:
    client = browser("manager_north")
    client.get(reverse("customers:lead_list"))

    def count(rows: int) -> int:
        Lead.objects.all().delete()
        for index in range(rows):
            owner = org.rep_north if index % 2 else org.rep_north_sub
            LeadFactory(owner=owner, team=owner.team, phone="+8613812345678", company_name=f"公司{index}")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("customers:lead_list"))
        assert len(response.context["rows"]) == rows
        return len(queries)

    assert count(10) == count(50)


# Create and edit ----------------------------------------------------------------------------


def test_create_with_a_bad_phone_shows_the_error_next_to_the_field(org: Any, browser: Any) -> None:
    response = browser("rep_north").post(
        reverse("customers:lead_create"), {"name": "张伟", "phone": "12345", "email": "zw@"}
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert set(form.errors) == {"phone", "email"}
    assert "“12345” is not a valid phone number." in _html(response)
    assert 'class="field has-error"' in _html(response)
    assert Lead.objects.count() == 0


def test_create_needs_a_way_to_reach_the_lead(org: Any, browser: Any) -> None:
    response = browser("rep_north").post(reverse("customers:lead_create"), {"name": "张伟"})
    assert response.status_code == 422
    assert response.context["form"].errors["phone"] == [
        "Give at least a phone number, an email address, a WeChat ID or a company."
    ]


def test_create_saves_the_lead_with_custom_fields_and_opens_it(org: Any, browser: Any) -> None:
    CustomFieldDefinition.objects.create(
        target="customers.lead", key="budget", label_zh="预算", label_en="Budget", field_type=FieldType.NUMBER
    )
    client = browser("rep_north")
    assert 'name="cf_budget"' in _html(client.get(reverse("customers:lead_create")))
    response = client.post(
        reverse("customers:lead_create"),
        {"name": "张伟", "phone": "138 1234 5678", "source": "event", "cf_budget": "abc"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["cf_budget"] == ["Enter a number."]
    response = client.post(
        reverse("customers:lead_create"),
        {"name": "张伟", "phone": "138 1234 5678", "source": "event", "cf_budget": "5000"},
    )
    lead = Lead.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:lead_detail", args=[lead.pk])
    assert (lead.phone, lead.source, lead.custom_fields, lead.owner) == (
        "+8613812345678", "event", {"budget": "5000"}, org.rep_north,
    )  # fmt: skip


def test_only_users_who_may_assign_get_the_owner_field(org: Any, browser: Any) -> None:
    assert 'name="owner"' not in _html(browser("rep_north").get(reverse("customers:lead_create")))
    client = browser("manager_north")
    assert 'name="owner"' in _html(client.get(reverse("customers:lead_create")))
    client.post(reverse("customers:lead_create"), {"name": "张伟", "company_name": "A", "owner": org.rep_north_sub.pk})
    assert Lead.objects.get().owner == org.rep_north_sub


def test_edit_saves_and_a_stale_edit_is_refused(org: Any, browser: Any) -> None:
    lead = _lead(org, name="张伟", phone="+8613812345678")
    client = browser("rep_north")
    page = client.get(reverse("customers:lead_edit", args=[lead.pk]))
    assert page.status_code == 200 and 'value="张伟"' in _html(page)
    data = {"name": "张伟", "phone": "13812345678", "company_name": "星河科技", "job_title": "经理", "version": 1}
    response = client.post(reverse("customers:lead_edit", args=[lead.pk]), data)
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.job_title, lead.version) == ("经理", 2)
    response = client.post(reverse("customers:lead_edit", args=[lead.pk]), {**data, "job_title": "总监"})
    assert response.status_code == 412
    assert "The record was changed by someone else." in _html(response)
    lead.refresh_from_db()
    assert lead.job_title == "经理"


# Detail and status --------------------------------------------------------------------------


def test_another_reps_lead_is_404_on_every_page(org: Any, browser: Any) -> None:
    lead = _lead(org)
    client = browser("rep_south")
    for name in ("lead_detail", "lead_edit", "lead_convert", "lead_disqualify"):
        assert client.get(reverse(f"customers:{name}", args=[lead.pk])).status_code == 404, name
    for name in ("lead_qualify", "lead_disqualify", "lead_convert", "lead_edit", "lead_delete"):
        assert client.post(reverse(f"customers:{name}", args=[lead.pk]), {"reason": "x"}).status_code == 404, name
    lead.refresh_from_db()
    assert (lead.status, lead.version) == (LeadStatus.NEW, 1)


def test_detail_shows_fields_actions_history_and_the_timeline_slot(org: Any, browser: Any) -> None:
    CustomFieldDefinition.objects.create(
        target="customers.lead", key="budget", label_zh="预算", label_en="Budget", field_type=FieldType.NUMBER
    )
    lead = _lead(org, name="张伟", phone="+8613812345678", job_title="采购经理", custom_fields={"budget": "5000"})
    html = _html(browser("rep_north").get(reverse("customers:lead_detail", args=[lead.pk])))
    for text in ("张伟", "采购经理", "星河科技", "+8613812345678", "Budget", "5000"):
        assert text in html, text
    assert reverse("customers:lead_convert", args=[lead.pk]) in html
    assert reverse("customers:lead_qualify", args=[lead.pk]) in html
    assert reverse("customers:lead_disqualify", args=[lead.pk]) in html
    try:
        timeline_url = reverse("customers:lead_timeline", args=[lead.pk])
    except NoReverseMatch:
        assert 'id="lead-timeline"' not in html
    else:
        assert f'hx-get="{timeline_url}" hx-trigger="load"' in html


def test_detail_masks_personal_data_for_the_analyst(org: Any, browser: Any) -> None:
    lead = _lead(org, phone="+8613812345678")
    html = _html(browser("analyst").get(reverse("customers:lead_detail", args=[lead.pk])))
    assert "138 **** 5678" in html and "+8613812345678" not in html
    assert reverse("customers:lead_convert", args=[lead.pk]) not in html


def test_qualify_from_the_lead_page(org: Any, browser: Any) -> None:
    lead = _lead(org)
    response = browser("rep_north").post(reverse("customers:lead_qualify", args=[lead.pk]), {"version": 1})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUALIFIED


def test_disqualify_form_as_htmx_partial_needs_a_reason(org: Any, browser: Any) -> None:
    lead = _lead(org)
    client = browser("rep_north")
    url = reverse("customers:lead_disqualify", args=[lead.pk])
    partial = client.get(url, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert "<html" not in _html(partial) and 'name="reason"' in _html(partial)
    assert "<html" in _html(client.get(url))
    response = client.post(url, {"reason": " "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "Say why the lead is not qualified." in _html(response)
    response = client.post(url, {"reason": "没有预算", "version": 1}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == reverse("customers:lead_detail", args=[lead.pk])
    lead.refresh_from_db()
    assert (lead.status, lead.disqualified_reason) == (LeadStatus.UNQUALIFIED, "没有预算")


def test_delete_is_for_those_who_may(org: Any, browser: Any) -> None:
    lead = _lead(org)
    assert browser("rep_north").post(reverse("customers:lead_delete", args=[lead.pk])).status_code == 403
    response = browser("manager_north").post(reverse("customers:lead_delete", args=[lead.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("customers:lead_list")
    assert not Lead.objects.exists()


# Convert ------------------------------------------------------------------------------------


def test_convert_page_shows_what_will_be_created(org: Any, browser: Any) -> None:
    lead = _lead(org, name="张伟", phone="+8613812345678", company_name="星河科技")
    existing = CustomerFactory(owner=org.rep_north, kind=CustomerKind.ORGANISATION, name="星河科技集团")
    response = browser("rep_north").get(reverse("customers:lead_convert", args=[lead.pk]))
    html = _html(response)
    assert response.status_code == 200
    assert "Create the organisation “星河科技” with this person as its contact" in html
    assert 'value="create" checked' in html
    assert f'<option value="{existing.pk}"' in html
    assert "138 1234 5678" in html
    assert html.count('type="submit" form="convert-form"') == 1


def test_convert_with_one_click_creates_the_customer(org: Any, browser: Any) -> None:
    lead = _lead(org, name="张伟", phone="+8613812345678", company_name="星河科技")
    response = browser("rep_north").post(
        reverse("customers:lead_convert", args=[lead.pk]), {"organisation": "create", "version": 1}
    )
    organisation = Customer.objects.get(kind=CustomerKind.ORGANISATION)
    person = Customer.objects.get(kind=CustomerKind.PERSON)
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:customer_detail", args=[organisation.pk])
    assert person.organisation == organisation
    assert ContactPoint.objects.get(customer=person).value == "+8613812345678"
    lead.refresh_from_db()
    assert (lead.status, lead.converted_customer, lead.converted_contact) == (
        LeadStatus.CONVERTED,
        organisation,
        person,
    )
    again = browser("rep_north").get(reverse("customers:lead_convert", args=[lead.pk]))
    assert again.status_code == 302
    assert Customer.objects.count() == 2


def test_convert_linking_needs_an_organisation(org: Any, browser: Any) -> None:
    lead = _lead(org)
    existing = CustomerFactory(owner=org.rep_north, kind=CustomerKind.ORGANISATION, name="星河科技集团")
    client = browser("rep_north")
    url = reverse("customers:lead_convert", args=[lead.pk])
    response = client.post(url, {"organisation": "link"})
    assert response.status_code == 422
    assert "Choose the organisation to link." in _html(response)
    response = client.post(url, {"organisation": "link", "organisation_id": existing.pk})
    assert response.status_code == 302
    assert Customer.objects.get(kind=CustomerKind.PERSON).organisation == existing


def test_convert_page_searches_other_organisations(org: Any, browser: Any) -> None:
    lead = _lead(org)
    other = CustomerFactory(owner=org.rep_north, kind=CustomerKind.ORGANISATION, name="月亮贸易")
    html = _html(browser("rep_north").get(reverse("customers:lead_convert", args=[lead.pk]), {"org_q": "月亮"}))
    assert f'<option value="{other.pk}"' in html
    assert 'value="link" checked' in html


def test_pages_for_actions_the_role_may_not_take_answer_403(org: Any, browser: Any) -> None:
    lead = _lead(org)
    analyst = browser("analyst")
    assert analyst.get(reverse("customers:lead_detail", args=[lead.pk])).status_code == 200
    assert analyst.get(reverse("customers:lead_create")).status_code == 403
    for name in ("lead_edit", "lead_convert", "lead_disqualify"):
        assert analyst.get(reverse(f"customers:{name}", args=[lead.pk])).status_code == 403, name
    assert analyst.post(reverse("customers:lead_qualify", args=[lead.pk])).status_code == 403
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_detail_loads_the_tags_notes_and_files_of_the_lead(org: Any, browser: Any) -> None:
    lead = _lead(org)
    html = _html(browser("rep_north").get(reverse("customers:lead_detail", args=[lead.pk])))
    query = f"?target=customers.lead&amp;object_id={lead.pk}"
    for name in ("annotations:tags_panel", "annotations:notes_panel", "annotations:attachments_panel"):
        assert f'hx-get="{reverse(name)}{query}"' in html

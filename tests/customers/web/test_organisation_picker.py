"""The organisation field of the customer form: a select while the user sees few organisations, else a
search-as-you-type picker (its suggestions view is scoped and limited); and errors linked to their inputs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.customers.models import Customer
from guanxi.customers.models.choices import CustomerKind
from guanxi.customers.web import customers as customer_views
from guanxi.platform.core.pinyin import full_pinyin, pinyin_initials
from tests.factories import CustomerFactory

ClientFor = Callable[[str], Client]
OPTIONS = reverse("customers:organisation_options")
CREATE = reverse("customers:customer_create")


def organisation(owner: Any, name: str) -> Customer:
    """An organisation with the search columns the customer services fill in."""
    return CustomerFactory(
        kind=CustomerKind.ORGANISATION, name=name, owner=owner,
        name_pinyin=full_pinyin(name), name_initials=pinyin_initials(name),
    )  # fmt: skip


def picked_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-organisation-pick="(\d+)"', html)]


@pytest.fixture
def picker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The picker from two visible organisations on (instead of 200), so tests stay small."""
    monkeypatch.setattr(customer_views, "ORGANISATION_SELECT_LIMIT", 2)


def test_options_are_only_visible_organisations_matching_the_text(org: Any, client_for: ClientFor) -> None:
    north = organisation(org.rep_north, "华为技术有限公司")
    south = organisation(org.rep_south, "华为南方分公司")
    CustomerFactory(kind=CustomerKind.PERSON, name="华为人", owner=org.rep_south)
    organisation(org.rep_south, "腾讯科技")

    south_html = client_for("rep_south").get(OPTIONS, {"q": "华为"}).content.decode()
    north_html = client_for("rep_north").get(OPTIONS, {"q": "huawei"}).content.decode()

    assert picked_ids(south_html) == [south.pk]
    assert "华为技术有限公司" not in south_html
    assert picked_ids(north_html) == [north.pk]
    assert picked_ids(client_for("rep_north").get(OPTIONS, {"q": "hw"}).content.decode()) == [north.pk]


def test_options_are_limited_and_say_when_nothing_matches(org: Any, client_for: ClientFor) -> None:
    for n in range(25):
        organisation(org.rep_north, f"星河{n:02d}")
    client = client_for("rep_north")

    assert len(picked_ids(client.get(OPTIONS, {"q": "星河"}).content.decode())) == 20
    empty = client.get(OPTIONS, {"q": "没有这家"}).content.decode()
    assert picked_ids(empty) == [] and "No organisation you can see matches what you typed." in empty
    assert client.get(OPTIONS).content.decode().strip() == ""


def test_options_need_a_signed_in_user(org: Any) -> None:
    organisation(org.rep_north, "华为技术有限公司")
    response = Client().get(OPTIONS, {"q": "华为"})
    assert response.status_code == 302 and "华为" not in response.content.decode()


def test_few_organisations_are_a_select(org: Any, client_for: ClientFor) -> None:
    company = organisation(org.rep_north, "华为技术有限公司")
    html = client_for("rep_north").get(CREATE).content.decode()
    assert f'<option value="{company.pk}">华为技术有限公司</option>' in html
    assert "data-organisation-picker" not in html


def test_many_organisations_are_a_search_picker(org: Any, client_for: ClientFor, picker: None) -> None:
    organisation(org.rep_north, "华为技术有限公司")
    organisation(org.rep_north, "腾讯科技")
    html = client_for("rep_north").get(CREATE).content.decode()
    block = html.split("data-organisation-picker")[1].split('<div class="person-only">')[0]
    assert "<option" not in block and "华为" not in block
    assert '<input type="hidden" name="organisation" data-organisation-value="" id="id_organisation">' in html
    assert f'hx-get="{OPTIONS}"' in html
    assert client_for("rep_south").get(CREATE).content.decode().count("data-organisation-picker") == 0


def test_the_picked_organisation_is_saved_and_shown_on_edit(org: Any, client_for: ClientFor, picker: None) -> None:
    company = organisation(org.rep_north, "华为技术有限公司")
    organisation(org.rep_north, "腾讯科技")
    client = client_for("rep_north")

    response = client.post(CREATE, {"kind": "person", "name": "李雷", "organisation": str(company.pk)})

    person = Customer.objects.get(name="李雷")
    assert response.status_code == 302
    assert (person.organisation, person.company_name) == (company, "华为技术有限公司")
    edit = client.get(reverse("customers:customer_edit", args=[person.pk])).content.decode()
    assert f'name="organisation" value="{company.pk}"' in edit
    assert "<span data-organisation-chosen-name>华为技术有限公司</span>" in edit


def test_an_invisible_organisation_is_refused_next_to_the_field(org: Any, client_for: ClientFor, picker: None) -> None:
    organisation(org.rep_south, "南方一号")
    organisation(org.rep_south, "南方二号")
    hidden = organisation(org.rep_north, "华为技术有限公司")

    response = client_for("rep_south").post(CREATE, {"kind": "person", "name": "李雷", "organisation": str(hidden.pk)})

    html = response.content.decode()
    assert response.status_code == 422
    assert not Customer.objects.filter(name="李雷").exists()
    block = html.split("data-organisation-picker")[1].split("</fieldset>")[0]
    assert '<div class="error" id="id_organisation_error">Choose an organisation you can see.</div>' in block
    assert 'aria-invalid="true" aria-describedby="id_organisation_error"' in block
    assert "华为技术有限公司" not in html


def test_an_invalid_field_is_linked_to_its_error_and_help(org: Any, client_for: ClientFor) -> None:
    response = client_for("rep_north").post(
        CREATE, {"kind": "person", "name": "张伟", "birthday": "2999-01-01", "family_members": "x"}
    )

    html = response.content.decode()
    assert response.status_code == 422
    birthday = re.search(r"<input[^>]*name=\"birthday\"[^>]*>", html)
    assert birthday is not None
    assert 'aria-invalid="true"' in birthday.group(0)
    assert 'aria-describedby="id_birthday_error"' in birthday.group(0)
    assert '<div class="error" id="id_birthday_error">Enter a date between 1900 and today.</div>' in html
    family = re.search(r"<textarea[^>]*name=\"family_members\"[^>]*>", html)
    assert family is not None and 'aria-describedby="id_family_members_helptext"' in family.group(0)
    assert "aria-invalid" not in family.group(0)
    assert '<div class="help" id="id_family_members_helptext">' in html
    name = re.search(r"<input[^>]*name=\"name\"[^>]*>", html)
    assert name is not None and "aria-" not in name.group(0)

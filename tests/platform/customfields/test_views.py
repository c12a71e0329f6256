"""Custom field settings pages: the list per record type, and the form with its options as text lines."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.customfields.definition_form import choice_lines, parse_choice_lines
from guanxi.platform.customfields.models import CustomFieldDefinition
from tests.platform.customfields.conftest import TARGET, TIERS, define


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_choice_lines_are_parsed_and_written_back() -> None:
    text = "gold|金卡|Gold\r\n\n silver | 银卡 \nbronze\n"
    choices = parse_choice_lines(text)
    assert choices == [
        {"value": "gold", "label_zh": "金卡", "label_en": "Gold"},
        {"value": "silver", "label_zh": "银卡", "label_en": ""},
        {"value": "bronze", "label_zh": "", "label_en": ""},
    ]
    assert choice_lines(TIERS) == "gold|金卡|Gold\nsilver|银卡|Silver"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gold|金|Gold|extra", "Line 1: write value|中文|English with at most two | signs."),
        ("gold\n|银卡|Silver", "Line 2: the value is missing."),
    ],
)
def test_bad_choice_lines_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as failed:
        parse_choice_lines(text)
    assert failed.value.fields == {"choices": [message]}


def test_list_page_shows_the_fields_of_one_record_type(org: Any) -> None:
    define("tier", "choice", choices=TIERS)
    define("old", "text", is_active=False)
    CustomFieldDefinition.objects.create(
        target="customers.lead", key="campaign", label_zh="活动", label_en="Campaign", field_type="text"
    )
    html = _client(org.admin).get(reverse("customfields:definition_list"), {"target": TARGET}).content.decode()
    assert ">tier<" in html and ">old<" in html and "Inactive" in html and "campaign" not in html
    leads = _client(org.admin).get(reverse("customfields:definition_list"), {"target": "customers.lead"})
    assert "campaign" in leads.content.decode()


def test_admin_creates_a_choice_field_from_the_form(org: Any) -> None:
    response = _client(org.admin).post(
        reverse("customfields:definition_create"),
        {
            "target": TARGET,
            "key": "tier",
            "field_type": "choice",
            "label_zh": "会员等级",
            "label_en": "Tier",
            "choices": "gold|金卡|Gold\nsilver|银卡|Silver",
            "required": "on",
            "position": "2",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('customfields:definition_list')}?target={TARGET}"
    definition = CustomFieldDefinition.objects.get()
    assert (definition.key, definition.required, definition.position, definition.choices) == ("tier", True, 2, TIERS)


def test_form_errors_appear_next_to_the_fields(org: Any) -> None:
    define("tier", "text")
    response = _client(org.admin).post(
        reverse("customfields:definition_create"),
        {"target": TARGET, "key": "tier", "field_type": "choice", "label_zh": "", "label_en": "Tier", "position": "0"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_key_error">This key is already used for this record type.' in html
    assert 'id="id_choices_error">Add at least one option.' in html
    assert 'id="id_label_zh_error">Enter a Chinese label.' in html
    bad_lines = _client(org.admin).post(
        reverse("customfields:definition_create"),
        {"target": TARGET, "key": "level", "field_type": "choice", "label_zh": "级", "label_en": "L",
         "choices": "a|b|c|d", "position": "0"},
    )  # fmt: skip
    assert bad_lines.status_code == 422
    assert "Line 1: write value|中文|English with at most two | signs." in bad_lines.content.decode()
    assert CustomFieldDefinition.objects.count() == 1


def test_admin_edits_labels_but_not_key_or_type(org: Any) -> None:
    definition = define("tier", "choice", choices=TIERS)
    client = _client(org.admin)
    page = client.get(reverse("customfields:definition_edit", args=[definition.pk])).content.decode()
    assert "gold|金卡|Gold\nsilver|银卡|Silver" in page
    response = client.post(
        reverse("customfields:definition_edit", args=[definition.pk]),
        {
            "key": "hacked",
            "field_type": "text",
            "label_zh": "等级",
            "label_en": "Level",
            "choices": "gold|金卡|Gold",
            "position": "1",
            "version": "1",
        },
    )
    assert response.status_code == 302
    definition.refresh_from_db()
    assert (definition.key, definition.field_type, definition.label_en, definition.is_active) == (
        "tier",
        "choice",
        "Level",
        False,
    )
    assert definition.choices == [TIERS[0]]


def test_pages_are_refused_to_non_managers(org: Any) -> None:
    definition = define("tier", "text")
    client = _client(org.marketer)
    assert client.get(reverse("customfields:definition_list")).status_code == 403
    assert client.get(reverse("customfields:definition_edit", args=[definition.pk])).status_code == 403
    assert client.post(reverse("customfields:definition_create"), {"key": "x"}).status_code == 403

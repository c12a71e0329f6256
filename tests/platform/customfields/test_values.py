"""Custom field values: each type's stored form, and a clear message naming the field for bad input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.customfields.models import CustomFieldDefinition
from guanxi.platform.customfields.values import clean_custom_values, display_value
from tests.platform.customfields.conftest import TARGET


@pytest.mark.parametrize(
    ("key", "raw", "stored"),
    [
        ("note", "  全角ＡＢＣ  ", "全角ABC"),
        ("employees", "1,200", "1200"),
        ("employees", 12.5, "12.5"),
        ("employees", "12.50", "12.5"),
        ("employees", Decimal("-3"), "-3"),
        ("employees", "1E+3", "1000"),
        ("budget", "99.5", {"amount": "99.50", "currency": "CNY"}),
        ("budget", {"amount": 10, "currency": "usd"}, {"amount": "10.00", "currency": "USD"}),
        ("signed_on", "2024-02-29", "2024-02-29"),
        ("signed_on", dt.date(2023, 1, 5), "2023-01-05"),
        ("tier", "gold", "gold"),
        ("hobbies", ["tea", "golf", "tea"], ["tea", "golf"]),
        ("hobbies", "golf,书法", ["golf", "书法"]),
        ("vip", "是", True),
        ("vip", "false", False),
        ("vip", True, True),
        ("homepage", "https://example.com/a?b=1", "https://example.com/a?b=1"),
    ],
)
def test_valid_values_are_stored_in_their_canonical_form(
    every_type: dict[str, CustomFieldDefinition], key: str, raw: Any, stored: Any
) -> None:
    assert clean_custom_values(TARGET, {key: raw}) == {key: stored}


def test_a_user_field_stores_the_id_of_an_active_user(org: Any, every_type: dict[str, CustomFieldDefinition]) -> None:
    assert clean_custom_values(TARGET, {"buddy": str(org.rep_north.pk)}) == {"buddy": org.rep_north.pk}
    org.rep_south.is_active = False
    org.rep_south.save()
    with pytest.raises(ValidationFailed) as failed:
        clean_custom_values(TARGET, {"buddy": org.rep_south.pk})
    assert failed.value.fields == {"custom_fields.buddy": ["Choose an active user."]}


def test_bad_values_of_every_type_are_named_in_one_error(every_type: dict[str, CustomFieldDefinition]) -> None:
    with pytest.raises(ValidationFailed) as failed:
        clean_custom_values(
            TARGET,
            {
                "note": "字" * 2001,
                "employees": "many",
                "budget": {"amount": "1", "currency": "RMB!"},
                "signed_on": "2024-02-30",
                "tier": "platinum",
                "hobbies": ["golf", "skiing"],
                "vip": "maybe",
                "buddy": "someone",
                "homepage": "javascript:alert(1)",
                "shoe_size": "42",
            },
        )
    assert failed.value.fields == {
        "custom_fields.shoe_size": ["There is no custom field “shoe_size”."],
        "custom_fields.note": ["Keep it under 2000 characters."],
        "custom_fields.employees": ["Enter a number."],
        "custom_fields.budget": ["Use a three-letter currency code such as CNY."],
        "custom_fields.signed_on": ["Enter a date as YYYY-MM-DD."],
        "custom_fields.tier": ["Choose one of the listed options."],
        "custom_fields.hobbies": ["Choose options from the list."],
        "custom_fields.vip": ["Answer yes or no."],
        "custom_fields.buddy": ["Choose a user."],
        "custom_fields.homepage": ["Enter a web address starting with http:// or https://."],
    }


def test_numbers_must_be_finite_and_reasonable(every_type: dict[str, CustomFieldDefinition]) -> None:
    for raw in ("NaN", "Infinity", "1e20", True):
        with pytest.raises(ValidationFailed):
            clean_custom_values(TARGET, {"employees": raw})


def test_required_fields_and_partial_updates(every_type: dict[str, CustomFieldDefinition]) -> None:
    CustomFieldDefinition.objects.filter(key="tier").update(required=True)
    with pytest.raises(ValidationFailed) as failed:
        clean_custom_values(TARGET, {"note": "x"})
    assert failed.value.fields == {"custom_fields.tier": ["This field is required."]}
    with pytest.raises(ValidationFailed) as failed:
        clean_custom_values(TARGET, {"tier": ""})
    assert failed.value.fields == {"custom_fields.tier": ["This field is required."]}
    existing = {"tier": "gold", "note": "old", "removed_field": "x"}
    assert clean_custom_values(TARGET, {"note": None}, existing=existing, partial=True) == {"tier": "gold"}


def test_inactive_definitions_accept_no_values(every_type: dict[str, CustomFieldDefinition]) -> None:
    CustomFieldDefinition.objects.filter(key="note").update(is_active=False)
    with pytest.raises(ValidationFailed) as failed:
        clean_custom_values(TARGET, {"note": "x"})
    assert failed.value.fields == {"custom_fields.note": ["There is no custom field “note”."]}


def test_values_are_displayed_in_the_active_language(org: Any, every_type: dict[str, CustomFieldDefinition]) -> None:
    from django.utils import translation

    with translation.override("zh-hans"):
        assert display_value(every_type["tier"], "gold") == "金卡"
        assert display_value(every_type["hobbies"], ["golf", "tea"]) == "高尔夫, 茶道"
    with translation.override("en"):
        assert display_value(every_type["tier"], "gold") == "Gold"
        assert display_value(every_type["vip"], True) == "Yes"
        assert display_value(every_type["budget"], {"amount": "1.00", "currency": "CNY"}) == "CNY 1.00"
        assert display_value(every_type["buddy"], org.rep_north.pk, {org.rep_north.pk: "北"}) == "北"

"""Custom fields as list filters ("cf.<key>=value"): the same answers on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.customers.models import Customer
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.customfields.filters import custom_field_filter_q
from guanxi.platform.customfields.models import CustomFieldDefinition
from guanxi.platform.customfields.values import active_definitions, clean_custom_values
from tests.factories import CustomerFactory
from tests.platform.customfields.conftest import TARGET


@pytest.fixture
def customers(org: Any, every_type: dict[str, CustomFieldDefinition]) -> dict[str, Customer]:
    def make(name: str, **values: Any) -> Customer:
        return CustomerFactory(name=name, owner=org.rep_north, custom_fields=clean_custom_values(TARGET, values))

    return {
        "a": make(
            "甲",
            note="喜欢喝茶 Green Tea",
            employees="12.50",
            budget={"amount": "1000", "currency": "CNY"},
            signed_on="2024-03-01",
            tier="gold",
            hobbies=["golf", "书法"],
            vip=True,
            buddy=org.rep_north.pk,
            homepage="https://a.example.com",
        ),
        "b": make(
            "乙",
            note="coffee",
            employees="300",
            budget={"amount": "99.9", "currency": "USD"},
            signed_on="2023-12-31",
            tier="silver",
            hobbies=["tea"],
            vip=False,
            buddy=org.rep_south.pk,
            homepage="https://b.example.com",
        ),
        "c": make("丙"),
    }


def _names(params: dict[str, Any]) -> list[str]:
    q = custom_field_filter_q(active_definitions(TARGET), params)
    return sorted(Customer.objects.filter(q).values_list("name", flat=True))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"cf.note": "green tea"}, ["甲"]),
        ({"cf.note": "茶"}, ["甲"]),
        ({"cf.employees": "12.5"}, ["甲"]),
        ({"cf.employees": "300.00"}, ["乙"]),
        ({"cf.budget": "1000"}, ["甲"]),
        ({"cf.budget": "99.90"}, ["乙"]),
        ({"cf.signed_on": "2023-12-31"}, ["乙"]),
        ({"cf.tier": "gold"}, ["甲"]),
        ({"cf.hobbies": "golf"}, ["甲"]),
        ({"cf.hobbies": "tea"}, ["乙"]),
        ({"cf.hobbies": "书法"}, ["甲"]),
        ({"cf.vip": "yes"}, ["甲"]),
        ({"cf.vip": "否"}, ["乙"]),
        ({"cf.homepage": "https://b.example.com"}, ["乙"]),
        ({"cf.tier": "gold", "cf.vip": "true"}, ["甲"]),
        ({"cf.tier": "gold", "cf.vip": "false"}, []),
        ({"cf.tier": "", "q": "ignored"}, ["丙", "乙", "甲"]),
    ],
)
def test_each_type_filters_on_both_databases(
    customers: dict[str, Customer], params: dict[str, Any], expected: list[str]
) -> None:
    assert _names(params) == sorted(expected)


def test_user_fields_filter_by_user_id(org: Any, customers: dict[str, Customer]) -> None:
    assert _names({"cf.buddy": str(org.rep_south.pk)}) == ["乙"]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"cf.shoe_size": "42"}, {"cf.shoe_size": ["There is no custom field “shoe_size”."]}),
        ({"cf.tier": "platinum"}, {"cf.tier": ["Choose one of the listed options."]}),
        ({"cf.hobbies": "skiing"}, {"cf.hobbies": ["Choose options from the list."]}),
        ({"cf.employees": "lots"}, {"cf.employees": ["Enter a number."]}),
        ({"cf.signed_on": "yesterday"}, {"cf.signed_on": ["Enter a date as YYYY-MM-DD."]}),
    ],
)
def test_bad_filter_values_name_the_parameter(
    every_type: dict[str, CustomFieldDefinition], params: dict[str, Any], fields: dict[str, list[str]]
) -> None:
    with pytest.raises(ValidationFailed) as failed:
        custom_field_filter_q(active_definitions(TARGET), params)
    assert failed.value.fields == fields

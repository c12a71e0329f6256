"""Conditions: checking them at save time (each problem at its path), evaluating them on a record, and the SQL
filter that agrees with the evaluation on both databases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.models import ContactPoint
from guanxi.platform.automation.conditions import ChangeFacts, clean_conditions, conditions_q, evaluate
from guanxi.platform.automation.engine import load_record
from guanxi.platform.automation.registry import fields_by_path, record_type
from guanxi.platform.automation.values import installation_today
from guanxi.platform.customfields.models import CustomFieldDefinition
from tests.factories import CustomerFactory

TIERS = [
    {"value": "gold", "label_zh": "金", "label_en": "Gold"},
    {"value": "silver", "label_zh": "银", "label_en": "Silver"},
]
HOBBIES = [
    {"value": "golf", "label_zh": "高尔夫", "label_en": "Golf"},
    {"value": "tea", "label_zh": "茶", "label_en": "Tea"},
]


def customer_fields() -> dict[str, Any]:
    rtype = record_type("customers.customer")
    assert rtype is not None
    return fields_by_path(rtype)


@pytest.fixture
def custom(db: None) -> None:
    for key, kind, extra in (
        ("tier", "choice", {"choices": TIERS}),
        ("hobbies", "multi_choice", {"choices": HOBBIES}),
        ("budget", "number", {}),
        ("renewal", "date", {}),
        ("vip", "boolean", {}),
        ("memo", "text", {}),
    ):
        CustomFieldDefinition.objects.create(
            target="customers.customer", key=key, label_zh=key, label_en=key.title(), field_type=kind, **extra
        )


def clean(tree: Any, *, allow_changed: bool = False) -> tuple[dict[str, Any], dict[str, list[str]]]:
    return clean_conditions(tree, customer_fields(), allow_changed=allow_changed)


# Validation ------------------------------------------------------------------------------------------------


def test_a_valid_tree_is_normalised(org: Any, custom: None) -> None:
    tree, errors = clean(
        {
            "all": [
                {"field": "rating", "op": "gte", "value": "4"},
                {
                    "any": [
                        {"field": "custom_fields.tier", "op": "in", "value": "gold, silver"},
                        {"field": "custom_fields.budget", "op": "gt", "value": "1,000.50"},
                    ]
                },
                {"field": "last_contact_at", "op": "lt", "value": "today-90"},
                {"field": "owner", "op": "is_not_empty", "value": "ignored"},
                {"field": "email_consent", "op": "eq", "value": "yes"},
            ]
        }
    )
    assert errors == {}
    assert tree == {
        "all": [
            {"field": "rating", "op": "gte", "value": 4},
            {
                "any": [
                    {"field": "custom_fields.tier", "op": "in", "value": ["gold", "silver"]},
                    {"field": "custom_fields.budget", "op": "gt", "value": "1000.5"},
                ]
            },
            {"field": "last_contact_at", "op": "lt", "value": "today-90"},
            {"field": "owner", "op": "is_not_empty"},
            {"field": "email_consent", "op": "eq", "value": True},
        ]
    }


def test_an_empty_tree_or_a_bare_list_is_accepted(db: None) -> None:
    assert clean({}) == ({}, {})
    assert clean([{"field": "rating", "op": "eq", "value": 3}]) == (
        {"all": [{"field": "rating", "op": "eq", "value": 3}]},
        {},
    )


@pytest.mark.parametrize(
    ("tree", "errors"),
    [
        (
            {"all": [{"field": "shoe_size", "op": "eq", "value": 1}]},
            {"conditions.0.field": ["Choose a field of the record from the list."]},
        ),
        (
            {"all": [{"field": "birthday", "op": "contains", "value": "05"}]},
            {
                "conditions.0.op": [
                    "Choose a comparison that fits a Date field: eq, ne, gt, gte, lt, lte, is_empty, "
                    "is_not_empty, changed."
                ]
            },
        ),
        (
            {
                "all": [
                    {"field": "rating", "op": "eq", "value": 1},
                    {"field": "lifecycle_stage", "op": "eq", "value": "sleepy"},
                ]
            },
            {"conditions.1.value": ["Choose one of: prospect, new, active, loyal, dormant, churned, won_back."]},
        ),
        (
            {"all": [{"field": "rating", "op": "gt", "value": "many"}]},
            {"conditions.0.value": ["Enter a whole number."]},
        ),
        (
            {"all": [{"field": "birthday", "op": "lt", "value": "2025-02-30"}]},
            {"conditions.0.value": ["Enter a date as YYYY-MM-DD, or today, today+7, today-30."]},
        ),
        (
            {
                "any": [
                    {"field": "rating", "op": "eq", "value": 1},
                    {"all": [{"field": "owner", "op": "eq", "value": 999999}]},
                ]
            },
            {"conditions.1.0.value": ["Choose a user from the list."]},
        ),
        ({"all": [{"field": "rating", "op": "in", "value": []}]}, {"conditions.0.value": ["List at least one value."]}),
        (
            {"all": [{"field": "rating", "op": "changed"}]},
            {"conditions.0.op": ["“changed” only applies to rules triggered by a change of the record."]},
        ),
        ({"both": []}, {"conditions": ['Write a group as {"all": [...]} or {"any": [...]}.']}),
        (
            {"all": [{"field": "rating", "op": "eq", "value": 1, "extra": 2}]},
            {"conditions.0": ["Unknown keys: extra."]},
        ),
        (
            {"all": [{"all": [{"all": [{"all": [{"all": [{"all": []}]}]}]}]}]},
            {"conditions.0.0.0.0.0": ["Nest groups at most 5 levels deep."]},
        ),
    ],
)
def test_bad_conditions_name_the_place_and_the_problem(
    org: Any, tree: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    assert clean(tree) == ({}, errors)


def test_changed_is_allowed_for_change_rules_on_reported_fields_only(db: None) -> None:
    assert clean({"all": [{"field": "owner", "op": "changed"}]}, allow_changed=True)[1] == {}
    assert clean({"all": [{"field": "email_consent", "op": "changed"}]}, allow_changed=True)[1] == {
        "conditions.0.op": ["Changes of this field are not reported, so “changed” cannot test it."]
    }


# Evaluation and SQL agree -------------------------------------------------------------------------------------

CASES: list[tuple[str, str, Any]] = [
    ("name", "eq", "王芳"),
    ("name", "ne", "王芳"),
    ("name", "contains", "芳"),
    ("name", "in", ["王芳", "李雷"]),
    ("name", "not_in", ["王芳"]),
    ("industry", "is_empty", None),
    ("industry", "is_not_empty", None),
    ("lifecycle_stage", "eq", "dormant"),
    ("lifecycle_stage", "in", ["dormant", "loyal"]),
    ("lifecycle_stage", "not_in", ["dormant"]),
    ("rating", "gt", 2),
    ("rating", "gte", 3),
    ("rating", "lt", 3),
    ("rating", "lte", 0),
    ("rating", "ne", 3),
    ("birthday", "lt", "1990-06-01"),
    ("birthday", "is_empty", None),
    ("last_contact_at", "lt", "today-30"),
    ("last_contact_at", "eq", "today"),
    ("last_contact_at", "gt", "today-1"),
    ("last_contact_at", "ne", "today"),
    ("owner", "eq", "rep"),
    ("owner", "ne", "rep"),
    ("owner", "is_empty", None),
    ("team", "in", ["north"]),
    ("owner.team", "eq", "north"),
    ("organisation.industry", "contains", "零售"),
    ("in_pool", "eq", False),
    ("email_consent", "eq", True),
    ("email_consent", "eq", False),
    ("custom_fields.tier", "eq", "gold"),
    ("custom_fields.tier", "ne", "gold"),
    ("custom_fields.tier", "in", ["gold", "silver"]),
    ("custom_fields.tier", "is_empty", None),
    ("custom_fields.tier", "is_not_empty", None),
    ("custom_fields.hobbies", "contains", "tea"),
    ("custom_fields.budget", "gt", "100"),
    ("custom_fields.budget", "eq", "250"),
    ("custom_fields.renewal", "eq", "2025-03-01"),
    ("custom_fields.renewal", "lt", "2025-06-01"),
    ("custom_fields.vip", "eq", True),
    ("custom_fields.memo", "contains", "call"),
    ("custom_fields.memo", "eq", "call back"),
]


@pytest.fixture
def people(org: Any, custom: None) -> list[Any]:
    now = timezone.now()
    org_customer = CustomerFactory(kind="organisation", name="华联", industry="零售连锁", owner=org.rep_south)
    wang = CustomerFactory(
        name="王芳",
        owner=org.rep_north,
        rating=3,
        lifecycle_stage="dormant",
        birthday=dt.date(1990, 5, 1),
        last_contact_at=now - dt.timedelta(days=40),
        organisation=org_customer,
        custom_fields={
            "tier": "gold",
            "hobbies": ["golf", "tea"],
            "budget": "250",
            "renewal": "2025-03-01",
            "vip": True,
            "memo": "call back",
        },
    )
    ContactPoint.objects.create(customer=wang, kind="email", value="w@example.com", consent="granted")
    li = CustomerFactory(
        name="李雷",
        owner=org.rep_south,
        rating=1,
        lifecycle_stage="loyal",
        industry="IT",
        last_contact_at=now,
        custom_fields={"tier": "silver", "budget": "99.5", "renewal": "2025-07-01", "vip": False, "memo": "Call later"},
    )
    pooled = CustomerFactory(name="韩梅梅", owner=None, team=None, custom_fields={})
    return [org_customer, wang, li, pooled]


@pytest.mark.parametrize(("path", "op", "value"), CASES)
def test_python_and_sql_agree_on_every_operator(org: Any, people: list[Any], path: str, op: str, value: Any) -> None:
    named = {"rep": org.rep_north.pk, "north": org.north.pk}
    if isinstance(value, str) and value in named:
        value = named[value]
    if isinstance(value, list):
        value = [named.get(item, item) for item in value]
    leaf: dict[str, Any] = {"field": path, "op": op}
    if value is not None:
        leaf["value"] = value
    tree, errors = clean({"all": [leaf]})
    assert errors == {}
    fields = customer_fields()
    rtype = record_type("customers.customer")
    assert rtype is not None
    expected = {c.pk for c in people if evaluate(tree, load_record(rtype, c.pk), fields)[0]}
    q = conditions_q(tree, fields)
    if q is not None:
        selected = set(rtype.queryset().filter(q).filter(pk__in=[c.pk for c in people]).values_list("pk", flat=True))
        assert selected == expected
    assert expected, f"{path} {op} {value} matches nobody: the case proves nothing"


def test_groups_combine_with_all_and_any(org: Any, people: list[Any]) -> None:
    _org, wang, li, _pooled = people
    rtype = record_type("customers.customer")
    assert rtype is not None
    fields = customer_fields()
    tree, _errors = clean(
        {
            "any": [
                {
                    "all": [
                        {"field": "rating", "op": "gte", "value": 3},
                        {"field": "email_consent", "op": "eq", "value": True},
                    ]
                },
                {"field": "custom_fields.tier", "op": "eq", "value": "silver"},
            ]
        }
    )
    assert {c.pk for c in people if evaluate(tree, load_record(rtype, c.pk), fields)[0]} == {wang.pk, li.pk}
    q = conditions_q(tree, fields)
    assert q is not None
    assert set(rtype.queryset().filter(q).values_list("pk", flat=True)) == {wang.pk, li.pk}


def test_the_evaluation_reports_each_line_with_actual_values(org: Any, people: list[Any]) -> None:
    wang = people[1]
    rtype = record_type("customers.customer")
    assert rtype is not None
    tree, _errors = clean(
        {
            "all": [
                {"field": "owner", "op": "eq", "value": org.rep_south.pk},
                {"field": "custom_fields.tier", "op": "eq", "value": "gold"},
            ]
        }
    )
    met, lines = evaluate(tree, load_record(rtype, wang.pk), customer_fields())
    assert met is False
    assert [
        (line.path, line.field_label, line.op_label, line.expected, line.actual, line.result) for line in lines
    ] == [
        ("conditions", "", "", "", "", False),
        ("conditions.0", "Owner", "is", str(org.rep_south), str(org.rep_north), False),
        ("conditions.1", "Tier", "is", "Gold", "Gold", True),
    ]


def test_changed_reads_the_event_changes(org: Any, people: list[Any]) -> None:
    wang = people[1]
    rtype = record_type("customers.customer")
    assert rtype is not None
    tree, _errors = clean({"all": [{"field": "owner", "op": "changed"}]}, allow_changed=True)
    record = load_record(rtype, wang.pk)
    fields = customer_fields()
    assert evaluate(tree, record, fields, facts=ChangeFacts(changes={"owner_id": [1, 2]}))[0] is True
    assert evaluate(tree, record, fields, facts=ChangeFacts(changes={"rating": [1, 2]}))[0] is False
    assert evaluate(tree, record, fields, facts=ChangeFacts(created=True))[0] is True


def test_relative_dates_are_read_when_the_rule_runs(org: Any, people: list[Any]) -> None:
    wang = people[1]
    rtype = record_type("customers.customer")
    assert rtype is not None
    tree, _errors = clean({"all": [{"field": "last_contact_at", "op": "lt", "value": "today-30"}]})
    record = load_record(rtype, wang.pk)
    fields = customer_fields()
    assert evaluate(tree, record, fields)[0] is True
    assert evaluate(tree, record, fields, today=installation_today() - dt.timedelta(days=20))[0] is False

"""Custom field definitions API: everyone reads them; custom-field managers create and change them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from guanxi.platform.customfields.models import CustomFieldDefinition
from tests.platform.customfields.conftest import TARGET, TIERS, define

API = "/api/v1/custom-fields"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_everyone_lists_active_definitions_of_a_record_type(org: Any, every_type: dict[str, Any]) -> None:
    define("old", "text", is_active=False)
    CustomFieldDefinition.objects.create(
        target="customers.lead", key="campaign", label_zh="活动", label_en="Campaign", field_type="text"
    )
    body = _client(org.rep_north).get(API, {"target": TARGET}).json()
    assert [d["key"] for d in body["items"]] == list(every_type)
    tier = next(d for d in body["items"] if d["key"] == "tier")
    assert tier["choices"] == TIERS and tier["field_type"] == "choice" and tier["label_zh"] == "tier中"
    assert len(_client(org.rep_north).get(API).json()["items"]) == 10


def test_inactive_definitions_are_listed_for_managers_only(org: Any) -> None:
    define("old", "text", is_active=False)
    assert _client(org.rep_north).get(API, {"include_inactive": "true"}).status_code == 403
    assert [d["key"] for d in _client(org.admin).get(API, {"include_inactive": "true"}).json()["items"]] == ["old"]


def test_unknown_record_type_is_a_validation_error(org: Any) -> None:
    response = _client(org.rep_north).get(API, {"target": "rockets"})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"target": ["Choose a record type from the list."]}


def test_admin_creates_and_changes_a_definition(org: Any) -> None:
    client = _client(org.admin)
    created = client.post(
        API,
        {
            "target": TARGET,
            "key": "tier",
            "field_type": "choice",
            "label_zh": "等级",
            "label_en": "Tier",
            "choices": [{"value": "gold", "label_zh": "金", "label_en": "Gold"}],
            "required": True,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    definition = created.json()
    assert (definition["key"], definition["required"], definition["version"]) == ("tier", True, 1)
    url = f"{API}/{definition['id']}"
    assert client.get(url)["ETag"] == '"1"'
    changed = client.patch(
        url, {"label_en": "Level", "position": 5}, content_type="application/json", HTTP_IF_MATCH='"1"'
    )
    assert changed.status_code == 200
    assert (changed.json()["label_en"], changed.json()["position"], changed.json()["version"]) == ("Level", 5, 2)
    assert changed.json()["choices"] == [{"value": "gold", "label_zh": "金", "label_en": "Gold"}]
    stale = client.patch(url, {"label_en": "X"}, content_type="application/json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert client.patch(url, {"label_en": "X"}, content_type="application/json").status_code == 428


def test_definition_errors_answer_422_naming_the_fields(org: Any) -> None:
    define("tier", "text")
    response = _client(org.admin).post(
        API,
        {"target": TARGET, "key": "tier", "field_type": "multi_choice", "label_zh": "", "label_en": "Tier"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "key": ["This key is already used for this record type."],
        "label_zh": ["Enter a Chinese label."],
        "choices": ["Add at least one option."],
    }
    bad_type = _client(org.admin).post(
        API, {"target": TARGET, "key": "x", "field_type": "colour", "label_zh": "x", "label_en": "x"},
        content_type="application/json",
    )  # fmt: skip
    assert bad_type.status_code == 422 and "field_type" in bad_type.json()["error"]["fields"]


def test_non_managers_cannot_write_definitions(org: Any) -> None:
    definition = define("tier", "text")
    client = _client(org.manager_north)
    body = {"target": TARGET, "key": "x", "field_type": "text", "label_zh": "x", "label_en": "x"}
    assert client.post(API, body, content_type="application/json").status_code == 403
    patch = client.patch(
        f"{API}/{definition.pk}", {"label_en": "y"}, content_type="application/json", HTTP_IF_MATCH="1"
    )
    assert patch.status_code == 403
    assert client.get(f"{API}/999999").status_code == 404


@pytest.mark.parametrize("rows", [10, 50])
def test_list_runs_a_fixed_number_of_queries(org: Any, rows: int) -> None:
    for i in range(rows):
        define(f"field{i}", "text")
    client = _client(org.rep_north)
    client.get("/api/v1/me")
    with CaptureQueriesContext(connection) as queries:
        assert len(client.get(API).json()["items"]) == rows
    assert len(queries) == 3  # session, user, definitions

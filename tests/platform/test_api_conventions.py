"""Conventions every API route keeps: authentication, CSRF, one error format, declared status codes, docs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from guanxi.customers.models import Customer
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from guanxi.platform.identity.services import api_token_create, api_token_revoke
from tests.factories import CustomerFactory, actor

API = "/api/v1"
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def _assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    assert sorted(body["error"]) == ["code", "fields", "message"]
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


def _openapi(client: Client | None = None) -> dict[str, Any]:
    response = (client or Client()).get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


# Authentication ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_requests_without_credentials_get_401_in_the_error_format() -> None:
    client = Client(enforce_csrf_checks=True)
    _assert_error(client.get(f"{API}/customers"), 401, "unauthorized")
    # An unsafe request without a session is unauthenticated, not a CSRF failure.
    _assert_error(client.post(f"{API}/customers", {"name": "x"}, content_type="application/json"), 401, "unauthorized")
    _assert_error(client.get(f"{API}/customers", HTTP_AUTHORIZATION="Bearer gx_nope_nope"), 401, "unauthorized")


def test_revoked_and_expired_tokens_are_refused(org: Any) -> None:
    token, secret = api_token_create(actor=actor(org.rep_north), name="t", scopes=["customers:read"], expires_at=None)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(f"{API}/customers").status_code == 200
    api_token_revoke(actor=actor(org.rep_north), token_id=token.pk)
    _assert_error(client.get(f"{API}/customers"), 401, "unauthorized")


def test_token_requests_act_for_the_token_user_through_the_api_channel(org: Any) -> None:
    _token, secret = api_token_create(
        actor=actor(org.rep_north), name="t", scopes=["customers:read", "customers:write"], expires_at=None
    )
    response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").post(
        f"{API}/customers", {"name": "张伟"}, content_type="application/json"
    )
    assert response.status_code == 201
    customer = Customer.objects.get()
    assert customer.owner == org.rep_north
    assert customer.history.first().history_user == org.rep_north


def test_session_auth_reads_without_csrf_but_writes_need_the_csrf_token(org: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.rep_north)
    mine = CustomerFactory(owner=org.rep_north)
    assert client.get(f"{API}/customers/{mine.pk}").status_code == 200

    error = _assert_error(
        client.post(f"{API}/customers", {"name": "张伟"}, content_type="application/json"), 403, "csrf_failed"
    )
    assert "CSRF" in error["message"]
    _assert_error(
        client.patch(
            f"{API}/customers/{mine.pk}", {"notes": "x"}, content_type="application/json", HTTP_IF_MATCH='"1"'
        ),
        403,
        "csrf_failed",
    )
    _assert_error(client.delete(f"{API}/customers/{mine.pk}"), 403, "csrf_failed")
    assert Customer.objects.count() == 1

    csrf = _get_new_csrf_string()
    client.cookies["csrftoken"] = csrf
    created = client.post(f"{API}/customers", {"name": "张伟"}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert created.status_code == 201, created.content
    changed = client.patch(
        f"{API}/customers/{mine.pk}",
        {"notes": "x"},
        content_type="application/json",
        HTTP_IF_MATCH='"1"',
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert changed.status_code == 200
    assert changed.json()["notes"] == "x"


# The one error format ----------------------------------------------------------------------


def test_every_error_status_uses_the_one_format(org: Any) -> None:
    _token, secret = api_token_create(
        actor=actor(org.rep_north), name="t", scopes=["customers:read", "customers:write"], expires_at=None
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    mine = CustomerFactory(owner=org.rep_north)
    other = CustomerFactory(owner=org.rep_south)
    url = f"{API}/customers/{mine.pk}"
    _assert_error(Client().get(url), 401, "unauthorized")
    _assert_error(client.delete(url), 403, "permission_denied")
    _assert_error(client.get(f"{API}/customers/{other.pk}"), 404, "not_found")
    _assert_error(
        client.patch(url, {"notes": "x"}, content_type="application/json", HTTP_IF_MATCH='"7"'), 412, "stale_version"
    )
    fields = _assert_error(
        client.patch(url, {"rating": "x"}, content_type="application/json", HTTP_IF_MATCH='"1"'),
        422,
        "validation_error",
    )["fields"]
    assert fields == {"rating": ["Enter a whole number."]}
    _assert_error(client.patch(url, {"notes": "x"}, content_type="application/json"), 428, "precondition_required")
    _assert_error(client.post(f"{API}/customers", "{not json", content_type="application/json"), 400, "bad_request")
    not_an_object = _assert_error(
        client.post(f"{API}/customers", "[1]", content_type="application/json"), 422, "validation_error"
    )
    assert not_an_object["fields"] == {"request": ["Send an object."]}
    _assert_error(client.get(f"{API}/customers/abc"), 422, "validation_error")


def test_schema_errors_use_our_own_gettext_messages(org: Any) -> None:
    _token, secret = api_token_create(actor=actor(org.rep_north), name="t", scopes=["customers:write"], expires_at=None)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    body = {"nickname": "x", "company_name": "x" * 201, "rating": 9, "contact_points": "none"}
    error = _assert_error(
        client.post(f"{API}/customers", body, content_type="application/json"), 422, "validation_error"
    )
    assert error["fields"] == {
        "name": ["This field is required."],
        "nickname": ["Unknown field."],
        "company_name": ["Enter at most 200 characters."],
        "rating": ["Enter a number of at most 5."],
        "contact_points": ["Send a list."],
    }


# The OpenAPI schema ------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_operation_declares_401_and_422_with_the_error_schema() -> None:
    schema = _openapi()
    operations = _operations(schema)
    assert len(operations) >= 10
    missing = []
    for method, path, operation in operations:
        for status in ("401", "422"):
            declared = operation["responses"].get(status)
            if declared is None:
                missing.append(f"{method} {path} {status}")
                continue
            ref = declared["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorOut", f"{method} {path} {status}"
    assert missing == []


@pytest.mark.django_db
def test_every_declared_error_status_uses_the_error_schema() -> None:
    schema = _openapi()
    for method, path, operation in _operations(schema):
        for status, declared in operation["responses"].items():
            if int(status) >= 400:
                ref = declared["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/ErrorOut", f"{method} {path} {status}"
    error = schema["components"]["schemas"]["ErrorBody"]
    assert set(error["properties"]) == {"code", "message", "fields"}


UPDATE_STATUSES = {"200", "400", "401", "403", "404", "412", "422", "428"}
CUSTOMER_OPERATIONS = {
    ("GET", "/api/v1/customers"): {"200", "401", "403", "422"},
    ("POST", "/api/v1/customers"): {"201", "400", "401", "403", "422"},
    ("POST", "/api/v1/customers/bulk-assign"): {"200", "400", "401", "403", "422"},
    ("GET", "/api/v1/customers/{customer_id}"): {"200", "401", "403", "404", "422"},
    ("PATCH", "/api/v1/customers/{customer_id}"): UPDATE_STATUSES,
    ("DELETE", "/api/v1/customers/{customer_id}"): {"204", "401", "403", "404", "422"},
    ("GET", "/api/v1/customers/{customer_id}/contact-points"): {"200", "401", "403", "404", "422"},
    ("POST", "/api/v1/customers/{customer_id}/contact-points"): {"201", "400", "401", "403", "404", "422"},
    ("PATCH", "/api/v1/customers/{customer_id}/contact-points/{point_id}"): UPDATE_STATUSES,
    ("DELETE", "/api/v1/customers/{customer_id}/contact-points/{point_id}"): {"204", "401", "403", "404", "422"},
}


@pytest.mark.django_db
def test_customer_operations_declare_every_status_they_can_answer() -> None:
    operations = {(method, path): op for method, path, op in _operations(_openapi())}
    for key, statuses in CUSTOMER_OPERATIONS.items():
        assert key in operations, key
        declared = set(operations[key]["responses"])
        assert statuses <= declared, (key, statuses - declared)
        assert not {s for s in declared if s.startswith("2")} - statuses, key  # one success status


@pytest.mark.django_db
def test_updates_document_the_if_match_header_and_list_documents_its_filters() -> None:
    operations = {(method, path): op for method, path, op in _operations(_openapi())}
    patch = operations[("PATCH", "/api/v1/customers/{customer_id}")]
    assert {"name": "If-Match", "in": "header"}.items() <= next(
        p for p in patch["parameters"] if p["name"] == "If-Match"
    ).items()
    listed = {p["name"] for p in operations[("GET", "/api/v1/customers")]["parameters"]}
    assert {"q", "owner_id", "team_id", "stage", "tag_id", "source", "rating_min", "sort", "cursor", "limit"} <= listed


@pytest.mark.django_db
def test_openapi_publishes_the_custom_fields_of_customers() -> None:
    CustomFieldDefinition.objects.create(
        target="customers.customer",
        key="tier",
        label_zh="等级",
        label_en="Tier",
        field_type=FieldType.CHOICE,
        choices=[{"value": "gold", "label_zh": "金", "label_en": "Gold"}],
        required=True,
    )
    CustomFieldDefinition.objects.create(
        target="customers.customer", key="budget", label_zh="预算", label_en="Budget", field_type=FieldType.MONEY
    )
    CustomFieldDefinition.objects.create(
        target="customers.lead", key="campaign", label_zh="活动", label_en="Campaign", field_type=FieldType.TEXT
    )
    schemas = _openapi()["components"]["schemas"]
    for name in ("CustomerRow", "CustomerOut", "CustomerCreate", "CustomerPatch"):
        prop = schemas[name]["properties"]["custom_fields"]
        published = next((o for o in prop.get("anyOf", []) if o.get("type") == "object"), prop)
        assert set(published["properties"]) == {"tier", "budget"}, name
        assert published["properties"]["tier"]["enum"] == ["gold"]
        assert published["additionalProperties"] is False
    create = schemas["CustomerCreate"]["properties"]["custom_fields"]
    assert next(o for o in create["anyOf"] if o.get("type") == "object")["required"] == ["tier"]
    assert "required" not in schemas["CustomerRow"]["properties"]["custom_fields"]


# Docs without CDN --------------------------------------------------------------------------


@pytest.mark.django_db
def test_docs_are_served_from_local_static_files_without_any_cdn() -> None:
    response = Client().get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/ninja/swagger-ui-bundle.js" in assets
    assert "/static/ninja/swagger-ui.css" in assets
    assert all(asset.startswith("/") and not asset.startswith("//") for asset in assets), assets
    for cdn in ("cdn", "jsdelivr", "unpkg", "cdnjs", "googleapis", "http://", "https://"):
        assert cdn not in html.lower(), cdn
    for asset in assets:
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/")), asset

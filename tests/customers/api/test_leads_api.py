"""The lead API: capture, list, read, edit with versions, delete, qualify, disqualify, convert, masking."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from guanxi.customers.models import ContactPoint, Customer, Interaction, Lead
from guanxi.customers.models.choices import ContactKind, CustomerKind, LeadStatus
from guanxi.platform.audit.models import AccessLogEntry
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from guanxi.platform.identity.models import User
from guanxi.platform.identity.services import api_token_create
from tests.factories import CustomerFactory, InteractionFactory, LeadFactory, actor

API = "/api/v1/leads"
ALL_SCOPES = ["leads:read", "leads:write", "customers:read", "customers:write", "admin:read"]


class LeadClient:
    """Calls the lead API with `Authorization: Bearer <token>`; `extra` is WSGI environ (HTTP_IF_MATCH)."""

    def __init__(self, user: User, scopes: list[str]) -> None:
        _token, secret = api_token_create(actor=actor(user), name="tests", scopes=scopes, expires_at=None)
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def get(self, path: str = "", params: dict[str, Any] | None = None) -> Any:
        return self.client.get(f"{API}{path}", params or {})

    def post(self, path: str = "", body: Any = None, **extra: str) -> Any:
        return self.client.post(f"{API}{path}", body or {}, content_type="application/json", **extra)

    def patch(self, path: str, body: Any, **extra: str) -> Any:
        return self.client.patch(f"{API}{path}", body, content_type="application/json", **extra)

    def delete(self, path: str) -> Any:
        return self.client.delete(f"{API}{path}")


@pytest.fixture
def api(org: Any) -> Any:
    def make(username: str, scopes: list[str] | None = None) -> LeadClient:
        return LeadClient(getattr(org, username), scopes or ALL_SCOPES)

    return make


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    return body["error"]


def _lead(org: Any, owner: str = "rep_north", **fields: Any) -> Lead:
    user = getattr(org, owner)
    return LeadFactory(owner=user, team=user.team, **{"company_name": "星河科技", **fields})


# Create -------------------------------------------------------------------------------------


def test_create_returns_201_with_the_normalised_lead(org: Any, api: Any) -> None:
    response = api("rep_north").post(
        "",
        {
            "name": "张伟",
            "phone": "138-1234-5678",
            "email": "ZW@Example.com",
            "company_name": "星河科技",
            "source": "event",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    lead = Lead.objects.get()
    assert response["Location"] == f"{API}/{lead.pk}"
    assert response["ETag"] == '"1"'
    assert {k: body[k] for k in ("id", "name", "phone", "email", "status", "owner_id", "team_id", "version")} == {
        "id": lead.pk, "name": "张伟", "phone": "+8613812345678", "email": "zw@example.com", "status": "new",
        "owner_id": org.rep_north.pk, "team_id": org.north.pk, "version": 1,
    }  # fmt: skip


def test_create_with_bad_phone_and_email_answers_422_naming_the_fields(org: Any, api: Any) -> None:
    response = api("rep_north").post("", {"name": "张伟", "phone": "123", "email": "nope@"})
    error = _error(response, 422, "validation_error")
    assert set(error["fields"]) == {"phone", "email"}
    assert Lead.objects.count() == 0


def test_create_without_name_or_contact_names_the_fields(org: Any, api: Any) -> None:
    error = _error(api("rep_north").post("", {"company_name": "A"}), 422, "validation_error")
    assert set(error["fields"]) == {"name"}
    error = _error(api("rep_north").post("", {"name": "张伟"}), 422, "validation_error")
    assert set(error["fields"]) == {"phone"}
    error = _error(
        api("rep_north").post("", {"name": "张伟", "phone": "13812345678", "colour": "red"}), 422, "validation_error"
    )
    assert set(error["fields"]) == {"colour"}


def test_create_accepts_and_validates_custom_fields(org: Any, api: Any) -> None:
    CustomFieldDefinition.objects.create(
        target="customers.lead", key="budget", label_zh="预算", label_en="Budget", field_type=FieldType.NUMBER
    )
    client = api("rep_north")
    error = _error(client.post("", {"name": "张伟", "phone": "13812345678", "custom_fields": {"budget": "x"}}), 422,
                   "validation_error")  # fmt: skip
    assert set(error["fields"]) == {"custom_fields.budget"}
    response = client.post("", {"name": "张伟", "phone": "13812345678", "custom_fields": {"budget": 120}})
    assert response.status_code == 201
    assert response.json()["custom_fields"] == {"budget": "120"}


# Read, visibility, masking ------------------------------------------------------------------


def test_another_reps_lead_answers_404_on_every_route(org: Any, api: Any) -> None:
    lead = _lead(org, "rep_north", phone="+8613812345678")
    south = api("rep_south")
    _error(south.get(f"/{lead.pk}"), 404, "not_found")
    _error(south.patch(f"/{lead.pk}", {"name": "x", "version": 1}), 404, "not_found")
    _error(south.post(f"/{lead.pk}/qualify"), 404, "not_found")
    _error(south.post(f"/{lead.pk}/disqualify", {"reason": "x"}), 404, "not_found")
    _error(south.post(f"/{lead.pk}/convert"), 404, "not_found")
    _error(south.delete(f"/{lead.pk}"), 404, "not_found")
    assert south.get().json() == {"items": [], "next_cursor": None}
    lead.refresh_from_db()
    assert (lead.status, lead.version) == (LeadStatus.NEW, 1)
    assert Customer.objects.count() == 0


def test_analyst_sees_masked_personal_data_and_no_access_log(org: Any, api: Any) -> None:
    lead = _lead(org, phone="+8613812345678", email="zhang.wei@example.com", wechat="zhangwei88", address="北京市")
    analyst = api("analyst", ["leads:read"])
    detail = analyst.get(f"/{lead.pk}").json()
    assert (detail["phone"], detail["email"], detail["wechat"], detail["address"]) == (
        "+86138****5678", "z***@example.com", "z******", "北**",
    )  # fmt: skip
    row = analyst.get().json()["items"][0]
    assert (row["phone"], row["email"]) == ("+86138****5678", "z***@example.com")
    assert AccessLogEntry.objects.count() == 0


def test_clear_personal_data_is_access_logged(org: Any, api: Any) -> None:
    lead = _lead(org, phone="+8613812345678")
    detail = api("rep_north").get(f"/{lead.pk}").json()
    assert detail["phone"] == "+8613812345678"
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.action, entry.object_type, entry.object_id) == (
        org.rep_north, AccessLogEntry.Action.VIEW_PERSONAL_DATA, "customers.lead", lead.pk,
    )  # fmt: skip


def test_token_without_leads_scope_is_refused(org: Any, api: Any) -> None:
    lead = _lead(org)
    _error(api("rep_north", ["customers:read"]).get(f"/{lead.pk}"), 403, "permission_denied")
    _error(api("rep_north", ["leads:read"]).post("", {"name": "x", "company_name": "y"}), 403, "permission_denied")


# List ---------------------------------------------------------------------------------------


def test_list_filters_and_paginates_with_a_cursor(org: Any, api: Any) -> None:
    for index in range(5):
        _lead(org, name=f"线索{index}", source="event" if index % 2 else "website")
    _lead(org, "rep_south", name="南方")
    client = api("rep_north")
    first = client.get("", {"limit": 2}).json()
    assert [i["name"] for i in first["items"]] == ["线索4", "线索3"]
    second = client.get("", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [i["name"] for i in second["items"]] == ["线索2", "线索1"]
    third = client.get("", {"limit": 2, "cursor": second["next_cursor"]}).json()
    assert ([i["name"] for i in third["items"]], third["next_cursor"]) == (["线索0"], None)
    assert [i["name"] for i in client.get("", {"source": "event"}).json()["items"]] == ["线索3", "线索1"]
    assert [i["name"] for i in client.get("", {"q": "线索2"}).json()["items"]] == ["线索2"]
    error = _error(client.get("", {"status": "won"}), 422, "validation_error")
    assert set(error["fields"]) == {"status"}
    error = _error(client.get("", {"cursor": "garbage"}), 422, "validation_error")
    assert set(error["fields"]) == {"cursor"}


def test_list_query_count_does_not_grow_with_rows(org: Any, api: Any) -> None:
    client = api("manager_north")
    client.get()  # the first call of a token records its last use

    def count(rows: int) -> int:
        Lead.objects.all().delete()
        for index in range(rows):
            owner = org.rep_north if index % 2 else org.rep_north_sub
            LeadFactory(owner=owner, team=owner.team, phone="+8613812345678", company_name=f"公司{index}")
        with CaptureQueriesContext(connection) as queries:
            response = client.get("", {"limit": 100})
        assert len(response.json()["items"]) == rows
        return len(queries)

    assert count(10) == count(50)


# Update -------------------------------------------------------------------------------------


def test_patch_with_if_match_changes_the_lead(org: Any, api: Any) -> None:
    lead = _lead(org, phone="+8613812345678")
    response = api("rep_north").patch(f"/{lead.pk}", {"job_title": "经理", "phone": "13900001111"}, HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"'
    assert (response.json()["job_title"], response.json()["phone"]) == ("经理", "+8613900001111")


def test_stale_patch_answers_412_and_changes_nothing(org: Any, api: Any) -> None:
    lead = _lead(org, phone="+8613812345678")
    client = api("rep_north")
    assert client.patch(f"/{lead.pk}", {"job_title": "经理", "version": 1}).status_code == 200
    _error(client.patch(f"/{lead.pk}", {"job_title": "总监"}, HTTP_IF_MATCH='"1"'), 412, "stale_version")
    _error(client.patch(f"/{lead.pk}", {"job_title": "总监", "version": 1}), 412, "stale_version")
    lead.refresh_from_db()
    assert (lead.job_title, lead.version) == ("经理", 2)


def test_patch_without_a_version_answers_428(org: Any, api: Any) -> None:
    lead = _lead(org)
    _error(api("rep_north").patch(f"/{lead.pk}", {"job_title": "经理"}), 428, "precondition_required")


def test_patch_with_bad_values_answers_422(org: Any, api: Any) -> None:
    lead = _lead(org)
    error = _error(api("rep_north").patch(f"/{lead.pk}", {"email": "x@", "version": 1}), 422, "validation_error")
    assert set(error["fields"]) == {"email"}


def test_delete_answers_204_for_a_manager_and_403_for_a_rep(org: Any, api: Any) -> None:
    lead = _lead(org)
    _error(api("rep_north").delete(f"/{lead.pk}"), 403, "permission_denied")
    response = api("manager_north").delete(f"/{lead.pk}")
    assert response.status_code == 204
    assert not Lead.objects.filter(pk=lead.pk).exists()


# Status -------------------------------------------------------------------------------------


def test_qualify_and_disqualify(org: Any, api: Any) -> None:
    lead = _lead(org)
    client = api("rep_north")
    error = _error(client.post(f"/{lead.pk}/disqualify", {"reason": ""}), 422, "validation_error")
    assert set(error["fields"]) == {"reason"}
    body = client.post(f"/{lead.pk}/disqualify", {"reason": "没有预算", "version": 1}).json()
    assert (body["status"], body["disqualified_reason"], body["version"]) == ("unqualified", "没有预算", 2)
    _error(client.post(f"/{lead.pk}/qualify", {"version": 1}), 412, "stale_version")
    body = client.post(f"/{lead.pk}/qualify").json()
    assert (body["status"], body["disqualified_reason"], body["version"]) == ("qualified", "", 3)


# Convert ------------------------------------------------------------------------------------


def test_convert_creates_organisation_and_contact_and_moves_interactions(org: Any, api: Any) -> None:
    lead = _lead(org, name="张伟", phone="+8613812345678", email="zw@example.com", source="event")
    interaction = InteractionFactory(customer=None, lead=lead)
    response = api("rep_north").post(f"/{lead.pk}/convert")
    assert response.status_code == 200, response.content
    body = response.json()
    organisation = Customer.objects.get(pk=body["customer_id"])
    person = Customer.objects.get(pk=body["contact_id"])
    assert body["organisation_created"] is True
    assert (organisation.kind, organisation.name) == (CustomerKind.ORGANISATION, "星河科技")
    assert (person.kind, person.name, person.organisation_id, person.source) == (
        CustomerKind.PERSON, "张伟", organisation.pk, "event",
    )  # fmt: skip
    assert set(ContactPoint.objects.filter(customer=person).values_list("kind", "value")) == {
        (ContactKind.PHONE, "+8613812345678"), (ContactKind.EMAIL, "zw@example.com"),
    }  # fmt: skip
    assert Interaction.objects.get(pk=interaction.pk).customer_id == organisation.pk
    assert body["lead"]["status"] == "converted"
    assert (body["lead"]["converted_customer_id"], body["lead"]["converted_contact_id"]) == (organisation.pk, person.pk)


def test_converting_twice_answers_409(org: Any, api: Any) -> None:
    lead = _lead(org)
    client = api("rep_north")
    assert client.post(f"/{lead.pk}/convert").status_code == 200
    _error(client.post(f"/{lead.pk}/convert"), 409, "conflict")
    _error(client.patch(f"/{lead.pk}", {"name": "x", "version": 2}), 409, "conflict")
    assert Customer.objects.count() == 2


def test_convert_links_an_existing_organisation_or_none(org: Any, api: Any) -> None:
    existing = CustomerFactory(owner=org.rep_north, kind=CustomerKind.ORGANISATION, name="星河集团")
    hidden = CustomerFactory(owner=org.rep_south, kind=CustomerKind.ORGANISATION, name="南方集团")
    client = api("rep_north")
    first, second = _lead(org, name="甲"), _lead(org, name="乙", phone="+8613812345678")
    error = _error(client.post(f"/{first.pk}/convert", {"organisation_id": hidden.pk}), 422, "validation_error")
    assert set(error["fields"]) == {"organisation_id"}
    body = client.post(f"/{first.pk}/convert", {"organisation_id": existing.pk}).json()
    assert (body["customer_id"], body["organisation_created"]) == (existing.pk, False)
    body = client.post(f"/{second.pk}/convert", {"create_organisation": False}).json()
    assert body["customer_id"] == body["contact_id"]
    assert Customer.objects.get(pk=body["contact_id"]).kind == CustomerKind.PERSON


def test_convert_needs_customer_write_scope_and_permission(org: Any, api: Any) -> None:
    lead = _lead(org)
    _error(api("rep_north", ["leads:read", "leads:write"]).post(f"/{lead.pk}/convert"), 403, "permission_denied")
    _error(api("marketer").post(f"/{lead.pk}/convert"), 403, "permission_denied")
    assert Customer.objects.count() == 0


def test_openapi_declares_every_lead_route_and_status(org: Any, api: Any) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    operations = {
        (method, path): op
        for path, item in schema["paths"].items()
        if path.startswith(API)
        for method, op in item.items()
    }
    assert set(operations) == {
        ("get", API), ("post", API), ("get", f"{API}/{{lead_id}}"), ("patch", f"{API}/{{lead_id}}"),
        ("delete", f"{API}/{{lead_id}}"), ("post", f"{API}/{{lead_id}}/qualify"),
        ("post", f"{API}/{{lead_id}}/disqualify"), ("post", f"{API}/{{lead_id}}/convert"),
    }  # fmt: skip
    assert {"200", "404", "409", "412", "422", "428"} <= set(operations[("patch", f"{API}/{{lead_id}}")]["responses"])
    assert {"200", "404", "409", "422"} <= set(operations[("post", f"{API}/{{lead_id}}/convert")]["responses"])
    assert {"201", "422"} <= set(operations[("post", API)]["responses"])

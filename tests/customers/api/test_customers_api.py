"""The customer API: CRUD, contact points, bulk assignment, visibility, masking, versions, pagination."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.customers.models import ContactPoint, Customer
from guanxi.customers.models.choices import ContactKind, CustomerKind
from guanxi.customers.services.customers import customer_create
from guanxi.platform.audit.models import AccessLogEntry
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from tests.customers.api.conftest import TokenClient
from tests.factories import ContactPointFactory, CustomerFactory

ID_NUMBER = "11010519491231002X"


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert the one error format and return the error body."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def rep(api_as: Any) -> TokenClient:
    return api_as("rep_north")


@pytest.fixture
def south_customer(org: Any) -> Customer:
    customer = CustomerFactory(owner=org.rep_south, name="南方客户")
    ContactPointFactory(customer=customer, value="+8613900001111")
    return customer


# Create ------------------------------------------------------------------------------------


def test_create_returns_201_with_the_record_location_and_etag(org: Any, rep: TokenClient) -> None:
    response = rep.post(
        "/customers",
        {
            "name": "张伟",
            "source": "referral",
            "rating": 4,
            "birthday": "1985-06-01",
            "preferences": "喜欢绿茶",
            "family_members": [{"relation": "spouse", "name": "王芳"}],
            "contact_points": [
                {"kind": "phone", "value": "138 1234 5678", "consent": "granted"},
                {"kind": "email", "value": "Zhang.Wei@Example.COM"},
                {"kind": "address", "address": {"province": "北京市", "city": "北京市", "street": "长安街1号"}},
            ],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get()
    assert response["Location"] == f"/api/v1/customers/{customer.pk}"
    assert response["ETag"] == '"1"'
    assert body["id"] == customer.pk
    assert body["version"] == 1
    assert body["name"] == "张伟"
    assert (body["family_name"], body["given_name"]) == ("张", "伟")
    assert body["owner_id"] == org.rep_north.pk
    assert body["team_id"] == org.north.pk
    assert body["birthday"] == "1985-06-01"
    assert body["family_members"] == [{"relation": "spouse", "name": "王芳", "birthday": "", "note": ""}]
    assert body["personal_data_masked"] is False
    points = {p["kind"]: p for p in body["contact_points"]}
    assert points["phone"]["value"] == "+8613812345678"
    assert points["phone"]["is_primary"] is True
    assert points["phone"]["consent"] == "granted"
    assert points["email"]["value"] == "zhang.wei@example.com"
    assert points["address"]["value"] == "北京市北京市长安街1号"
    assert points["address"]["address"]["street"] == "长安街1号"


def test_create_an_organisation_and_a_person_working_there(org: Any, rep: TokenClient) -> None:
    company = rep.post("/customers", {"kind": "organisation", "name": "华为技术有限公司", "company_size": "1000+"})
    assert company.status_code == 201, company.content
    assert (company.json()["kind"], company.json()["company_size"]) == ("organisation", "1000+")
    person = rep.post("/customers", {"name": "李娜", "gender": "female", "organisation_id": company.json()["id"]})
    assert person.status_code == 201, person.content
    assert (person.json()["organisation_id"], person.json()["company_name"]) == (
        company.json()["id"],
        "华为技术有限公司",
    )
    assert person.json()["gender"] == "female"


def test_manager_creates_a_customer_for_someone_outside_their_team(org: Any, api_as: Any) -> None:
    manager = api_as("manager_north")
    response = manager.post("/customers", {"name": "李娜", "owner_id": org.rep_south.pk})
    assert response.status_code == 201, response.content
    assert (response.json()["owner_id"], response.json()["team_id"]) == (org.rep_south.pk, org.south.pk)
    _error(manager.get(f"/customers/{response.json()['id']}"), 404, "not_found")


def test_create_with_an_invalid_phone_names_the_contact_point_and_writes_nothing(rep: TokenClient) -> None:
    response = rep.post(
        "/customers",
        {"name": "张伟", "contact_points": [{"kind": "phone", "value": "12345"}, {"kind": "email", "value": "a@b.cn"}]},
    )
    error = _error(response, 422, "validation_error")
    assert list(error["fields"]) == ["contact_points[0].value"]
    assert Customer.objects.count() == 0
    assert ContactPoint.objects.count() == 0


def test_create_refuses_unknown_fields(rep: TokenClient) -> None:
    error = _error(rep.post("/customers", {"name": "张伟", "nickname": "小张"}), 422, "validation_error")
    assert error["fields"] == {"nickname": ["Unknown field."]}
    nested = _error(
        rep.post("/customers", {"name": "张伟", "contact_points": [{"kind": "phone", "value": "13812345678", "x": 1}]}),
        422,
        "validation_error",
    )
    assert nested["fields"] == {"contact_points[0].x": ["Unknown field."]}
    assert Customer.objects.count() == 0


def test_create_refuses_wrong_types_naming_the_field(rep: TokenClient) -> None:
    error = _error(
        rep.post("/customers", {"name": "张伟", "rating": "lots", "birthday": "yesterday", "kind": "robot"}),
        422,
        "validation_error",
    )
    assert error["fields"]["rating"] == ["Enter a whole number."]
    assert error["fields"]["birthday"] == ["Enter a date as YYYY-MM-DD."]
    assert error["fields"]["kind"] == ["Choose one of: 'person' or 'organisation'."]
    assert _error(rep.post("/customers", {}), 422, "validation_error")["fields"] == {
        "name": ["This field is required."]
    }


def test_create_reports_service_validation_per_field(rep: TokenClient) -> None:
    error = _error(rep.post("/customers", {"name": " ", "id_number": "110105194912310021"}), 422, "validation_error")
    assert set(error["fields"]) == {"name", "id_number"}


def test_create_validates_custom_fields(rep: TokenClient) -> None:
    CustomFieldDefinition.objects.create(
        target="customers.customer", key="budget", label_zh="预算", label_en="Budget", field_type=FieldType.NUMBER
    )
    error = _error(
        rep.post("/customers", {"name": "张伟", "custom_fields": {"budget": "many"}}), 422, "validation_error"
    )
    assert list(error["fields"]) == ["custom_fields.budget"]
    created = rep.post("/customers", {"name": "张伟", "custom_fields": {"budget": "1,200.5"}})
    assert created.status_code == 201
    assert created.json()["custom_fields"] == {"budget": "1200.5"}


# Read ---------------------------------------------------------------------------------------


def test_get_returns_the_full_record_with_the_id_number_in_clear_and_logs_the_view(org: Any, api_as: Any) -> None:
    customer = customer_create(
        actor=org.actor("rep_north"),
        data={"name": "张伟", "id_number": ID_NUMBER, "contact_points": [{"kind": "phone", "value": "13812345678"}]},
    )
    response = api_as("manager_north").get(f"/customers/{customer.pk}")
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    body = response.json()
    assert body["id_number"] == ID_NUMBER
    assert body["contact_points"][0]["value"] == "+8613812345678"
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.action, entry.object_type, entry.object_id) == (
        org.manager_north,
        AccessLogEntry.Action.VIEW_PERSONAL_DATA,
        "customers.customer",
        customer.pk,
    )
    assert entry.channel == "api"
    assert ID_NUMBER not in str(entry.detail)
    assert "13812345678" not in str(entry.detail)


def test_analyst_sees_masked_personal_data_and_no_view_is_logged(org: Any, api_as: Any) -> None:
    customer = customer_create(
        actor=org.actor("rep_north"),
        data={
            "name": "张伟",
            "id_number": ID_NUMBER,
            "contact_points": [
                {"kind": "phone", "value": "13812345678"},
                {"kind": "email", "value": "zhang.wei@example.com"},
                {"kind": "wechat", "value": "zhangwei88"},
                {"kind": "address", "address": {"city": "北京市", "street": "长安街1号"}},
            ],
        },
    )
    analyst = api_as("analyst")
    detail = analyst.get(f"/customers/{customer.pk}").json()
    assert detail["personal_data_masked"] is True
    assert detail["id_number"] == "110105********002X"
    shown = {p["kind"]: p for p in detail["contact_points"]}
    assert shown["phone"]["value"] == "+86138****5678"
    assert shown["email"]["value"] == "z***@example.com"
    assert shown["wechat"]["value"] == "z******"
    assert shown["address"]["value"] == "北******"
    assert shown["address"]["address"] is None
    row = analyst.get("/customers").json()["items"][0]
    assert (row["primary_phone"], row["primary_email"]) == ("+86138****5678", "z***@example.com")
    points = analyst.get(f"/customers/{customer.pk}/contact-points").json()["items"]
    assert {p["value"] for p in points} == {s["value"] for s in shown.values()}
    assert AccessLogEntry.objects.count() == 0


def test_token_scopes_do_not_change_how_personal_data_is_shown(org: Any, api_as: Any) -> None:
    """Seeing personal data is a property of the role, not an API area: a customers:read token of a rep shows it."""
    customer = customer_create(
        actor=org.actor("rep_north"),
        data={"name": "张伟", "contact_points": [{"kind": "phone", "value": "13812345678"}]},
    )
    client = api_as("rep_north", scopes=["customers:read"])
    assert client.get(f"/customers/{customer.pk}").json()["contact_points"][0]["value"] == "+8613812345678"


def test_other_teams_customer_is_not_found_on_every_route(org: Any, rep: TokenClient, south_customer: Customer) -> None:
    point = south_customer.contact_points.get()
    missing = 10_000_000
    for customer_id, point_id in ((south_customer.pk, point.pk), (missing, missing)):
        answers = [
            rep.get(f"/customers/{customer_id}"),
            rep.patch(f"/customers/{customer_id}", {"name": "偷看"}, HTTP_IF_MATCH='"1"'),
            rep.patch(f"/customers/{customer_id}", {"name": "偷看"}),
            rep.delete(f"/customers/{customer_id}"),
            rep.get(f"/customers/{customer_id}/contact-points"),
            rep.post(f"/customers/{customer_id}/contact-points", {"kind": "phone", "value": "13700001111"}),
            rep.patch(f"/customers/{customer_id}/contact-points/{point_id}", {"label": "x"}, HTTP_IF_MATCH='"1"'),
            rep.delete(f"/customers/{customer_id}/contact-points/{point_id}"),
        ]
        for response in answers:
            assert _error(response, 404, "not_found") == {
                "code": "not_found",
                "message": "Customer not found.",
                "fields": {},
            }
    south_customer.refresh_from_db()
    assert (south_customer.name, south_customer.version) == ("南方客户", 1)
    assert south_customer.contact_points.count() == 1
    assert rep.get("/customers").json() == {"items": [], "next_cursor": None}


def test_a_contact_point_of_another_customer_is_not_found(org: Any, rep: TokenClient, south_customer: Customer) -> None:
    mine = CustomerFactory(owner=org.rep_north)
    other_point = south_customer.contact_points.get()
    _error(
        rep.patch(f"/customers/{mine.pk}/contact-points/{other_point.pk}", {"label": "x"}, HTTP_IF_MATCH='"1"'),
        404,
        "not_found",
    )
    _error(rep.delete(f"/customers/{mine.pk}/contact-points/{other_point.pk}"), 404, "not_found")
    assert ContactPoint.objects.filter(pk=other_point.pk, label="").exists()


# Update ------------------------------------------------------------------------------------


def test_patch_with_if_match_changes_only_the_given_fields(org: Any, rep: TokenClient) -> None:
    customer = CustomerFactory(owner=org.rep_north, name="张伟", rating=2, notes="老客户")
    response = rep.patch(f"/customers/{customer.pk}", {"rating": 5}, HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"'
    body = response.json()
    assert (body["rating"], body["notes"], body["name"], body["version"]) == (5, "老客户", "张伟", 2)
    customer.refresh_from_db()
    assert (customer.rating, customer.version) == (5, 2)
    assert customer.history.first().history_user == org.rep_north


def test_patch_accepts_the_version_in_the_body_and_weak_etags(org: Any, rep: TokenClient) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    assert rep.patch(f"/customers/{customer.pk}", {"notes": "a", "version": 1}).json()["version"] == 2
    assert rep.patch(f"/customers/{customer.pk}", {"notes": "b"}, HTTP_IF_MATCH='W/"2"').json()["version"] == 3
    assert rep.patch(f"/customers/{customer.pk}", {"notes": "c"}, HTTP_IF_MATCH="3").json()["notes"] == "c"


def test_stale_update_is_refused_with_412_and_changes_nothing(org: Any, rep: TokenClient) -> None:
    customer = CustomerFactory(owner=org.rep_north, name="张伟")
    assert rep.patch(f"/customers/{customer.pk}", {"name": "张伟一"}, HTTP_IF_MATCH='"1"').status_code == 200
    _error(rep.patch(f"/customers/{customer.pk}", {"name": "张伟二"}, HTTP_IF_MATCH='"1"'), 412, "stale_version")
    _error(rep.patch(f"/customers/{customer.pk}", {"name": "张伟二", "version": 1}), 412, "stale_version")
    customer.refresh_from_db()
    assert (customer.name, customer.version) == ("张伟一", 2)


def test_update_without_a_version_is_refused_with_428(org: Any, rep: TokenClient) -> None:
    customer = CustomerFactory(owner=org.rep_north, name="张伟")
    error = _error(rep.patch(f"/customers/{customer.pk}", {"name": "张伟一"}), 428, "precondition_required")
    assert "If-Match" in error["message"]
    customer.refresh_from_db()
    assert (customer.name, customer.version) == ("张伟", 1)


def test_update_with_conflicting_versions_or_a_bad_if_match_is_refused(org: Any, rep: TokenClient) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    conflicting = rep.patch(f"/customers/{customer.pk}", {"notes": "x", "version": 2}, HTTP_IF_MATCH='"1"')
    assert list(_error(conflicting, 422, "validation_error")["fields"]) == ["version"]
    bad = rep.patch(f"/customers/{customer.pk}", {"notes": "x"}, HTTP_IF_MATCH="*")
    assert list(_error(bad, 422, "validation_error")["fields"]) == ["If-Match"]


def test_patch_refuses_unknown_fields_and_contact_points(org: Any, rep: TokenClient) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    error = _error(
        rep.patch(f"/customers/{customer.pk}", {"colour": "red"}, HTTP_IF_MATCH='"1"'), 422, "validation_error"
    )
    assert error["fields"] == {"colour": ["Unknown field."]}
    error = _error(
        rep.patch(f"/customers/{customer.pk}", {"contact_points": []}, HTTP_IF_MATCH='"1"'), 422, "validation_error"
    )
    assert list(error["fields"]) == ["contact_points"]


def test_rep_may_not_give_a_customer_to_someone_else(org: Any, rep: TokenClient) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    response = rep.patch(f"/customers/{customer.pk}", {"owner_id": org.rep_south.pk}, HTTP_IF_MATCH='"1"')
    _error(response, 403, "permission_denied")
    customer.refresh_from_db()
    assert customer.owner == org.rep_north


# Delete ------------------------------------------------------------------------------------


def test_manager_deletes_a_team_customer_and_a_rep_may_not(org: Any, api_as: Any, rep: TokenClient) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    _error(rep.delete(f"/customers/{customer.pk}"), 403, "permission_denied")
    response = api_as("manager_north").delete(f"/customers/{customer.pk}")
    assert response.status_code == 204
    assert response.content == b""
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_deleting_an_organisation_with_people_is_refused(org: Any, api_as: Any) -> None:
    company = CustomerFactory(owner=org.rep_north, kind=CustomerKind.ORGANISATION, name="华为")
    CustomerFactory(owner=org.rep_north, organisation=company)
    error = _error(api_as("manager_north").delete(f"/customers/{company.pk}"), 422, "validation_error")
    assert list(error["fields"]) == ["people"]


# Token scopes ------------------------------------------------------------------------------


def test_read_only_token_reads_but_every_write_is_forbidden(org: Any, api_as: Any) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    point = ContactPointFactory(customer=customer)
    client = api_as("rep_north", scopes=["customers:read"])
    assert client.get("/customers").status_code == 200
    assert client.get(f"/customers/{customer.pk}").status_code == 200
    writes = [
        client.post("/customers", {"name": "新客户"}),
        client.patch(f"/customers/{customer.pk}", {"notes": "x"}, HTTP_IF_MATCH='"1"'),
        client.delete(f"/customers/{customer.pk}"),
        client.post(f"/customers/{customer.pk}/contact-points", {"kind": "phone", "value": "13700001111"}),
        client.patch(f"/customers/{customer.pk}/contact-points/{point.pk}", {"label": "x"}, HTTP_IF_MATCH='"1"'),
        client.delete(f"/customers/{customer.pk}/contact-points/{point.pk}"),
        client.post("/customers/bulk-assign", {"customer_ids": [customer.pk], "owner_id": org.rep_north.pk}),
    ]
    for response in writes:
        _error(response, 403, "permission_denied")
    customer.refresh_from_db()
    assert (Customer.objects.count(), customer.version, customer.contact_points.count()) == (1, 1, 1)


def test_token_without_a_customers_scope_cannot_list(api_as: Any) -> None:
    _error(api_as("rep_north", scopes=["leads:read", "leads:write"]).get("/customers"), 403, "permission_denied")


def test_token_with_the_write_scope_can_also_read(api_as: Any) -> None:
    assert api_as("rep_north", scopes=["customers:write"]).get("/customers").status_code == 200


# Contact points ----------------------------------------------------------------------------


def test_contact_point_lifecycle(org: Any, rep: TokenClient) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    added = rep.post(f"/customers/{customer.pk}/contact-points", {"kind": "phone", "value": "(0)138-1234-5678"})
    assert added.status_code == 201, added.content
    point = added.json()
    assert (point["value"], point["is_primary"], point["version"]) == ("+8613812345678", True, 1)
    second = rep.post(
        f"/customers/{customer.pk}/contact-points", {"kind": "phone", "value": "13900001111", "is_primary": True}
    ).json()
    listed = rep.get(f"/customers/{customer.pk}/contact-points").json()
    assert listed["next_cursor"] is None
    assert [(p["id"], p["is_primary"]) for p in listed["items"]] == [(second["id"], True), (point["id"], False)]

    _error(
        rep.patch(f"/customers/{customer.pk}/contact-points/{point['id']}", {"label": "工作"}),
        428,
        "precondition_required",
    )
    changed = rep.patch(
        f"/customers/{customer.pk}/contact-points/{point['id']}",
        {"label": "工作", "consent": "granted"},
        HTTP_IF_MATCH='"1"',
    )
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] == '"2"'
    assert (changed.json()["label"], changed.json()["consent"], changed.json()["version"]) == ("工作", "granted", 2)
    stale = rep.patch(f"/customers/{customer.pk}/contact-points/{point['id']}", {"label": "家"}, HTTP_IF_MATCH='"1"')
    _error(stale, 412, "stale_version")

    bad = rep.patch(f"/customers/{customer.pk}/contact-points/{point['id']}", {"value": "12"}, HTTP_IF_MATCH='"2"')
    assert list(_error(bad, 422, "validation_error")["fields"]) == ["value"]
    unknown = rep.patch(
        f"/customers/{customer.pk}/contact-points/{point['id']}", {"kind": "email"}, HTTP_IF_MATCH='"2"'
    )
    assert _error(unknown, 422, "validation_error")["fields"] == {"kind": ["Unknown field."]}

    assert rep.delete(f"/customers/{customer.pk}/contact-points/{second['id']}").status_code == 204
    remaining = ContactPoint.objects.get(customer=customer)
    assert (remaining.pk, remaining.is_primary) == (point["id"], True)
    customer.refresh_from_db()
    assert customer.version == 5  # two adds, one change and one removal each bumped the customer


def test_adding_a_duplicate_or_invalid_contact_point_names_the_field(org: Any, rep: TokenClient) -> None:
    customer = CustomerFactory(owner=org.rep_north)
    ContactPointFactory(customer=customer, value="+8613812345678")
    duplicate = rep.post(f"/customers/{customer.pk}/contact-points", {"kind": "phone", "value": "13812345678"})
    assert list(_error(duplicate, 422, "validation_error")["fields"]) == ["value"]
    email = rep.post(f"/customers/{customer.pk}/contact-points", {"kind": "email", "value": "not-an-email"})
    assert list(_error(email, 422, "validation_error")["fields"]) == ["value"]
    kind = rep.post(f"/customers/{customer.pk}/contact-points", {"kind": "fax", "value": "1"})
    assert list(_error(kind, 422, "validation_error")["fields"]) == ["kind"]


# Bulk assign -------------------------------------------------------------------------------


def test_manager_bulk_assigns_the_customers_they_can_see(org: Any, api_as: Any, south_customer: Customer) -> None:
    mine = [CustomerFactory(owner=org.rep_north), CustomerFactory(owner=org.rep_north_sub)]
    response = api_as("manager_north").post(
        "/customers/bulk-assign",
        {"customer_ids": [c.pk for c in mine] + [south_customer.pk], "owner_id": org.rep_north_sub.pk},
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"updated": 2}
    assert set(Customer.objects.filter(owner=org.rep_north_sub).values_list("pk", flat=True)) == {c.pk for c in mine}
    south_customer.refresh_from_db()
    assert south_customer.owner == org.rep_south


def test_bulk_assign_validates_its_input(org: Any, api_as: Any, rep: TokenClient) -> None:
    manager = api_as("manager_north")
    empty = manager.post("/customers/bulk-assign", {"customer_ids": [], "owner_id": org.rep_north.pk})
    assert list(_error(empty, 422, "validation_error")["fields"]) == ["customer_ids"]
    nobody = manager.post("/customers/bulk-assign", {"customer_ids": [1], "owner_id": 10_000_000})
    assert list(_error(nobody, 422, "validation_error")["fields"]) == ["owner_id"]
    forbidden = rep.post("/customers/bulk-assign", {"customer_ids": [1], "owner_id": org.rep_north.pk})
    _error(forbidden, 403, "permission_denied")


# List --------------------------------------------------------------------------------------


def test_list_rows_carry_the_documented_fields(org: Any, rep: TokenClient) -> None:
    customer = customer_create(
        actor=org.actor("rep_north"),
        data={
            "name": "张伟",
            "company_name": "华为",
            "card_number": "vip 001",
            "contact_points": [{"kind": "phone", "value": "13812345678"}, {"kind": "email", "value": "zw@example.com"}],
        },
    )
    body = rep.get("/customers").json()
    assert body["next_cursor"] is None
    row = body["items"][0]
    assert set(row) == {
        "id", "version", "kind", "name", "company_name", "organisation_id", "owner_id", "team_id",
        "lifecycle_stage", "rating", "source", "card_number", "primary_phone", "primary_email", "created_at",
        "updated_at", "last_contact_at", "next_follow_up_at", "in_pool", "custom_fields",
    }  # fmt: skip
    assert row["id"] == customer.pk
    assert (row["card_number"], row["primary_phone"], row["primary_email"]) == (
        "VIP001",
        "+8613812345678",
        "zw@example.com",
    )
    assert (row["owner_id"], row["team_id"], row["in_pool"], row["custom_fields"]) == (
        org.rep_north.pk,
        org.north.pk,
        False,
        {},
    )
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.action, entry.object_id, entry.record_count) == (
        org.rep_north,
        AccessLogEntry.Action.VIEW_PERSONAL_DATA,
        customer.pk,
        1,
    )
    assert entry.detail == {"endpoint": "customer_list"}


def test_list_filters_by_query_parameters_and_custom_fields(org: Any, api_as: Any) -> None:
    CustomFieldDefinition.objects.create(
        target="customers.customer",
        key="tier",
        label_zh="等级",
        label_en="Tier",
        field_type=FieldType.CHOICE,
        choices=[
            {"value": "gold", "label_zh": "金", "label_en": "Gold"},
            {"value": "silver", "label_zh": "银", "label_en": "Silver"},
        ],
    )
    gold = CustomerFactory(owner=org.rep_north, custom_fields={"tier": "gold"}, rating=5, source="referral")
    silver = CustomerFactory(owner=org.rep_north_sub, custom_fields={"tier": "silver"}, rating=1)
    south = CustomerFactory(owner=org.rep_south, rating=5)
    manager = api_as("manager_north")

    def ids(**params: Any) -> list[int]:
        response = manager.get("/customers", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["items"]]

    assert ids() == [silver.pk, gold.pk]  # the south team's customer is not visible
    assert ids(**{"cf.tier": "gold"}) == [gold.pk]
    assert ids(rating_min=5) == [gold.pk]
    assert ids(source="referral") == [gold.pk]
    assert ids(owner_id=org.rep_north_sub.pk) == [silver.pk]
    assert ids(team_id=org.north_sub.pk) == [silver.pk]
    assert ids(sort="id") == [gold.pk, silver.pk]
    assert ids(owner="me") == []
    assert south.pk not in ids(rating_min=0)
    today = timezone.localdate().isoformat()
    assert ids(created_from=today, created_to=today) == [silver.pk, gold.pk]

    for params, field in (
        ({"cf.nope": "x"}, "cf.nope"),
        ({"sort": "phone"}, "sort"),
        ({"limit": 201}, "limit"),
        ({"limit": 0}, "limit"),
        ({"stage": "asleep"}, "stage"),
        ({"owner": "you"}, "owner"),
        ({"created_from": "May"}, "created_from"),
        ({"cursor": "garbage"}, "cursor"),
    ):
        assert list(_error(manager.get("/customers", params), 422, "validation_error")["fields"]) == [field], params


@pytest.mark.parametrize(
    "sort",
    ["-id", "name", "-name", "-created_at", "-last_contact_at", "last_contact_at", "next_follow_up_at", "-rating"],
)
def test_cursor_pagination_visits_every_customer_once(org: Any, rep: TokenClient, sort: str) -> None:
    now = timezone.now()
    expected = set()
    for index in range(11):
        customer = CustomerFactory(
            owner=org.rep_north,
            name=f"客户{index % 4}",  # repeated names and ratings: ties are broken by id
            rating=index % 3,
            last_contact_at=None if index % 3 == 0 else now - dt.timedelta(days=index % 4),
            next_follow_up_at=None if index % 2 else now + dt.timedelta(days=index % 3),
        )
        expected.add(customer.pk)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"sort": sort, "limit": 4}
        if cursor:
            params["cursor"] = cursor
        body = rep.get("/customers", params).json()
        seen.extend(row["id"] for row in body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 11
    assert set(seen) == expected
    assert pages == 3


def test_a_cursor_from_another_sort_is_refused(org: Any, rep: TokenClient) -> None:
    for _ in range(3):
        CustomerFactory(owner=org.rep_north)
    cursor = rep.get("/customers", {"limit": 1}).json()["next_cursor"]
    assert cursor
    response = rep.get("/customers", {"limit": 1, "sort": "name", "cursor": cursor})
    assert list(_error(response, 422, "validation_error")["fields"]) == ["cursor"]


def _count_list_queries(client: TokenClient) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/customers", {"limit": 200})
    assert response.status_code == 200
    return len(queries), len(response.json()["items"])


@pytest.mark.parametrize("username", ["rep_north", "manager_north", "analyst", "admin"])
def test_list_query_count_is_the_same_for_10_and_50_customers(org: Any, api_as: Any, username: str) -> None:
    def make(count: int) -> None:
        for _ in range(count):
            customer = CustomerFactory(owner=org.rep_north, organisation=None)
            ContactPointFactory(customer=customer)
            ContactPointFactory(customer=customer, kind=ContactKind.EMAIL, value=f"c{customer.pk}@example.com")

    client = api_as(username)
    make(10)
    client.get("/customers")  # the first call records the token's last use
    few, rows_few = _count_list_queries(client)
    make(40)
    many, rows_many = _count_list_queries(client)
    assert (rows_few, rows_many) == (10, 50)
    assert few == many

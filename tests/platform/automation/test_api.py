"""The rules API: CRUD with versions, switching on and off, dry runs (saved and unsaved), the run log with
cursor pages and filters, the catalogue; reads and writes gated by permissions and token scopes."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from guanxi.customers.services.customers import customer_update
from guanxi.platform.automation.models import Rule, RuleRun
from guanxi.platform.customfields.models import CustomFieldDefinition
from guanxi.platform.identity.services import api_token_create
from tests.factories import CustomerFactory
from tests.platform.automation.conftest import make_customer, make_rule, rule_data

API = "/api/v1"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client: Client, url: str, body: Any, **headers: Any) -> Any:
    return client.post(url, body, content_type="application/json", **headers)


def test_create_read_change_and_delete_a_rule(org: Any) -> None:
    client = _client(org.admin)
    created = _post(client, f"{API}/rules", rule_data(is_active=False))
    assert created.status_code == 201, created.content
    body = created.json()
    assert created["ETag"] == '"1"'
    assert (body["name"], body["is_active"], body["run_as"]["id"], body["version"]) == (
        "Dormant customers",
        False,
        org.admin.pk,
        1,
    )
    assert body["trigger_summary"] == "When Lifecycle stage changes to Dormant"
    assert body["listens_to"] == ["customer.updated", "customer.created"]
    url = f"{API}/rules/{body['id']}"
    assert client.get(url).json()["name"] == "Dormant customers"
    assert client.patch(url, {"name": "x"}, content_type="application/json").status_code == 428
    changed = client.patch(url, {"name": "Sleepers"}, content_type="application/json", HTTP_IF_MATCH='"1"')
    assert (changed.status_code, changed.json()["name"], changed["ETag"]) == (200, "Sleepers", '"2"')
    stale = client.patch(url, {"name": "Again"}, content_type="application/json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "stale_version"
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_invalid_definitions_answer_422_with_every_path(org: Any) -> None:
    response = _post(
        _client(org.admin),
        f"{API}/rules",
        rule_data(
            conditions={
                "all": [
                    {"field": "rating", "op": "eq", "value": 1},
                    {"field": "lifecycle_stage", "op": "eq", "value": "sleepy"},
                ]
            },
            actions=[{"type": "notify", "params": {"recipient": "owner", "title": "{oops}"}}],
        ),
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["fields"] == {
        "conditions.1.value": ["Choose one of: prospect, new, active, loyal, dormant, churned, won_back."],
        "actions.0.params.title": ["Unknown merge field {oops}; use a field of the record such as {record} or {name}."],
    }
    assert not Rule.objects.exists()
    extra = _post(_client(org.admin), f"{API}/rules", {**rule_data(), "colour": "red"})
    assert extra.status_code == 422 and extra.json()["error"]["fields"] == {"colour": ["Unknown field."]}


def test_the_list_pages_by_cursor_in_fixed_queries(org: Any) -> None:
    admin = org.actor("admin")
    for index in range(3):
        make_rule(admin, name=f"Rule {index}")
    make_rule(admin, name="Birthday", trigger_kind="date", trigger_config={"field": "birthday"}, is_active=False)
    client = _client(org.admin)
    first = client.get(f"{API}/rules", {"limit": 2}).json()
    assert [item["name"] for item in first["items"]] == ["Birthday", "Rule 0"]
    second = client.get(f"{API}/rules", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [item["name"] for item in second["items"]] == ["Rule 1", "Rule 2"] and second["next_cursor"] is None
    assert [i["name"] for i in client.get(f"{API}/rules", {"is_active": "false"}).json()["items"]] == ["Birthday"]
    assert len(client.get(f"{API}/rules", {"trigger_kind": "date"}).json()["items"]) == 1
    with CaptureQueriesContext(connection) as few:
        client.get(f"{API}/rules")
    for index in range(6):
        make_rule(admin, name=f"More {index}")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(f"{API}/rules").json()["items"]) == 10
    assert len(many.captured_queries) == len(few.captured_queries)


def test_switching_on_and_off(org: Any) -> None:
    rule = make_rule(org.actor("admin"), is_active=False)
    client = _client(org.admin)
    on = _post(client, f"{API}/rules/{rule.pk}/activate", {})
    assert (on.status_code, on.json()["is_active"]) == (200, True)
    off = _post(client, f"{API}/rules/{rule.pk}/deactivate", {"version": 2})
    assert (off.status_code, off.json()["is_active"]) == (200, False)
    assert _post(client, f"{API}/rules/{rule.pk}/activate", {"version": 1}).status_code == 412


def test_dry_runs_of_saved_and_unsaved_rules(org: Any) -> None:
    rule = make_rule(org.actor("admin"))
    customer = CustomerFactory(owner=org.rep_north, name="王芳", lifecycle_stage="dormant")
    client = _client(org.admin)
    saved = _post(client, f"{API}/rules/{rule.pk}/dry-run", {"record_id": customer.pk})
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert (body["trigger_fits"], body["conditions_met"], body["would_run"], body["run_id"]) == (True, True, True, None)
    assert body["actions"] == [
        {
            "type": "notify",
            "label": "Notify a user",
            "description": f"Notify {org.rep_north}: “Check 王芳”.",
            "error": "",
        }
    ]
    assert not RuleRun.objects.exists()
    kept = _post(client, f"{API}/rules/{rule.pk}/dry-run", {"record_id": customer.pk, "record_run": True}).json()
    assert RuleRun.objects.get().pk == kept["run_id"]
    unsaved = _post(
        client,
        f"{API}/rules/dry-run",
        {
            "record_id": customer.pk,
            "definition": rule_data(conditions={"all": [{"field": "rating", "op": "gt", "value": 3}]}),
        },
    )
    assert unsaved.status_code == 200
    assert unsaved.json()["conditions"][1] == {
        "path": "conditions.0",
        "depth": 1,
        "result": False,
        "mode": "",
        "field": "rating",
        "field_label": "Star rating",
        "op": "gt",
        "op_label": "is greater than",
        "expected": "3",
        "actual": "0",
    }
    bad = _post(client, f"{API}/rules/dry-run", {"record_id": customer.pk, "definition": rule_data(actions=[])})
    assert bad.status_code == 422 and bad.json()["error"]["fields"] == {"actions": ["Add at least one action."]}
    missing = _post(client, f"{API}/rules/{rule.pk}/dry-run", {"record_id": 999999})
    assert missing.status_code == 404
    assert Rule.objects.count() == 1


def test_the_run_log_pages_and_filters(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    admin = org.actor("admin")
    rule = make_rule(admin, conditions={"all": [{"field": "rating", "op": "gte", "value": 3}]})
    for rating in (1, 4, 5):
        customer = make_customer(admin, django_capture_on_commit_callbacks, rating=rating)
        with django_capture_on_commit_callbacks(execute=True):
            customer_update(actor=admin, customer=customer, data={"lifecycle_stage": "dormant"})
    client = _client(org.admin)
    page = client.get(f"{API}/rule-runs", {"limit": 2}).json()
    assert [item["status"] for item in page["items"]] == ["succeeded", "succeeded"] and page["next_cursor"]
    rest = client.get(f"{API}/rule-runs", {"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [item["status"] for item in rest["items"]] == ["skipped"]
    skipped = client.get(f"{API}/rules/{rule.pk}/runs", {"status": "skipped"}).json()["items"]
    assert len(skipped) == 1 and skipped[0]["conditions"][1]["actual"] == "1"
    one = client.get(f"{API}/rule-runs/{page['items'][0]['id']}").json()
    assert one["outcomes"][0]["status"] == "succeeded" and one["rule_name"] == rule.name
    assert client.get(f"{API}/rule-runs", {"status": "bogus"}).status_code == 422
    with CaptureQueriesContext(connection) as queries:
        client.get(f"{API}/rule-runs")
    assert len(queries.captured_queries) <= 6


def test_the_catalogue_lists_what_rules_are_built_from(org: Any) -> None:
    CustomFieldDefinition.objects.create(
        target="customers.customer",
        key="tier",
        label_zh="等级",
        label_en="Tier",
        field_type="choice",
        choices=[{"value": "gold", "label_zh": "金", "label_en": "Gold"}],
    )
    body = _client(org.admin).get(f"{API}/automation/catalogue").json()
    types = {item["key"]: item for item in body["record_types"]}
    assert set(types) >= {"customers.customer", "customers.lead", "customers.interaction", "customers.task"}
    customer = types["customers.customer"]
    fields = {field["path"]: field for field in customer["fields"]}
    assert fields["custom_fields.tier"]["choices"] == [{"value": "gold", "label": "Gold"}]
    assert [op["value"] for op in fields["birthday"]["operators"]] == [
        "eq",
        "ne",
        "gt",
        "gte",
        "lt",
        "lte",
        "is_empty",
        "is_not_empty",
        "changed",
    ]
    assert "customer.owner_changed" in [event["name"] for event in customer["events"]]
    actions = {action["type"]: action for action in customer["actions"]}
    assert {
        "notify",
        "add_tag",
        "send_message",
        "call_webhook",
        "start_approval",
        "customers.assign_owner",
        "customers.set_field",
        "customers.create_task",
        "customers.return_to_pool",
    } <= set(actions)
    notify = {param["name"]: param for param in actions["notify"]["params"]}
    assert notify["user_id"]["show_if"] == {"param": "recipient", "values": ["user"]}
    task_actions = {action["type"] for action in types["customers.task"]["actions"]}
    assert "customers.assign_owner" in task_actions and "add_tag" not in task_actions
    assert [kind["value"] for kind in body["trigger_kinds"]] == ["event", "field_change", "date", "schedule"]


def test_reps_and_read_only_tokens_cannot_manage_rules(org: Any) -> None:
    rule = make_rule(org.actor("admin"))
    rep = _client(org.rep_north)
    assert rep.get(f"{API}/rules").status_code == 403
    assert rep.get(f"{API}/automation/catalogue").status_code == 403
    assert _post(rep, f"{API}/rules", rule_data()).status_code == 403
    assert _post(rep, f"{API}/rules/{rule.pk}/deactivate", {}).status_code == 403
    _token, secret = api_token_create(
        actor=org.actor("admin"), name="monitor", scopes=["automation:read"], expires_at=None
    )
    token = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert token.get(f"{API}/rules").status_code == 200
    assert token.get(f"{API}/rule-runs").status_code == 200
    assert _post(token, f"{API}/rules", rule_data()).status_code == 403
    assert _post(token, f"{API}/rules/{rule.pk}/dry-run", {"record_id": 1}).status_code == 403
    assert Rule.objects.count() == 1

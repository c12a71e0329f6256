"""Settings pages of workflow rules: list with toggles, the builder (htmx redraws, save, errors next to their
rows), the dry run panel, the run log; only those who may see or manage rules get them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.customers.models import Customer
from guanxi.platform.automation.models import Rule, RuleRun
from tests.factories import CustomerFactory
from tests.platform.automation.conftest import make_customer, make_rule


def _client(user: Any, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def _builder_post(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Dormant VIPs",
        "record_type": "customers.customer",
        "trigger_kind": "field_change",
        "t_field": "lifecycle_stage",
        "t_to": "dormant",
        "t_from": "",
        "group_count": "1",
        "match": "all",
        "g0_match": "all",
        "g0_count": "1",
        "g0_0_field": "rating",
        "g0_0_op": "gte",
        "g0_0_value": "4",
        "action_count": "1",
        "a0_type": "notify",
        "a0_p_recipient": "owner",
        "a0_p_title": "Call {record}",
        "a0_p_body": "",
        "op": "save",
    }
    data.update(extra)
    return data


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_list_shows_rules_with_their_last_run_in_fixed_queries(
    org: Any, language: str, django_capture_on_commit_callbacks: Any
) -> None:
    admin = org.actor("admin")
    make_rule(admin)
    customer = make_customer(admin, django_capture_on_commit_callbacks, owner_id=org.rep_north.pk)
    with django_capture_on_commit_callbacks(execute=True):
        from guanxi.customers.services.customers import customer_update

        customer_update(actor=admin, customer=customer, data={"lifecycle_stage": "dormant"})
    client = _client(org.admin, language)
    url = reverse("automation:rule_list")
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    html = response.content.decode()
    assert "Dormant customers" in html and f"/settings/rules/{Rule.objects.get().pk}/runs/" in html
    for index in range(8):
        make_rule(admin, name=f"Rule {index}", trigger_config={"field": "rating", "to": index % 5 + 1})
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_reps_and_managers_neither_see_nor_open_the_rules(org: Any) -> None:
    for user in (org.rep_north, org.manager_north):
        client = _client(user)
        assert client.get(reverse("automation:rule_list")).status_code == 403
        assert client.get(reverse("automation:rule_create")).status_code == 403
        assert client.get(reverse("automation:run_list")).status_code == 403
        assert reverse("automation:rule_list") not in client.get(reverse("ui:workbench")).content.decode()
    assert reverse("automation:rule_list") in _client(org.admin).get(reverse("ui:workbench")).content.decode()


def test_a_rep_cannot_toggle_or_delete_a_rule(org: Any) -> None:
    rule = make_rule(org.actor("admin"))
    client = _client(org.rep_north)
    assert client.post(reverse("automation:rule_toggle", args=[rule.pk]), {"active": "false"}).status_code == 403
    assert client.post(reverse("automation:rule_delete", args=[rule.pk])).status_code == 403
    assert Rule.objects.get().is_active


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_builder_redraws_from_the_posted_form(org: Any, language: str) -> None:
    client = _client(org.admin, language)
    url = reverse("automation:rule_create")
    assert client.get(url).status_code == 200
    added = client.post(url, _builder_post(op="add_condition:0"), HTTP_HX_REQUEST="true")
    html = added.content.decode()
    assert added.status_code == 200
    assert 'name="g0_1_field"' in html and 'name="g0_count" value="2"' in html
    assert 'value="Dormant VIPs"' in html  # what was typed stays
    grouped = client.post(url, _builder_post(op="add_group"), HTTP_HX_REQUEST="true").content.decode()
    assert 'name="g1_0_field"' in grouped and 'name="match"' in grouped
    action = client.post(url, _builder_post(op="add_action"), HTTP_HX_REQUEST="true").content.decode()
    assert 'name="a1_type"' in action
    # Choosing "a named user" shows the user picker (a select that redraws the builder).
    named = client.post(url, _builder_post(op="rebuild", a0_p_recipient="user"), HTTP_HX_REQUEST="true")
    assert 'name="a0_p_user_id"' in named.content.decode()
    removed = client.post(url, _builder_post(op="remove_condition:0:0"), HTTP_HX_REQUEST="true").content.decode()
    assert 'name="g0_0_field"' not in removed


def test_saving_the_builder_creates_the_rule(org: Any) -> None:
    response = _client(org.admin).post(reverse("automation:rule_create"), _builder_post())
    rule = Rule.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("automation:rule_edit", args=[rule.pk])
    assert rule.trigger_config == {"field": "lifecycle_stage", "to": "dormant"}
    assert rule.conditions == {"all": [{"field": "rating", "op": "gte", "value": 4}]}
    assert rule.actions == [{"type": "notify", "params": {"recipient": "owner", "title": "Call {record}"}}]
    assert (rule.is_active, rule.run_as_id, rule.created_by_id) == (False, org.admin.pk, org.admin.pk)


def test_builder_errors_appear_next_to_their_rows(org: Any) -> None:
    response = _client(org.admin).post(
        reverse("automation:rule_create"),
        _builder_post(g0_0_value="many", a0_p_title="Call {nobody}", name=""),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Enter a whole number." in html
    assert "Unknown merge field {nobody}" in html
    assert "Enter a name." in html
    assert not Rule.objects.exists()


def test_two_groups_are_saved_as_a_nested_tree_and_read_back(org: Any) -> None:
    post = _builder_post(
        group_count="2",
        match="any",
        g1_match="all",
        g1_count="2",
        g1_0_field="industry",
        g1_0_op="contains",
        g1_0_value="零售",
        g1_1_field="in_pool",
        g1_1_op="eq",
        g1_1_value="false",
    )
    client = _client(org.admin)
    client.post(reverse("automation:rule_create"), post)
    rule = Rule.objects.get()
    assert rule.conditions == {
        "any": [
            {"all": [{"field": "rating", "op": "gte", "value": 4}]},
            {
                "all": [
                    {"field": "industry", "op": "contains", "value": "零售"},
                    {"field": "in_pool", "op": "eq", "value": False},
                ]
            },
        ]
    }
    html = client.get(reverse("automation:rule_edit", args=[rule.pk])).content.decode()
    assert 'name="g1_1_field"' in html and 'value="零售"' in html


def test_editing_keeps_the_version_and_refuses_a_stale_one(org: Any) -> None:
    rule = make_rule(org.actor("admin"))
    client = _client(org.admin)
    url = reverse("automation:rule_edit", args=[rule.pk])
    assert client.post(url, _builder_post(name="Renamed", version=str(rule.version))).status_code == 302
    stale = client.post(url, _builder_post(name="Again", version=str(rule.version)))
    assert stale.status_code == 409
    assert Rule.objects.get().name == "Renamed"


def test_the_toggle_switches_a_rule_and_swaps_its_row(org: Any) -> None:
    rule = make_rule(org.actor("admin"))
    client = _client(org.admin)
    off = client.post(reverse("automation:rule_toggle", args=[rule.pk]), {"active": "false"}, HTTP_HX_REQUEST="true")
    assert off.status_code == 200 and f'id="rule-{rule.pk}"' in off.content.decode()
    assert not Rule.objects.get().is_active
    client.post(reverse("automation:rule_toggle", args=[rule.pk]), {"active": "true"})
    assert Rule.objects.get().is_active


def test_the_dry_run_panel_tests_the_form_as_written_and_changes_nothing(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = make_customer(
        org.actor("admin"), django_capture_on_commit_callbacks, owner_id=org.rep_north.pk, rating=5
    )
    client = _client(org.admin)
    response = client.post(
        reverse("automation:rule_create"),
        _builder_post(op="dry_run", record_id=str(customer.pk)),
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Dry run on 王芳" in html and "Would not run" in html  # the stage is not dormant yet
    assert "Runs when Lifecycle stage changes to Dormant; it is Prospect now." in html
    assert f"Notify {org.rep_north}: “Call 王芳”." in html
    assert not Rule.objects.exists() and not RuleRun.objects.exists()
    assert Customer.objects.get(pk=customer.pk).version == customer.version
    missing = client.post(
        reverse("automation:rule_create"), _builder_post(op="dry_run", record_id=""), HTTP_HX_REQUEST="true"
    )
    assert "Enter the id of a record, or search for one." in missing.content.decode()


def test_the_record_search_offers_visible_records(org: Any) -> None:
    CustomerFactory(name="张三丰", owner=org.rep_north)
    html = (
        _client(org.admin)
        .get(reverse("automation:record_options"), {"record_type": "customers.customer", "record_q": "张三"})
        .content.decode()
    )
    assert 'name="record_pick"' in html and "张三丰" in html


def test_the_run_log_lists_runs_with_outcomes_in_fixed_queries(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from guanxi.customers.services.customers import customer_update

    admin = org.actor("admin")
    rule = make_rule(admin)

    def dormant_customer() -> None:
        customer = make_customer(admin, django_capture_on_commit_callbacks, owner_id=org.rep_north.pk)
        with django_capture_on_commit_callbacks(execute=True):
            customer_update(actor=admin, customer=customer, data={"lifecycle_stage": "dormant"})

    dormant_customer()
    client = _client(org.admin)
    url = reverse("automation:run_list")
    with CaptureQueriesContext(connection) as few:
        html = client.get(url).content.decode()
    assert "Succeeded" in html and "Notified" in html
    for _ in range(4):
        dormant_customer()
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)
    per_rule = client.get(reverse("automation:rule_runs", args=[rule.pk]), {"status": "succeeded"})
    assert per_rule.status_code == 200 and per_rule.content.decode().count("<tr>") == 6  # header + 5 runs
    bad = client.get(url, {"status": "bogus"})
    assert bad.status_code == 422


def test_deleting_a_rule_asks_first(org: Any) -> None:
    rule = make_rule(org.actor("admin"))
    client = _client(org.admin)
    assert client.get(reverse("automation:rule_delete", args=[rule.pk])).status_code == 200
    assert client.post(reverse("automation:rule_delete", args=[rule.pk])).status_code == 302
    assert not Rule.objects.exists()

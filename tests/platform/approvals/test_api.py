"""The approvals API: processes for administrators; requests by box, detail, submit, decide, cancel, resubmit
and comment, in the platform's error format and with a fixed number of queries per list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from guanxi.platform.approvals.models import ApprovalProcess, ApprovalRequest
from guanxi.platform.approvals.services import approval_start
from guanxi.platform.identity.services import api_token_create
from tests.factories import actor, role
from tests.platform.approvals.conftest import GADGET, GadgetStore, make_process, step

PROCESSES = "/api/v1/approval-processes"
REQUESTS = "/api/v1/approvals"
ClientFor = Callable[[str], Client]


def _post(client: Client, url: str, body: dict[str, Any], **headers: Any) -> Any:
    return client.post(url, body, content_type="application/json", **headers)


def _submit(org: Any, process: Any, gadget: Any, who: str = "rep_north") -> ApprovalRequest:
    return approval_start(
        actor=actor(getattr(org, who)), process_id=process.pk, approvable_type=GADGET, object_id=gadget.id
    )


def test_admin_creates_reads_changes_and_deletes_a_process(org: Any, store: GadgetStore, client_for: ClientFor) -> None:
    client = client_for("admin")
    created = _post(
        client,
        PROCESSES,
        {
            "name": "特价审批",
            "approvable_type": GADGET,
            "description": "八折以下",
            "steps": [
                {"approver_kind": "manager", "name": "经理", "timeout_hours": 24, "remind_on_timeout": True},
                {"approver_kind": "role", "role_id": role("analyst").pk, "role_scope": "team_chain"},
            ],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["approvable_type"], body["is_active"], body["version"]) == ("特价审批", GADGET, True, 1)
    assert [(s["position"], s["approver_kind"], s["approver"]) for s in body["steps"]] == [
        (1, "manager", "The requester's manager"),
        (2, "role", "Anyone with the role “Analyst” (In the requester's team or the teams above it)"),
    ]
    url = f"{PROCESSES}/{body['id']}"
    assert client.get(url)["ETag"] == '"1"'
    assert client.patch(url, {"is_active": False}, content_type="application/json").status_code == 428
    changed = client.patch(url, {"is_active": False}, content_type="application/json", HTTP_IF_MATCH='"1"')
    assert changed.status_code == 200, changed.content
    assert (changed.json()["is_active"], changed.json()["version"], len(changed.json()["steps"])) == (False, 2, 2)
    first_step = changed.json()["steps"][0]["id"]
    reordered = client.patch(
        url,
        {"steps": [{"approver_kind": "user", "user_id": org.admin.pk}, {"id": first_step, "approver_kind": "manager"}]},
        content_type="application/json",
        HTTP_IF_MATCH='"2"',
    )
    assert [(s["position"], s["approver_kind"], s["id"] == first_step) for s in reordered.json()["steps"]] == [
        (1, "user", False),
        (2, "manager", True),
    ]
    assert client.get(PROCESSES).json()["items"] == []  # switched off: listed only with include_inactive
    assert [p["name"] for p in client.get(PROCESSES, {"include_inactive": "true"}).json()["items"]] == ["特价审批"]
    assert client.delete(url).status_code == 204
    assert not ApprovalProcess.objects.exists()


def test_bad_process_definitions_answer_422_naming_the_fields(
    org: Any, store: GadgetStore, client_for: ClientFor
) -> None:
    client = client_for("admin")
    response = _post(
        client,
        PROCESSES,
        {"name": "特价", "approvable_type": GADGET, "steps": [{"approver_kind": "role"}, {"approver_kind": "user"}]},
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "steps[0].role_id": ["Choose the role whose members approve this step."],
        "steps[1].user_id": ["Choose the user who approves this step."],
    }
    no_steps = _post(client, PROCESSES, {"name": "特价", "approvable_type": GADGET, "steps": []})
    assert no_steps.json()["error"]["fields"] == {"steps": ["Send at least 1 items."]}  # the schema says so
    negative = _post(
        client,
        PROCESSES,
        {"name": "特价", "approvable_type": GADGET, "steps": [{"approver_kind": "manager", "timeout_hours": -2}]},
    )
    assert negative.json()["error"]["fields"] == {
        "steps[0].timeout_hours": ["The timeout cannot be negative: enter whole hours, or 0 for none."]
    }
    assert not ApprovalProcess.objects.exists()


def test_process_permissions(org: Any, store: GadgetStore, client_for: ClientFor) -> None:
    process = make_process(org, [step("manager")])
    rep = client_for("rep_north")
    assert rep.get(PROCESSES).status_code == 200  # reps read the active processes to choose one
    assert rep.get(PROCESSES, {"include_inactive": "true"}).status_code == 403
    body = {"name": "x", "approvable_type": GADGET, "steps": [{"approver_kind": "manager"}]}
    assert _post(rep, PROCESSES, body).json()["error"]["code"] == "permission_denied"
    assert client_for("manager_north").delete(f"{PROCESSES}/{process.pk}").status_code == 403
    assert client_for("analyst").get(PROCESSES).status_code == 403
    assert client_for("admin").delete(f"{PROCESSES}/999999").status_code == 404


def test_a_request_goes_through_the_api(org: Any, store: GadgetStore, two_steps: Any, client_for: ClientFor) -> None:
    gadget = store.add("茶具", org.rep_north, price="880.00")
    rep, manager, admin = client_for("rep_north"), client_for("manager_north"), client_for("admin")
    submitted = _post(
        rep, REQUESTS, {"process_id": two_steps.pk, "approvable_type": GADGET, "object_id": gadget.id, "comment": "急"}
    )
    assert submitted.status_code == 201, submitted.content
    body = submitted.json()
    assert (body["status"], body["current_step_position"], body["step_count"], body["amount"]) == (
        "pending",
        1,
        2,
        "880.00",
    )
    assert [(s["number"], s["state"]) for s in body["steps"]] == [(1, "current"), (2, "waiting")]
    assert [(a["kind"], a["comment"]) for a in body["actions"]] == [("submit", "急")]
    assert (body["can_decide"], body["can_cancel"], body["can_resubmit"]) == (False, True, False)
    url = f"{REQUESTS}/{body['id']}"
    again = _post(rep, REQUESTS, {"process_id": two_steps.pk, "approvable_type": GADGET, "object_id": gadget.id})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"

    assert [r["id"] for r in manager.get(REQUESTS).json()["items"]] == [body["id"]]
    assert manager.get(url).json()["can_decide"] is True
    not_yet = _post(admin, f"{url}/decide", {"decision": "reject"})
    assert not_yet.status_code == 422
    assert not_yet.json()["error"]["fields"] == {"comment": ["Say why you reject the request."]}
    mine = _post(rep, f"{url}/decide", {"decision": "approve"})
    assert mine.status_code == 403 and mine.json()["error"]["message"] == "You cannot decide your own request."
    approved = _post(manager, f"{url}/decide", {"decision": "approve", "version": 2})
    assert approved.status_code == 200, approved.content
    assert [(s["state"], s["decided_by"]) for s in approved.json()["steps"]] == [
        ("done", str(org.manager_north)),
        ("current", ""),
    ]
    twice = _post(manager, f"{url}/decide", {"decision": "approve"})
    assert twice.status_code == 403
    returned = _post(admin, f"{url}/decide", {"decision": "return", "comment": "附合同"})
    assert returned.json()["status"] == "returned" and returned.json()["can_resubmit"] is False
    assert rep.get(url).json()["can_resubmit"] is True
    resubmitted = _post(rep, f"{url}/resubmit", {"comment": "已附"})
    assert (resubmitted.json()["status"], resubmitted.json()["round"]) == ("pending", 2)
    commented = _post(manager, f"{url}/comments", {"comment": "收到"})
    assert commented.status_code == 201 and commented.json()["kind"] == "comment"
    cancelled = _post(rep, f"{url}/cancel", {})
    assert cancelled.json()["status"] == "cancelled"
    assert [a["kind"] for a in cancelled.json()["actions"]] == [
        "submit",
        "approve",
        "return",
        "resubmit",
        "comment",
        "cancel",
    ]


def test_boxes_and_visibility(org: Any, store: GadgetStore, two_steps: Any, client_for: ClientFor) -> None:
    mine = _submit(org, two_steps, store.add("甲", org.rep_north))
    other = _submit(org, two_steps, store.add("乙", org.rep_north_sub), who="rep_north_sub")
    rep = client_for("rep_north")
    assert [r["id"] for r in rep.get(REQUESTS, {"box": "mine"}).json()["items"]] == [mine.pk]
    assert rep.get(REQUESTS, {"box": "inbox"}).json()["items"] == []
    assert rep.get(REQUESTS, {"box": "all"}).status_code == 403
    assert rep.get(f"{REQUESTS}/{other.pk}").status_code == 404
    admin = client_for("admin")
    assert [r["id"] for r in admin.get(REQUESTS, {"box": "all"}).json()["items"]] == [other.pk, mine.pk]
    assert [r["id"] for r in admin.get(REQUESTS, {"box": "all", "status": "approved"}).json()["items"]] == []
    record = f"/api/v1/records/{GADGET}/1/approvals"
    assert admin.get(record).status_code == 404  # the admin is not among the gadget's viewers
    assert [r["id"] for r in rep.get(record).json()["items"]] == [mine.pk]
    assert rep.get("/api/v1/records/rockets/1/approvals").status_code == 404
    bad = rep.get(REQUESTS, {"box": "everything"})
    assert bad.status_code == 422 and list(bad.json()["error"]["fields"]) == ["box"]


def test_the_list_runs_a_fixed_number_of_queries(
    org: Any, store: GadgetStore, two_steps: Any, client_for: ClientFor
) -> None:
    client = client_for("manager_north")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(REQUESTS)
        assert response.status_code == 200
        return len(captured.captured_queries)

    for index in range(3):
        _submit(org, two_steps, store.add(f"甲{index}", org.rep_north))
    few = queries()
    for index in range(12):
        _submit(org, two_steps, store.add(f"乙{index}", org.rep_north_sub), who="rep_north_sub")
    assert len(client.get(REQUESTS).json()["items"]) == 15
    assert queries() == few


def test_token_scopes_gate_reading_and_acting(org: Any, store: GadgetStore, two_steps: Any) -> None:
    request = _submit(org, two_steps, store.add("甲", org.rep_north))
    _t, read_only = api_token_create(
        actor=actor(org.manager_north), name="read", scopes=["approvals:read"], expires_at=None
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {read_only}")
    assert client.get(REQUESTS).status_code == 200
    refused = _post(client, f"{REQUESTS}/{request.pk}/decide", {"decision": "approve"})
    assert refused.status_code == 403
    _t, writer = api_token_create(
        actor=actor(org.manager_north), name="write", scopes=["approvals:write"], expires_at=None
    )
    allowed = Client(HTTP_AUTHORIZATION=f"Bearer {writer}")
    assert _post(allowed, f"{REQUESTS}/{request.pk}/decide", {"decision": "approve"}).status_code == 200
    _t, customers_only = api_token_create(
        actor=actor(org.manager_north), name="c", scopes=["customers:read"], expires_at=None
    )
    assert Client(HTTP_AUTHORIZATION=f"Bearer {customers_only}").get(REQUESTS).status_code == 403

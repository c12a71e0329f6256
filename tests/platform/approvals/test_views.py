"""Approval pages: the inbox with counts, a request with its decision forms, the process editor, the record
panel on a customer's page, the workbench panel; in both languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.platform.approvals.models import ApprovalProcess, ApprovalRequest, RequestStatus
from guanxi.platform.approvals.services import approval_decide, approval_start
from tests.factories import CustomerFactory, actor, role
from tests.platform.approvals.conftest import GADGET, GadgetStore, make_process, step

INBOX = reverse("approvals:inbox")
ClientFor = Callable[[str], Client]
HTMX = {"HTTP_HX_REQUEST": "true"}


def _submit(org: Any, process: Any, gadget: Any, who: str = "rep_north") -> ApprovalRequest:
    return approval_start(
        actor=actor(getattr(org, who)), process_id=process.pk, approvable_type=GADGET, object_id=gadget.id
    )


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_inbox_shows_each_box_with_its_count(
    org: Any, store: GadgetStore, two_steps: Any, client_for: ClientFor
) -> None:
    _submit(org, two_steps, store.add("茶具", org.rep_north))
    _submit(org, two_steps, store.add("茶叶", org.rep_north_sub), who="rep_north_sub")
    page = _text(client_for("manager_north").get(INBOX).content.decode())
    assert "Waiting for me 2" in page and "Submitted by me 0" in page and "All requests" not in page
    assert "Gadget 茶具" in page and "Gadget 茶叶" in page and "step 1 of 2" in page
    admin = client_for("admin").get(INBOX, {"box": "all"}).content.decode()
    assert "All requests 2" in _text(admin)
    mine = _text(client_for("rep_north").get(INBOX, {"box": "mine"}).content.decode())
    assert "Gadget 茶具" in mine and "Gadget 茶叶" not in mine
    empty = _text(client_for("rep_south").get(INBOX).content.decode())
    assert "Nothing is waiting for your approval." in empty


def test_inbox_query_count_does_not_grow_with_the_rows(
    org: Any, store: GadgetStore, two_steps: Any, client_for: ClientFor
) -> None:
    client = client_for("manager_north")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(INBOX)
        assert response.status_code == 200
        return len(captured.captured_queries)

    for index in range(3):
        _submit(org, two_steps, store.add(f"甲{index}", org.rep_north))
    few = queries()
    for index in range(15):
        _submit(org, two_steps, store.add(f"乙{index}", org.rep_north_sub), who="rep_north_sub")
    assert queries() == few


def test_the_approver_decides_on_the_request_page(
    org: Any, store: GadgetStore, two_steps: Any, client_for: ClientFor
) -> None:
    request = _submit(org, two_steps, store.add("茶具", org.rep_north))
    url = reverse("approvals:request_detail", args=[request.pk])
    manager = client_for("manager_north")
    page = manager.get(url).content.decode()
    assert 'value="approve"' in page and 'value="reject"' in page and "Your decision" in page
    refused = manager.post(
        reverse("approvals:request_decide", args=[request.pk]), {"decision": "reject", "comment": ""}
    )
    assert refused.status_code == 422
    assert "Say why you reject the request." in refused.content.decode()
    done = manager.post(
        reverse("approvals:request_decide", args=[request.pk]),
        {"decision": "approve", "comment": "同意", "version": request.version},
    )
    assert done.status_code == 302 and done["Location"] == url
    request.refresh_from_db()
    assert request.current_step.position == 2
    # The requester sees the progress and the log, but no decision form.
    seen = _text(client_for("rep_north").get(url).content.decode())
    assert "Your decision" not in seen and "同意" in seen and "Cancel request" in seen
    # Someone who may not see the request gets 404.
    assert client_for("marketer").get(url).status_code == 404
    stale = manager.post(reverse("approvals:request_decide", args=[request.pk]), {"decision": "approve"})
    assert stale.status_code == 403
    assert "It is not your turn" in stale.content.decode()


def test_return_resubmit_cancel_and_comment_on_the_request_page(
    org: Any, store: GadgetStore, client_for: ClientFor
) -> None:
    process = make_process(org, [step("manager")])
    request = _submit(org, process, store.add("茶具", org.rep_north))
    approval_decide(actor=actor(org.manager_north), request_id=request.pk, decision="return", comment="补资料")
    rep = client_for("rep_north")
    assert "Resubmit" in rep.get(reverse("approvals:request_detail", args=[request.pk])).content.decode()
    assert rep.post(reverse("approvals:request_resubmit", args=[request.pk]), {"comment": "已补"}).status_code == 302
    assert rep.post(reverse("approvals:request_comment", args=[request.pk]), {"comment": "请尽快"}).status_code == 302
    empty = rep.post(reverse("approvals:request_comment", args=[request.pk]), {"comment": ""})
    assert empty.status_code == 422 and "Write a comment." in empty.content.decode()
    assert rep.post(reverse("approvals:request_cancel", args=[request.pk]), {}).status_code == 302
    request.refresh_from_db()
    assert (request.status, request.round) == (RequestStatus.CANCELLED, 2)


def test_the_process_editor_adds_moves_removes_and_saves_steps(
    org: Any, store: GadgetStore, client_for: ClientFor
) -> None:
    client = client_for("admin")
    new = reverse("approvals:process_create")
    assert client.get(new).status_code == 200
    base = {"name": "合同审批", "approvable_type": GADGET, "is_active": "on", "description": ""}
    rows = {
        "step_count": "2",
        "step-0-approver_kind": "manager",
        "step-0-name": "经理",
        "step-0-timeout_hours": "0",
        "step-1-approver_kind": "role",
        "step-1-name": "财务",
        "step-1-role": "",
        "step-1-timeout_hours": "-5",
    }
    added = client.post(new, {**base, **rows, "editor": "add"})
    assert added.status_code == 200 and 'name="step_count" value="3"' in added.content.decode()
    moved = client.post(new, {**base, **rows, "editor": "up-1"}).content.decode()
    assert moved.index('value="财务"') < moved.index('value="经理"')
    removed = client.post(new, {**base, **rows, "editor": "remove-0"}).content.decode()
    assert 'value="经理"' not in removed and 'name="step_count" value="1"' in removed
    refused = client.post(new, {**base, **rows})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "Choose the role whose members approve this step." in html
    assert "The timeout cannot be negative: enter whole hours, or 0 for none." in html
    assert not ApprovalProcess.objects.exists()
    fixed = {
        **rows,
        "step-1-role": str(role("analyst").pk),
        "step-1-timeout_hours": "24",
        "step-1-remind_on_timeout": "on",
    }
    saved = client.post(new, {**base, **fixed})
    assert saved.status_code == 302 and saved["Location"] == reverse("approvals:process_list")
    process = ApprovalProcess.objects.get()
    assert [(s.name, s.approver_kind, s.timeout_hours, s.remind_on_timeout) for s in process.steps.all()] == [
        ("经理", "manager", 0, False),
        ("财务", "role", 24, True),
    ]
    listing = _text(client.get(reverse("approvals:process_list")).content.decode())
    assert "合同审批" in listing and "The requester&#x27;s manager" in listing
    edit_url = reverse("approvals:process_edit", args=[process.pk])
    edit = client.get(edit_url).content.decode()
    assert 'name="step_count" value="2"' in edit and "History" in edit
    first, second = process.steps.all()
    swapped = client.post(
        edit_url,
        {
            "name": "合同审批",
            "is_active": "on",
            "version": process.version,
            "step_count": "2",
            "step-0-id": str(second.pk),
            "step-0-approver_kind": "role",
            "step-0-role": str(role("analyst").pk),
            "step-0-timeout_hours": "24",
            "step-0-remind_on_timeout": "on",
            "step-1-id": str(first.pk),
            "step-1-approver_kind": "manager",
        },
    )
    assert swapped.status_code == 302
    assert list(process.steps.values_list("pk", "position")) == [(second.pk, 1), (first.pk, 2)]


def test_process_settings_are_for_approval_managers(org: Any, store: GadgetStore, client_for: ClientFor) -> None:
    process = make_process(org, [step("manager")])
    for name in ("rep_north", "manager_north"):
        client = client_for(name)
        assert client.get(reverse("approvals:process_list")).status_code == 403
        assert client.get(reverse("approvals:process_edit", args=[process.pk])).status_code == 403
        assert client.post(reverse("approvals:process_delete", args=[process.pk])).status_code == 403
    assert client_for("admin").post(reverse("approvals:process_delete", args=[process.pk])).status_code == 302
    assert not ApprovalProcess.objects.exists()


def test_the_customer_page_has_an_approvals_panel(org: Any, client_for: ClientFor) -> None:
    customer = CustomerFactory(owner=org.rep_north, name="欧阳翠屏")
    process = make_process(org, [step("manager")], name="客户特价", key="customers.customer")
    make_process(org, [step("manager")], name="停用的", key="customers.customer").__class__.objects.filter(
        name="停用的"
    ).update(is_active=False)
    rep = client_for("rep_north")
    detail = rep.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    panel_url = reverse("approvals:record_panel")
    assert f'hx-get="{panel_url}?approvable_type=customers.customer&amp;object_id={customer.pk}"' in detail
    panel = rep.get(panel_url, {"approvable_type": "customers.customer", "object_id": customer.pk}, **HTMX)
    html = panel.content.decode()
    assert panel.status_code == 200 and "No approval requests for this record yet." in html
    assert "客户特价" in html and "停用的" not in html
    posted = rep.post(
        panel_url,
        {
            "approvable_type": "customers.customer",
            "object_id": customer.pk,
            "process_id": process.pk,
            "comment": "八折",
        },
        **HTMX,
    )
    assert posted.status_code == 200
    request = ApprovalRequest.objects.get()
    assert (request.object_label, request.object_url) == ("欧阳翠屏", f"/customers/{customer.pk}/")
    assert "Waiting for approval" in posted.content.decode()
    twice = rep.post(
        panel_url, {"approvable_type": "customers.customer", "object_id": customer.pk, "process_id": process.pk}, **HTMX
    )
    assert twice.status_code == 409 and "already has an open request" in twice.content.decode()
    # Another rep cannot see the customer, so neither its panel nor its requests.
    other = client_for("rep_south").get(panel_url, {"approvable_type": "customers.customer", "object_id": customer.pk})
    assert other.status_code == 404
    assert client_for("rep_south").get(reverse("approvals:request_detail", args=[request.pk])).status_code == 404
    # The approver (the rep's manager) sees it in their inbox and on the customer.
    assert "欧阳翠屏" in client_for("manager_north").get(INBOX).content.decode()


def test_the_workbench_shows_what_waits_for_me(
    org: Any, store: GadgetStore, two_steps: Any, client_for: ClientFor
) -> None:
    _submit(org, two_steps, store.add("茶具", org.rep_north))
    workbench = reverse("ui:workbench")
    assert "Waiting for my approval" in client_for("manager_north").get(workbench).content.decode()
    assert "Waiting for my approval" not in client_for("rep_north").get(workbench).content.decode()


def test_pages_render_in_chinese(org: Any, store: GadgetStore, two_steps: Any, client_for: ClientFor) -> None:
    request = _submit(org, two_steps, store.add("茶具", org.rep_north))
    org.admin.language = "zh-hans"
    org.admin.save()
    client = client_for("admin")
    for url in (
        INBOX,
        f"{INBOX}?box=all",
        reverse("approvals:request_detail", args=[request.pk]),
        reverse("approvals:process_list"),
        reverse("approvals:process_create"),
        reverse("approvals:process_edit", args=[two_steps.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="zh-hans">' in response.content.decode()

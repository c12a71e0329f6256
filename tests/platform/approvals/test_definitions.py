"""Process definitions: saved whole with their ordered steps, refused with clear messages when bad, and only
by those who manage approvals."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.platform.approvals.definitions import approval_process_delete, approval_process_save
from guanxi.platform.approvals.models import ApprovalProcess, ApprovalStep, RequestStatus
from guanxi.platform.approvals.services import approval_decide, approval_start
from guanxi.platform.core.errors import Conflict, PermissionDenied, StaleVersion, ValidationFailed
from tests.factories import actor, role
from tests.platform.approvals.conftest import GADGET, GadgetStore, make_process, step


def _save(org: Any, steps: list[dict[str, Any]], *, process: Any = None, **values: Any) -> ApprovalProcess:
    return approval_process_save(
        actor=actor(org.admin),
        process=process,
        name=values.pop("name", "特价审批"),
        approvable_type=values.pop("approvable_type", GADGET),
        steps=steps,
        **values,
    )


def _refused(org: Any, steps: list[dict[str, Any]], **values: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as failed:
        _save(org, steps, **values)
    return failed.value.fields


def test_a_process_is_saved_with_its_steps_in_order(org: Any, store: GadgetStore) -> None:
    finance = role("analyst")
    process = _save(
        org,
        [
            step("manager", name=" 部门经理 "),
            step("role", role_id=finance.pk, role_scope="team_chain", timeout_hours="24", remind_on_timeout=True),
            step(
                "user", user_id=org.admin.pk, timeout_hours=48, escalate_to="user", escalation_user_id=org.marketer.pk
            ),
        ],
        description="八折以下\r\n需要财务",
    )
    steps = list(process.steps.order_by("position"))
    assert [(s.position, s.name, s.approver_kind) for s in steps] == [
        (1, "部门经理", "manager"),
        (2, "", "role"),
        (3, "", "user"),
    ]
    assert (steps[1].role, steps[1].role_scope, steps[1].timeout_hours, steps[1].remind_on_timeout) == (
        finance,
        "team_chain",
        24,
        True,
    )
    assert (steps[2].user, steps[2].escalate_to, steps[2].escalation_user) == (org.admin, "user", org.marketer)
    assert process.description == "八折以下\n需要财务" and process.is_active


@pytest.mark.parametrize(
    ("steps", "errors"),
    [
        ([], {"steps": ["Add at least one step."]}),
        ([step("user")], {"steps[0].user_id": ["Choose the user who approves this step."]}),
        ([step("role")], {"steps[0].role_id": ["Choose the role whose members approve this step."]}),
        (
            [step("manager"), step("manager", timeout_hours=-1)],
            {"steps[1].timeout_hours": ["The timeout cannot be negative: enter whole hours, or 0 for none."]},
        ),
        (
            [step("manager", timeout_hours="abc")],
            {"steps[0].timeout_hours": ["Enter the timeout in whole hours, or 0 for none."]},
        ),
        ([step("manager", timeout_hours=9000)], {"steps[0].timeout_hours": ["Enter at most 8760 hours."]}),
        ([step("boss")], {"steps[0].approver_kind": ["Choose who approves this step."]}),
        ([step("role", role_id=999_999)], {"steps[0].role_id": ["Choose a role from the list."]}),
        (
            [step("manager", remind_on_timeout=True)],
            {"steps[0].timeout_hours": ["Set a timeout to remind or escalate when it passes."]},
        ),
        (
            [step("manager", timeout_hours=4, escalate_to="user")],
            {"steps[0].escalation_user_id": ["Choose the user a late step is escalated to."]},
        ),
        (
            [step("manager", timeout_hours=4, escalate_to="ceo")],
            {"steps[0].escalate_to": ["Choose who a late step is escalated to."]},
        ),
        ([step("role", role_id="x")], {"steps[0].role_id": ["Choose an item from the list."]}),
    ],
)
def test_bad_steps_are_refused_with_clear_messages(
    org: Any, store: GadgetStore, steps: list[dict[str, Any]], errors: dict[str, list[str]]
) -> None:
    assert _refused(org, steps) == errors
    assert ApprovalProcess.objects.count() == 0 and ApprovalStep.objects.count() == 0


def test_every_problem_is_reported_at_once(org: Any, store: GadgetStore) -> None:
    org.rep_south.is_active = False
    org.rep_south.save()
    make_process(org, [step("manager")], name="特价审批")
    assert _refused(
        org,
        [step("user", user_id=org.rep_south.pk), step("role", timeout_hours=-3)],
        name="特价审批",
        approvable_type=GADGET,
        description="长" * 1001,
    ) == {
        "name": ["Another process for this kind of record already has this name."],
        "description": ["Keep it to 1000 characters or fewer."],
        "steps[0].user_id": ["Choose an active user."],
        "steps[1].role_id": ["Choose the role whose members approve this step."],
        "steps[1].timeout_hours": ["The timeout cannot be negative: enter whole hours, or 0 for none."],
    }
    assert _refused(org, [step("manager")], name="  ", approvable_type="rockets") == {
        "approvable_type": ["Choose a kind of record from the list."],
        "name": ["Enter a name."],
    }
    assert _refused(org, [step("manager")] * 21, name="长链") == {"steps": ["A process has at most 20 steps."]}


def test_editing_keeps_reorders_adds_and_removes_steps(org: Any, store: GadgetStore) -> None:
    process = _save(org, [step("manager", name="经理"), step("user", name="财务", user_id=org.admin.pk)])
    manager_step, finance_step = process.steps.order_by("position")
    edited = _save(
        org,
        [
            step("user", id=finance_step.pk, name="财务", user_id=org.admin.pk),
            step("role", name="风控", role_id=role("analyst").pk),
        ],
        process=process,
        name="特价审批(新)",
        version=process.version,
    )
    steps = list(edited.steps.order_by("position"))
    assert [(s.pk == finance_step.pk, s.position, s.name) for s in steps] == [(True, 1, "财务"), (False, 2, "风控")]
    assert not ApprovalStep.objects.filter(pk=manager_step.pk).exists()
    assert (edited.name, edited.version, edited.approvable_type) == ("特价审批(新)", 2, GADGET)
    history = edited.history.order_by("-history_id").first()
    assert history.history_change_reason == "Steps changed" and history.history_user == org.admin
    with pytest.raises(StaleVersion):
        _save(org, [step("manager")], process=edited, version=1)
    other = _save(org, [step("manager")], name="别的")
    assert _refused(org, [step("manager", id=other.steps.get().pk)], process=edited, name="特价审批(新)") == {
        "steps[0].id": ["This step belongs to another process."]
    }


def test_a_step_with_waiting_requests_cannot_be_removed(org: Any, store: GadgetStore) -> None:
    process = _save(org, [step("manager", name="经理"), step("user", name="财务", user_id=org.admin.pk)])
    first, second = process.steps.order_by("position")
    gadget = store.add("茶具", org.rep_north)
    request = approval_start(
        actor=actor(org.rep_north), process_id=process.pk, approvable_type=GADGET, object_id=gadget.id
    )
    assert _refused(org, [step("user", id=second.pk, user_id=org.admin.pk)], process=process) == {
        "steps": ["Step 1 cannot be removed while requests are waiting at it (1)."]
    }
    # Step 2 may go: the request then ends after step 1.
    _save(org, [step("manager", id=first.pk)], process=process)
    approval_decide(actor=actor(org.manager_north), request_id=request.pk, decision="approve")
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED


def test_only_approval_managers_edit_processes(org: Any, store: GadgetStore) -> None:
    for name in ("manager_north", "rep_north", "analyst"):
        with pytest.raises(PermissionDenied):
            approval_process_save(
                actor=actor(getattr(org, name)), process=None, name="x", approvable_type=GADGET, steps=[step("manager")]
            )
    process = make_process(org, [step("manager")])
    with pytest.raises(PermissionDenied):
        approval_process_delete(actor=actor(org.manager_north), process_id=process.pk)


def test_a_used_process_cannot_be_deleted(org: Any, store: GadgetStore) -> None:
    used = make_process(org, [step("manager")], name="用过的")
    unused = make_process(org, [step("manager")], name="没用过的")
    gadget = store.add("茶具", org.rep_north)
    approval_start(actor=actor(org.rep_north), process_id=used.pk, approvable_type=GADGET, object_id=gadget.id)
    with pytest.raises(Conflict) as refused:
        approval_process_delete(actor=actor(org.admin), process_id=used.pk)
    assert refused.value.message == "This process has requests, so it cannot be deleted; switch it off instead."
    approval_process_delete(actor=actor(org.admin), process_id=unused.pk)
    assert list(ApprovalProcess.objects.values_list("name", flat=True)) == ["用过的"]

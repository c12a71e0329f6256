"""Approval requests through their services: chains approve, reject, return and resubmit; only the current
step's approvers decide; one open request per record; events, notifications and the record's callback."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.platform.approvals.models import (
    ActionKind,
    ApprovalAction,
    ApprovalAssignment,
    ApprovalRequest,
    RequestStatus,
)
from guanxi.platform.approvals.services import (
    approval_cancel,
    approval_comment,
    approval_decide,
    approval_resubmit,
    approval_start,
)
from guanxi.platform.core.errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from guanxi.platform.notifications.models import Notification
from tests.factories import actor
from tests.platform.approvals.conftest import GADGET, GadgetStore, Published, make_process, step


def _start(org: Any, process: Any, gadget: Any, who: str = "rep_north", comment: str = "请批 8 折") -> ApprovalRequest:
    return approval_start(
        actor=actor(getattr(org, who)),
        process_id=process.pk,
        approvable_type=GADGET,
        object_id=gadget.id,
        comment=comment,
    )


def _kinds(request: ApprovalRequest) -> list[tuple[str, int | None, str]]:
    return [
        (a.kind, a.step_position, a.actor.username if a.actor else "")
        for a in ApprovalAction.objects.filter(request=request).select_related("actor").order_by("at", "id")
    ]


def _open_approvers(request: ApprovalRequest) -> list[str]:
    return sorted(
        ApprovalAssignment.objects.filter(request=request, is_open=True).values_list("user__username", flat=True)
    )


def test_a_two_step_chain_approves(
    org: Any, store: GadgetStore, two_steps: Any, published: Published, django_capture_on_commit_callbacks: Any
) -> None:
    gadget = store.add("茶具", org.rep_north, price="880.00")
    with django_capture_on_commit_callbacks(execute=True):
        request = _start(org, two_steps, gadget)
    assert (request.status, request.current_step.position, request.round) == (RequestStatus.PENDING, 1, 1)
    assert (request.object_label, request.object_url, request.summary) == ("Gadget 茶具", "/gadgets/1/", "price 880.00")
    assert (str(request.amount), request.currency) == ("880.00", "CNY")
    assert _open_approvers(request) == ["manager_north"]
    pending = Notification.objects.get(recipient=org.manager_north, kind="approvals.pending")
    assert pending.title == "Approval needed: 特价审批 · Gadget 茶具"
    assert pending.url == f"/approvals/{request.pk}/"

    with django_capture_on_commit_callbacks(execute=True):
        approval_decide(actor=actor(org.manager_north), request_id=request.pk, decision="approve", comment="")
    request.refresh_from_db()
    assert (request.status, request.current_step.position) == (RequestStatus.PENDING, 2)
    assert _open_approvers(request) == ["admin"]
    assert store.decided == []

    with django_capture_on_commit_callbacks(execute=True):
        approval_decide(actor=actor(org.admin), request_id=request.pk, decision="approve", comment="同意")
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED and request.decided_at is not None
    assert _open_approvers(request) == []
    assert store.decided == [(gadget.id, RequestStatus.APPROVED, request.pk)]
    assert gadget.status == "approved"
    assert _kinds(request) == [
        ("submit", None, "rep_north"),
        ("approve", 1, "manager_north"),
        ("approve", 2, "admin"),
    ]
    outcome = Notification.objects.get(recipient=org.rep_north, kind="approvals.decided")
    assert (outcome.title, outcome.body) == ("Approved: 特价审批 · Gadget 茶具", f"{org.admin}: 同意")
    assert published.names() == ["approval.requested", "approval.approved"]
    requested = published.last("approval.requested")
    assert requested.record_type == "approvals.request" and requested.actor_id == org.rep_north.pk
    assert requested.payload == {
        "record_id": request.pk,
        "process_id": two_steps.pk,
        "process_name": "特价审批",
        "approvable_type": GADGET,
        "object_id": gadget.id,
        "requester_id": org.rep_north.pk,
        "round": 1,
        "approver_ids": [org.manager_north.pk],
    }
    approved = published.last("approval.approved").payload
    assert (approved["decided_by_id"], approved["step_position"], approved["comment"]) == (org.admin.pk, 2, "同意")


def test_reject_at_step_two_ends_the_request_and_calls_on_decided(
    org: Any, store: GadgetStore, two_steps: Any, published: Published, django_capture_on_commit_callbacks: Any
) -> None:
    gadget = store.add("茶具", org.rep_north)
    request = _start(org, two_steps, gadget)
    approval_decide(actor=actor(org.manager_north), request_id=request.pk, decision="approve")
    with django_capture_on_commit_callbacks(execute=True):
        approval_decide(actor=actor(org.admin), request_id=request.pk, decision="reject", comment="价格太低")
    request.refresh_from_db()
    assert request.status == RequestStatus.REJECTED
    assert store.decided == [(gadget.id, RequestStatus.REJECTED, request.pk)]
    assert _kinds(request)[-1] == ("reject", 2, "admin")
    assert ApprovalAction.objects.get(request=request, kind="reject").comment == "价格太低"
    assert Notification.objects.get(recipient=org.rep_north, kind="approvals.decided").title.startswith("Rejected: ")
    assert published.names() == ["approval.rejected"]
    with pytest.raises(Conflict) as refused:
        approval_decide(actor=actor(org.admin), request_id=request.pk, decision="approve")
    assert refused.value.message == "This request is no longer waiting for a decision: it is “Rejected”."


def test_return_and_resubmit_starts_over_at_step_one(
    org: Any, store: GadgetStore, two_steps: Any, published: Published, django_capture_on_commit_callbacks: Any
) -> None:
    gadget = store.add("茶具", org.rep_north)
    request = _start(org, two_steps, gadget)
    approval_decide(actor=actor(org.manager_north), request_id=request.pk, decision="approve")
    with django_capture_on_commit_callbacks(execute=True):
        approval_decide(actor=actor(org.admin), request_id=request.pk, decision="return", comment="附上合同")
    request.refresh_from_db()
    assert request.status == RequestStatus.RETURNED
    assert store.decided == [(gadget.id, RequestStatus.RETURNED, request.pk)]
    assert published.names() == ["approval.returned"]
    # Returned requests still count as open: a second request for the record is refused.
    with pytest.raises(Conflict):
        _start(org, two_steps, gadget)
    # Only the requester resubmits.
    with pytest.raises(PermissionDenied):
        approval_resubmit(actor=actor(org.admin), request_id=request.pk)
    gadget.name = "茶具套装"
    with django_capture_on_commit_callbacks(execute=True):
        approval_resubmit(actor=actor(org.rep_north), request_id=request.pk, comment="已附合同")
    request.refresh_from_db()
    assert (request.status, request.round, request.current_step.position) == (RequestStatus.PENDING, 2, 1)
    assert request.decided_at is None and request.object_label == "Gadget 茶具套装"
    assert _open_approvers(request) == ["manager_north"]
    assert published.last("approval.requested").payload["round"] == 2
    assert [k for k, _p, _a in _kinds(request)] == ["submit", "approve", "return", "resubmit"]
    with pytest.raises(Conflict) as again:
        approval_resubmit(actor=actor(org.rep_north), request_id=request.pk)
    assert again.value.message == "Only a request returned for changes can be resubmitted."


def test_only_the_current_steps_approvers_decide(org: Any, store: GadgetStore, two_steps: Any) -> None:
    gadget = store.add("茶具", org.rep_north, viewers=(org.rep_south,))
    request = _start(org, two_steps, gadget)
    # Step 2's approver is not asked yet... but holds approvals.manage, so an administrator may decide.
    with pytest.raises(PermissionDenied) as not_yours:
        approval_decide(actor=actor(org.rep_south), request_id=request.pk, decision="approve")
    assert not_yours.value.message == "It is not your turn: this step of the request is waiting for someone else."
    with pytest.raises(PermissionDenied) as own:
        approval_decide(actor=actor(org.rep_north), request_id=request.pk, decision="approve")
    assert own.value.message == "You cannot decide your own request."
    # Someone who cannot see the request at all gets NotFound.
    with pytest.raises(NotFound):
        approval_decide(actor=actor(org.marketer), request_id=request.pk, decision="approve")
    approval_decide(actor=actor(org.manager_north), request_id=request.pk, decision="approve")
    # Deciding twice: the manager's step is over, so it is not their turn any more.
    with pytest.raises(PermissionDenied):
        approval_decide(actor=actor(org.manager_north), request_id=request.pk, decision="approve")
    assert ApprovalAction.objects.filter(request=request, kind="approve").count() == 1


def test_a_stale_version_is_refused(org: Any, store: GadgetStore, two_steps: Any) -> None:
    request = _start(org, two_steps, store.add("茶具", org.rep_north))
    read = request.version
    approval_decide(actor=actor(org.manager_north), request_id=request.pk, decision="approve", version=read)
    with pytest.raises(StaleVersion):
        approval_decide(actor=actor(org.admin), request_id=request.pk, decision="approve", version=read)


def test_an_administrator_may_decide_any_pending_step(org: Any, store: GadgetStore, two_steps: Any) -> None:
    request = _start(org, two_steps, store.add("茶具", org.rep_north))
    approval_decide(actor=actor(org.admin), request_id=request.pk, decision="approve", comment="代批")
    request.refresh_from_db()
    assert request.current_step.position == 2
    assert _kinds(request)[-1] == ("approve", 1, "admin")


@pytest.mark.parametrize(
    ("decision", "message"),
    [("reject", "Say why you reject the request."), ("return", "Say what the requester should change.")],
)
def test_reject_and_return_need_a_comment(
    org: Any, store: GadgetStore, two_steps: Any, decision: str, message: str
) -> None:
    request = _start(org, two_steps, store.add("茶具", org.rep_north))
    with pytest.raises(ValidationFailed) as failed:
        approval_decide(actor=actor(org.manager_north), request_id=request.pk, decision=decision, comment="  \n ")
    assert failed.value.fields == {"comment": [message]}
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING and _open_approvers(request) == ["manager_north"]


def test_an_unknown_decision_is_refused(org: Any, store: GadgetStore, two_steps: Any) -> None:
    request = _start(org, two_steps, store.add("茶具", org.rep_north))
    with pytest.raises(ValidationFailed) as failed:
        approval_decide(actor=actor(org.manager_north), request_id=request.pk, decision="maybe")
    assert failed.value.fields == {"decision": ["Choose approve, reject or return."]}


def test_one_open_request_per_process_and_record(org: Any, store: GadgetStore, two_steps: Any) -> None:
    gadget = store.add("茶具", org.rep_north, viewers=(org.rep_north_sub,))
    first = _start(org, two_steps, gadget)
    with pytest.raises(Conflict) as second:
        _start(org, two_steps, gadget, who="rep_north_sub")
    assert second.value.message == (
        "This record already has an open request in “特价审批”. Wait until it is decided, or cancel it, "
        "before requesting again."
    )
    assert ApprovalRequest.objects.count() == 1
    # Another process may run at the same time, and the same process again once the first is over.
    other = make_process(org, [step("manager")], name="账期审批")
    _start(org, other, gadget)
    approval_cancel(actor=actor(org.rep_north), request_id=first.pk)
    again = _start(org, two_steps, gadget)
    assert again.pk != first.pk and ApprovalRequest.objects.count() == 3


def test_cancel_by_the_requester_tells_the_approvers(org: Any, store: GadgetStore, two_steps: Any) -> None:
    request = _start(org, two_steps, store.add("茶具", org.rep_north))
    with pytest.raises(PermissionDenied) as refused:
        approval_cancel(actor=actor(org.manager_north), request_id=request.pk)
    assert refused.value.message == "Only the requester can cancel this request."
    approval_cancel(actor=actor(org.rep_north), request_id=request.pk, comment="客户改主意了")
    request.refresh_from_db()
    assert request.status == RequestStatus.CANCELLED and _open_approvers(request) == []
    assert store.decided == []  # on_decided is for approved, rejected and returned only
    withdrawn = Notification.objects.get(recipient=org.manager_north, kind="approvals.decided")
    assert withdrawn.title == "Request withdrawn: 特价审批 · Gadget 茶具"
    with pytest.raises(Conflict):
        approval_cancel(actor=actor(org.rep_north), request_id=request.pk)


def test_on_decided_failing_rolls_the_decision_back(org: Any, store: GadgetStore) -> None:
    process = make_process(org, [step("manager")])
    request = _start(org, process, store.add("茶具", org.rep_north))
    store.fail_on_decided = True
    with pytest.raises(RuntimeError):
        approval_decide(actor=actor(org.manager_north), request_id=request.pk, decision="approve")
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert _open_approvers(request) == ["manager_north"]
    assert not ApprovalAction.objects.filter(request=request, kind="approve").exists()


def test_the_system_starts_a_request_for_a_named_requester(
    org: Any, store: GadgetStore, two_steps: Any, published: Published, django_capture_on_commit_callbacks: Any
) -> None:
    gadget = store.add("茶具", org.rep_north_sub)
    with django_capture_on_commit_callbacks(execute=True):
        request = approval_start(
            actor=None,
            process_id=two_steps.pk,
            approvable_type=GADGET,
            object_id=gadget.id,
            requester_id=org.rep_north_sub.pk,
            comment="规则触发",
        )
    assert request.requester == org.rep_north_sub
    submit = ApprovalAction.objects.get(request=request, kind=ActionKind.SUBMIT)
    assert submit.actor is None and submit.comment == "规则触发"
    assert published.last("approval.requested").actor_id is None
    with pytest.raises(ValidationFailed) as failed:
        approval_start(actor=None, process_id=two_steps.pk, approvable_type=GADGET, object_id=gadget.id)
    assert failed.value.fields == {"requester_id": ["Name an active user as the requester."]}


def test_start_refuses_bad_requests_without_writing_anything(org: Any, store: GadgetStore, two_steps: Any) -> None:
    gadget = store.add("茶具", org.rep_north)
    rep = actor(org.rep_north)
    other_type = make_process(org, [step("manager")], name="客户特价", key="customers.customer")

    def refused(**kwargs: Any) -> dict[str, list[str]]:
        values = {"process_id": two_steps.pk, "approvable_type": GADGET, "object_id": gadget.id, **kwargs}
        with pytest.raises(ValidationFailed) as failed:
            approval_start(actor=rep, **values)
        return failed.value.fields

    assert refused(approvable_type="rockets") == {
        "approvable_type": ["This kind of record cannot be sent for approval."]
    }
    with pytest.raises(NotFound) as unknown:
        approval_start(actor=rep, process_id=999_999, approvable_type=GADGET, object_id=gadget.id)
    assert unknown.value.message == "Approval process not found."
    assert refused(process_id=other_type.pk) == {"process_id": ["This approval process is for another kind of record."]}
    assert refused(comment="长" * 2001) == {"comment": ["Keep the comment to 2000 characters or fewer."]}
    with pytest.raises(NotFound):  # a record the requester cannot see
        approval_start(actor=actor(org.rep_south), process_id=two_steps.pk, approvable_type=GADGET, object_id=1)
    two_steps.is_active = False
    two_steps.save()
    with pytest.raises(Conflict) as switched_off:
        approval_start(actor=rep, process_id=two_steps.pk, approvable_type=GADGET, object_id=gadget.id)
    assert switched_off.value.message == "This approval process is switched off."
    with pytest.raises(PermissionDenied):  # analysts may not request approvals
        approval_start(actor=actor(org.analyst), process_id=two_steps.pk, approvable_type=GADGET, object_id=1)
    assert ApprovalRequest.objects.count() == 0 and ApprovalAction.objects.count() == 0


def test_start_names_the_step_nobody_can_approve(org: Any, store: GadgetStore) -> None:
    # The south team has no manager, nor has head office above it.
    process = make_process(org, [step("user", user_id=org.admin.pk), step("manager")])
    gadget = store.add("茶具", org.rep_south)
    with pytest.raises(Conflict) as failed:
        approval_start(actor=actor(org.rep_south), process_id=process.pk, approvable_type=GADGET, object_id=gadget.id)
    assert failed.value.message == (
        "Nobody can approve step 2: no manager was found above the requester in the team tree."
    )
    assert ApprovalRequest.objects.count() == 0


def test_anyone_who_sees_the_request_may_comment(org: Any, store: GadgetStore, two_steps: Any) -> None:
    request = _start(org, two_steps, store.add("茶具", org.rep_north, viewers=(org.rep_south,)))
    approval_comment(actor=actor(org.rep_south), request_id=request.pk, comment="我也支持")
    with pytest.raises(ValidationFailed):
        approval_comment(actor=actor(org.rep_south), request_id=request.pk, comment=" ")
    with pytest.raises(NotFound):
        approval_comment(actor=actor(org.marketer), request_id=request.pk, comment="?")
    assert _kinds(request)[-1] == ("comment", 1, "rep_south")

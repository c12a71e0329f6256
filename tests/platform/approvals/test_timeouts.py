"""Steps past their timeout: the periodic job reminds and escalates once per step and round, never twice,
and never a step that was decided meanwhile."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from guanxi.platform.approvals.models import ApprovalAction, ApprovalAssignment, ApprovalRequest
from guanxi.platform.approvals.services import (
    TimeoutRun,
    approval_decide,
    approval_start,
    approvals_handle_timeouts,
)
from guanxi.platform.core.jobs import periodic_jobs, run_periodic_job
from guanxi.platform.notifications.models import Notification
from tests.factories import actor
from tests.platform.approvals.conftest import GADGET, GadgetStore, make_process, step

HOUR = dt.timedelta(hours=1)


def _start(org: Any, process: Any, store: GadgetStore) -> ApprovalRequest:
    gadget = store.add("茶具", org.rep_north)
    return approval_start(
        actor=actor(org.rep_north), process_id=process.pk, approvable_type=GADGET, object_id=gadget.id
    )


def _asked(request: ApprovalRequest) -> list[tuple[str, str, bool]]:
    return list(
        ApprovalAssignment.objects.filter(request=request)
        .order_by("id")
        .values_list("user__username", "via", "is_open")
    )


def test_the_job_is_registered_every_five_minutes(db: None) -> None:
    job = next(job for job in periodic_jobs() if job.name == "approvals.timeouts")
    assert (job.minute, job.hour) == ("*/5", "*")
    assert run_periodic_job("approvals.timeouts") == {"reminded": 0, "escalated": 0}


def test_a_late_step_is_reminded_once(org: Any, store: GadgetStore) -> None:
    process = make_process(org, [step("manager", timeout_hours=24, remind_on_timeout=True)])
    request = _start(org, process, store)
    started = request.step_started_at
    assert request.step_due_at == started + 24 * HOUR
    assert approvals_handle_timeouts(now=started + 23 * HOUR) == TimeoutRun(reminded=0, escalated=0)
    assert approvals_handle_timeouts(now=started + 25 * HOUR) == TimeoutRun(reminded=1, escalated=0)
    assert approvals_handle_timeouts(now=started + 26 * HOUR) == TimeoutRun(reminded=0, escalated=0)
    assert approvals_handle_timeouts(now=started + 90 * HOUR) == TimeoutRun(reminded=0, escalated=0)
    reminders = Notification.objects.filter(kind="approvals.reminder")
    assert [(n.recipient.username, n.title) for n in reminders] == [
        ("manager_north", "Reminder: approval still waiting: 特价审批 · Gadget 茶具")
    ]
    remind = ApprovalAction.objects.get(request=request, kind="remind")
    assert (remind.actor, remind.step_position, remind.detail) == (None, 1, {"to": [str(org.manager_north)]})


def test_a_late_step_is_escalated_to_the_approvers_manager_once(org: Any, store: GadgetStore) -> None:
    org.hq.manager = org.admin
    org.hq.save()
    process = make_process(
        org, [step("manager", timeout_hours=8, remind_on_timeout=True, escalate_to="manager"), step("manager")]
    )
    request = _start(org, process, store)
    later = request.step_started_at + 9 * HOUR
    assert approvals_handle_timeouts(now=later) == TimeoutRun(reminded=1, escalated=1)
    assert approvals_handle_timeouts(now=later + HOUR) == TimeoutRun(reminded=0, escalated=0)
    assert _asked(request) == [("manager_north", "manager", True), ("admin", "escalation", True)]
    escalate = ApprovalAction.objects.get(request=request, kind="escalate")
    assert (escalate.actor, escalate.step_position, escalate.detail) == (None, 1, {"to": [str(org.admin)]})
    escalated = Notification.objects.get(recipient=org.admin, kind="approvals.pending")
    assert escalated.title == "Escalated to you: 特价审批 · Gadget 茶具"
    # The escalation target may now decide the step.
    approval_decide(actor=actor(org.admin), request_id=request.pk, decision="approve")
    request.refresh_from_db()
    assert request.current_step.position == 2
    assert _asked(request)[:2] == [("manager_north", "manager", False), ("admin", "escalation", False)]
    # Step 2 has no timeout: nothing more happens, however late.
    assert approvals_handle_timeouts(now=later + 100 * HOUR) == TimeoutRun(reminded=0, escalated=0)
    assert ApprovalAction.objects.filter(request=request, kind="escalate").count() == 1


def test_escalation_to_a_named_user_and_when_nobody_is_found(org: Any, store: GadgetStore) -> None:
    named = make_process(
        org, [step("manager", timeout_hours=1, escalate_to="user", escalation_user_id=org.marketer.pk)]
    )
    to_manager = make_process(org, [step("manager", timeout_hours=1, escalate_to="manager")], name="无人可升级")
    first = _start(org, named, store)
    second = _start(org, to_manager, store)  # head office has no manager: nobody above manager_north
    assert approvals_handle_timeouts(now=timezone.now() + 2 * HOUR) == TimeoutRun(reminded=0, escalated=2)
    assert _asked(first)[-1] == ("marketer", "escalation", True)
    assert _asked(second) == [("manager_north", "manager", True)]
    assert ApprovalAction.objects.get(request=second, kind="escalate").detail == {"to": []}


def test_a_step_decided_before_its_timeout_is_left_alone(org: Any, store: GadgetStore) -> None:
    process = make_process(
        org,
        [
            step(
                "manager",
                timeout_hours=2,
                remind_on_timeout=True,
                escalate_to="user",
                escalation_user_id=org.marketer.pk,
            ),
            step("user", user_id=org.admin.pk, timeout_hours=2, remind_on_timeout=True),
        ],
    )
    request = _start(org, process, store)
    approval_decide(actor=actor(org.manager_north), request_id=request.pk, decision="approve")
    request.refresh_from_db()
    # Step 2's own clock started when step 1 was approved.
    step_two_started = request.step_started_at
    assert approvals_handle_timeouts(now=step_two_started + HOUR) == TimeoutRun(reminded=0, escalated=0)
    assert approvals_handle_timeouts(now=step_two_started + 3 * HOUR) == TimeoutRun(reminded=1, escalated=0)
    assert list(
        Notification.objects.filter(kind="approvals.reminder").values_list("recipient__username", flat=True)
    ) == ["admin"]
    approval_decide(actor=actor(org.admin), request_id=request.pk, decision="approve")
    assert approvals_handle_timeouts(now=step_two_started + 30 * HOUR) == TimeoutRun(reminded=0, escalated=0)


def test_a_claim_taken_by_another_worker_is_not_sent_again(org: Any, store: GadgetStore) -> None:
    """Two workers: the second one's conditional UPDATE finds the reminder already claimed."""
    process = make_process(org, [step("manager", timeout_hours=1, remind_on_timeout=True)])
    request = _start(org, process, store)
    now = request.step_started_at + 2 * HOUR
    ApprovalRequest.objects.filter(pk=request.pk).update(step_reminded_at=now)  # the other worker's claim
    assert approvals_handle_timeouts(now=now) == TimeoutRun(reminded=0, escalated=0)
    assert not Notification.objects.filter(kind="approvals.reminder").exists()

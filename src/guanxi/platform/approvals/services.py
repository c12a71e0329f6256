"""Writes of approval requests: submit (`approval_start`), decide, cancel, resubmit and comment, plus the
periodic handling of steps that ran past their timeout (reminders and escalation).

Every write is one transaction that first locks the request row (`select_for_update`; SQLite runs
transactions IMMEDIATE, which serialises them), so two approvers deciding at once, or a decision racing the
timeout job, cannot both win: the second one sees the new state and is refused. Each write appends to the
request's action log, notifies the people concerned and publishes its event after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.platform.approvals import notify
from guanxi.platform.approvals.approvers import (
    Approver,
    escalation_targets,
    fallback_approvers,
    resolve_step,
    unresolved_message,
)
from guanxi.platform.approvals.events import (
    ApprovalApproved,
    ApprovalRejected,
    ApprovalRequested,
    ApprovalReturned,
)
from guanxi.platform.approvals.models import (
    OPEN_STATUSES,
    ActionKind,
    ApprovalAction,
    ApprovalAssignment,
    ApprovalProcess,
    ApprovalRequest,
    ApprovalStep,
    AssignedVia,
    EscalateTo,
    RequestStatus,
)
from guanxi.platform.approvals.permissions import APPROVALS_MANAGE, APPROVALS_SUBMIT, require_token_scope
from guanxi.platform.approvals.registry import ApprovableType, approvable_type, load_record
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from guanxi.platform.core.text import clean_multiline
from guanxi.platform.core.versioning import ensure_version
from guanxi.platform.events.registry import publish
from guanxi.platform.identity.models import User
from guanxi.platform.identity.scoping import has_permission, require_permission

logger = logging.getLogger(__name__)

COMMENT_MAX = 2000
DECISIONS = (ActionKind.APPROVE, ActionKind.REJECT, ActionKind.RETURN)
TIMEOUT_BATCH = 200

_STATE_FIELDS = [
    "status",
    "current_step",
    "round",
    "step_started_at",
    "step_due_at",
    "step_reminded_at",
    "step_escalated_at",
    "submitted_at",
    "decided_at",
    "object_label",
    "object_url",
    "summary",
    "amount",
    "currency",
    "version",
    "updated_at",
]


# Helpers -------------------------------------------------------------------------------------------


def _clean_comment(comment: str | None, *, required_message: str | None = None) -> str:
    text = clean_multiline(comment)
    if required_message and not text:
        raise ValidationFailed.for_field("comment", required_message)
    if len(text) > COMMENT_MAX:
        raise ValidationFailed.for_field(
            "comment", _("Keep the comment to %(n)s characters or fewer.") % {"n": COMMENT_MAX}
        )
    return text


def process_steps(process: ApprovalProcess) -> list[ApprovalStep]:
    return list(process.steps.select_related("role", "user", "escalation_user").order_by("position", "id"))


def _plan(steps: list[ApprovalStep], requester: User) -> list[list[Approver]]:
    """Every step's approvers for this requester; Conflict naming the first step nobody can approve."""
    if not steps:
        raise Conflict(_("This approval process has no steps yet."))
    plan = []
    for number, step in enumerate(steps, start=1):
        approvers = resolve_step(step, requester)
        if not approvers:
            raise Conflict(unresolved_message(step, number))
        plan.append(approvers)
    return plan


def _snapshot(request: ApprovalRequest, approvable: ApprovableType, record: Any) -> None:
    """What the record is called and where it lives, kept on the request so lists need no lookups."""
    request.object_label = str(approvable.describe(record))[:200] or f"#{request.object_id}"
    request.object_url = str(approvable.url(record))[:300]
    request.summary = str(approvable.summary(record))[:300] if approvable.summary is not None else ""
    amount = approvable.amount(record) if approvable.amount is not None else None
    request.amount, request.currency = (amount[0], str(amount[1])[:3]) if amount is not None else (None, "")


def _log(
    request: ApprovalRequest,
    kind: str,
    *,
    actor: User | None,
    comment: str = "",
    step: ApprovalStep | None = None,
    detail: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> ApprovalAction:
    return ApprovalAction.objects.create(
        request=request,
        round=request.round,
        step=step,
        step_position=step.position if step is not None else None,
        kind=kind,
        actor=actor,
        comment=comment,
        detail=detail or {},
        at=at or timezone.now(),
    )


def _save(request: ApprovalRequest) -> None:
    request.bump_version()
    request.save(update_fields=_STATE_FIELDS)


def _start_step(
    request: ApprovalRequest, step: ApprovalStep, approvers: list[Approver], steps: list[ApprovalStep], now: dt.datetime
) -> list[User]:
    """Make `step` the current one: its clock starts, its approvers are asked (and notified).

    A step that found nobody since the request was submitted (a user left, a role was emptied) goes to the
    approval administrators, and the log says so."""
    fallback = False
    if not approvers:
        approvers = fallback_approvers(request.requester)
        fallback = True
    request.current_step = step
    request.step_started_at = now
    request.step_due_at = now + dt.timedelta(hours=step.timeout_hours) if step.timeout_hours else None
    request.step_reminded_at = None
    request.step_escalated_at = None
    _save(request)
    ApprovalAssignment.objects.bulk_create(
        ApprovalAssignment(
            request=request,
            round=request.round,
            step=step,
            step_position=step.position,
            user=approver.user,
            via=approver.via,
            created_at=now,
        )
        for approver in approvers
    )
    if fallback:
        _log(request, ActionKind.COMMENT, actor=None, step=step, detail={"fallback": True}, at=now)
    users = [approver.user for approver in approvers]
    notify.notify_approvers(request, users, step_number=steps.index(step) + 1, step_count=len(steps))
    return users


def _close_assignments(request: ApprovalRequest) -> list[User]:
    """Close the open assignments; returns the users who were asked."""
    open_rows = list(request.assignments.filter(is_open=True).select_related("user").order_by("id"))
    if open_rows:
        ApprovalAssignment.objects.filter(pk__in=[row.pk for row in open_rows]).update(is_open=False)
    return [row.user for row in open_rows]


def _lock(actor: Actor, request_id: int) -> ApprovalRequest:
    """The request locked for this transaction, if the actor may see it; NotFound otherwise."""
    request = (
        ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related("process", "requester", "current_step")
        .filter(pk=request_id)
        .first()
    )
    if request is None or not request_is_visible(actor, request):
        raise NotFound(_("Approval request not found."))
    return request


def request_is_visible(actor: Actor, request: ApprovalRequest) -> bool:
    """Requester, anyone a step ever asked, approval administrators, and whoever may see the record."""
    if has_permission(actor, APPROVALS_MANAGE) or request.requester_id == actor.id:
        return True
    if ApprovalAssignment.objects.filter(request_id=request.pk, user_id=actor.id).exists():
        return True
    approvable = approvable_type(request.approvable_type)
    if approvable is None:
        return False
    try:
        approvable.get_visible(actor, int(request.object_id))
    except (NotFound, PermissionDenied):
        return False
    return True


def _status_conflict(request: ApprovalRequest) -> Conflict:
    return Conflict(
        _("This request is no longer waiting for a decision: it is “%(status)s”.")
        % {"status": request.get_status_display()}
    )


def _publish_requested(request: ApprovalRequest, approvers: list[User], actor: Actor | None) -> None:
    publish(
        ApprovalRequested(
            record_id=request.pk,
            process_id=request.process_id,
            process_name=request.process.name,
            approvable_type=request.approvable_type,
            object_id=int(request.object_id),
            requester_id=request.requester_id,
            round=request.round,
            approver_ids=[user.pk for user in approvers],
        ),
        actor_id=actor.id if actor is not None else None,
    )


def _finish(request: ApprovalRequest, step: ApprovalStep, *, actor: Actor, comment: str) -> None:
    """A request ended approved, rejected or returned: the record's app reacts (same transaction), the
    requester is told, and the event goes out after commit."""
    approvable = approvable_type(request.approvable_type)
    if approvable is not None:
        try:
            record = load_record(approvable, int(request.object_id), request.requester)
        except NotFound:
            logger.warning("approval request %s decided, but its record %s #%s is gone", request.pk,
                           request.approvable_type, request.object_id)  # fmt: skip
        else:
            approvable.on_decided(record, request)
    notify.notify_requester(request, decided_by=actor.user, comment=comment)
    payload_class = {
        RequestStatus.APPROVED: ApprovalApproved,
        RequestStatus.REJECTED: ApprovalRejected,
        RequestStatus.RETURNED: ApprovalReturned,
    }[RequestStatus(request.status)]
    publish(
        payload_class(
            record_id=request.pk,
            process_id=request.process_id,
            process_name=request.process.name,
            approvable_type=request.approvable_type,
            object_id=int(request.object_id),
            requester_id=request.requester_id,
            decided_by_id=actor.id,
            step_position=step.position,
            comment=comment,
        ),
        actor_id=actor.id,
    )


# Submit --------------------------------------------------------------------------------------------


@transaction.atomic
def approval_start(
    *,
    actor: Actor | None,
    process_id: int,
    approvable_type: str,
    object_id: int,
    requester_id: int | None = None,
    comment: str = "",
) -> ApprovalRequest:
    """Submit a record for approval through a process.

    `actor` None is the system (a workflow rule): `requester_id` then names the requester (the record's
    owner, say), and the record is read without the requester's visibility when its type can `load` it.
    Refused: an unknown process or a record the actor cannot see (NotFound), a process for another record
    type (ValidationFailed), and (Conflict) a process switched off or without steps, a step nobody can approve
    (with the reason), or a second open request for the same record in the same process.
    """
    requester: User | None
    if actor is not None:
        require_permission(actor, APPROVALS_SUBMIT)
        require_token_scope(actor, write=True)
        requester = actor.user
    else:
        requester = User.objects.filter(pk=requester_id, is_active=True).first() if requester_id else None
    if requester is None:
        raise ValidationFailed.for_field("requester_id", _("Name an active user as the requester."))
    approvable = _approvable_for_start(approvable_type)
    process = ApprovalProcess.objects.filter(pk=process_id).first()
    if process is None:
        raise NotFound(_("Approval process not found."))
    if process.approvable_type != approvable.key:
        raise ValidationFailed.for_field("process_id", _("This approval process is for another kind of record."))
    if not process.is_active:
        raise Conflict(_("This approval process is switched off."))
    if actor is not None:
        record = approvable.get_visible(actor, int(object_id))
    else:
        record = load_record(approvable, int(object_id), requester)
    comment = _clean_comment(comment)
    _refuse_second_request(process, approvable.key, int(object_id))
    steps = process_steps(process)
    plan = _plan(steps, requester)
    now = timezone.now()
    request = ApprovalRequest(
        process=process,
        approvable_type=approvable.key,
        object_id=int(object_id),
        requester=requester,
        status=RequestStatus.PENDING,
        submitted_at=now,
    )
    _snapshot(request, approvable, record)
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:  # another submission for the same record won the race
        raise _second_request_conflict(process) from None
    _log(request, ActionKind.SUBMIT, actor=actor.user if actor is not None else None, comment=comment, at=now)
    approvers = _start_step(request, steps[0], plan[0], steps, now)
    _publish_requested(request, approvers, actor)
    return request


def _approvable_for_start(key: str) -> ApprovableType:
    approvable = approvable_type(key)
    if approvable is None:
        raise ValidationFailed.for_field("approvable_type", _("This kind of record cannot be sent for approval."))
    return approvable


def _second_request_conflict(process: ApprovalProcess) -> Conflict:
    return Conflict(
        _(
            "This record already has an open request in “%(process)s”. Wait until it is decided, or cancel it, "
            "before requesting again."
        )
        % {"process": process.name}
    )


def _refuse_second_request(process: ApprovalProcess, key: str, object_id: int) -> None:
    if ApprovalRequest.objects.filter(
        process=process, approvable_type=key, object_id=object_id, status__in=OPEN_STATUSES
    ).exists():
        raise _second_request_conflict(process)


# Decide, cancel, resubmit, comment ----------------------------------------------------------------


@transaction.atomic
def approval_decide(
    *, actor: Actor, request_id: int, decision: str, comment: str = "", version: int | None = None
) -> ApprovalRequest:
    """Approve (on to the next step, or approved after the last), reject (ends it) or return it to the
    requester for changes. Only the current step's approvers, or an approval administrator, may decide; a
    comment is required to reject or return. Refused when it is not the actor's turn (PermissionDenied), when
    the request was decided meanwhile (Conflict), or when `version` is stale (StaleVersion)."""
    require_token_scope(actor, write=True)
    request = _lock(actor, request_id)
    if decision not in DECISIONS:
        raise ValidationFailed.for_field("decision", _("Choose approve, reject or return."))
    if decision == ActionKind.REJECT:
        comment = _clean_comment(comment, required_message=_("Say why you reject the request."))
    elif decision == ActionKind.RETURN:
        comment = _clean_comment(comment, required_message=_("Say what the requester should change."))
    else:
        comment = _clean_comment(comment)
    ensure_version(request, version)
    if request.status != RequestStatus.PENDING:
        raise _status_conflict(request)
    if request.requester_id == actor.id:
        raise PermissionDenied(_("You cannot decide your own request."))
    asked = ApprovalAssignment.objects.filter(request=request, is_open=True, user_id=actor.id).exists()
    if not asked and not has_permission(actor, APPROVALS_MANAGE):
        raise PermissionDenied(_("It is not your turn: this step of the request is waiting for someone else."))
    step = request.current_step
    if step is None:  # its step was deleted from the database behind the services' back
        raise Conflict(_("This request has lost its step; an approval administrator must cancel it."))
    now = timezone.now()
    _close_assignments(request)
    _log(request, decision, actor=actor.user, comment=comment, step=step, at=now)
    if decision == ActionKind.APPROVE:
        steps = process_steps(request.process)
        following = [s for s in steps if (s.position, s.pk) > (step.position, step.pk)]
        if following:
            nxt = following[0]
            _start_step(request, nxt, resolve_step(nxt, request.requester), steps, now)
            return request
        request.status = RequestStatus.APPROVED
    elif decision == ActionKind.REJECT:
        request.status = RequestStatus.REJECTED
    else:
        request.status = RequestStatus.RETURNED
    request.decided_at = now
    request.step_due_at = None
    _save(request)
    _finish(request, step, actor=actor, comment=comment)
    return request


@transaction.atomic
def approval_cancel(*, actor: Actor, request_id: int, comment: str = "", version: int | None = None) -> ApprovalRequest:
    """The requester (or an approval administrator) withdraws a pending or returned request."""
    require_token_scope(actor, write=True)
    request = _lock(actor, request_id)
    comment = _clean_comment(comment)
    ensure_version(request, version)
    if request.status not in OPEN_STATUSES:
        raise _status_conflict(request)
    if request.requester_id != actor.id and not has_permission(actor, APPROVALS_MANAGE):
        raise PermissionDenied(_("Only the requester can cancel this request."))
    now = timezone.now()
    asked = _close_assignments(request)
    _log(request, ActionKind.CANCEL, actor=actor.user, comment=comment, step=request.current_step, at=now)
    request.status = RequestStatus.CANCELLED
    request.decided_at = now
    request.step_due_at = None
    _save(request)
    notify.notify_withdrawn(request, [user for user in asked if user.pk != actor.id])
    return request


@transaction.atomic
def approval_resubmit(
    *, actor: Actor, request_id: int, comment: str = "", version: int | None = None
) -> ApprovalRequest:
    """The requester sends a returned request again; it starts over at step 1 (a new round)."""
    require_token_scope(actor, write=True)
    request = _lock(actor, request_id)
    comment = _clean_comment(comment)
    ensure_version(request, version)
    if request.requester_id != actor.id:
        raise PermissionDenied(_("Only the requester can resubmit this request."))
    if request.status != RequestStatus.RETURNED:
        raise Conflict(_("Only a request returned for changes can be resubmitted."))
    process = request.process
    if not process.is_active:
        raise Conflict(_("This approval process is switched off."))
    approvable = approvable_type(request.approvable_type)
    if approvable is None:
        raise ValidationFailed.for_field("approvable_type", _("This kind of record cannot be sent for approval."))
    record = approvable.get_visible(actor, int(request.object_id))
    steps = process_steps(process)
    plan = _plan(steps, request.requester)
    now = timezone.now()
    _snapshot(request, approvable, record)
    request.round += 1
    request.status = RequestStatus.PENDING
    request.submitted_at = now
    request.decided_at = None
    _log(request, ActionKind.RESUBMIT, actor=actor.user, comment=comment, at=now)
    approvers = _start_step(request, steps[0], plan[0], steps, now)
    _publish_requested(request, approvers, actor)
    return request


@transaction.atomic
def approval_comment(*, actor: Actor, request_id: int, comment: str) -> ApprovalAction:
    """Anyone who sees a request may add a comment to its log (it changes nothing else)."""
    require_token_scope(actor, write=True)
    request = _lock(actor, request_id)
    comment = _clean_comment(comment, required_message=_("Write a comment."))
    return _log(request, ActionKind.COMMENT, actor=actor.user, comment=comment, step=request.current_step)


# Timeouts ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeoutRun:
    reminded: int
    escalated: int


def approvals_handle_timeouts(*, now: dt.datetime | None = None) -> TimeoutRun:
    """Remind and/or escalate the pending steps whose timeout has passed, at most once per step and round.

    Idempotent and safe with several workers: each reminder and each escalation is claimed with a
    conditional UPDATE of the request row (`step_reminded_at IS NULL` on the same step and round); only the
    worker whose UPDATE changed the row sends it. A decision that moved the request on meanwhile makes the
    UPDATE match nothing.
    """
    now = now or timezone.now()
    reminded = escalated = 0
    seen: set[tuple[int, int | None, int]] = set()
    while True:
        due = list(
            ApprovalRequest.objects.filter(status=RequestStatus.PENDING, step_due_at__lte=now)
            .filter(
                Q(current_step__remind_on_timeout=True, step_reminded_at__isnull=True)
                | (~Q(current_step__escalate_to=EscalateTo.NOBODY) & Q(step_escalated_at__isnull=True))
            )
            .order_by("step_due_at", "id")
            .values_list("id", "current_step_id", "round")[:TIMEOUT_BATCH]
        )
        fresh = [row for row in due if row not in seen]
        if not fresh:
            return TimeoutRun(reminded=reminded, escalated=escalated)
        for request_id, step_id, round_ in fresh:
            seen.add((request_id, step_id, round_))
            if step_id is None:
                continue
            did_remind, did_escalate = _handle_timeout(request_id, step_id, round_, now)
            reminded += did_remind
            escalated += did_escalate


def _claim(request_id: int, step_id: int, round_: int, field: str, now: dt.datetime) -> bool:
    return (
        ApprovalRequest.objects.filter(
            pk=request_id,
            status=RequestStatus.PENDING,
            current_step_id=step_id,
            round=round_,
            step_due_at__lte=now,
            **{f"{field}__isnull": True},
        ).update(**{field: now})
        == 1
    )


@transaction.atomic
def _handle_timeout(request_id: int, step_id: int, round_: int, now: dt.datetime) -> tuple[bool, bool]:
    step = ApprovalStep.objects.select_related("escalation_user").filter(pk=step_id).first()
    if step is None:
        return False, False
    did_remind = step.remind_on_timeout and _claim(request_id, step_id, round_, "step_reminded_at", now)
    did_escalate = bool(step.escalate_to) and _claim(request_id, step_id, round_, "step_escalated_at", now)
    if not (did_remind or did_escalate):
        return False, False
    request = ApprovalRequest.objects.select_related("process", "requester").get(pk=request_id)
    approvers = [row.user for row in request.assignments.filter(is_open=True).select_related("user").order_by("id")]
    if did_remind:
        _log(request, ActionKind.REMIND, actor=None, step=step, detail={"to": [str(u) for u in approvers]}, at=now)
        notify.notify_reminder(request, approvers)
    if did_escalate:
        _escalate(request, step, approvers, now)
    return did_remind, did_escalate


def _escalate(request: ApprovalRequest, step: ApprovalStep, approvers: list[User], now: dt.datetime) -> None:
    asked_before = set(
        request.assignments.filter(round=request.round, step_position=step.position).values_list("user_id", flat=True)
    )
    targets = [u for u in escalation_targets(step, approvers, request.requester) if u.pk not in asked_before]
    ApprovalAssignment.objects.bulk_create(
        ApprovalAssignment(
            request=request,
            round=request.round,
            step=step,
            step_position=step.position,
            user=user,
            via=AssignedVia.ESCALATION,
            created_at=now,
        )
        for user in targets
    )
    _log(request, ActionKind.ESCALATE, actor=None, step=step, detail={"to": [str(u) for u in targets]}, at=now)
    steps = process_steps(request.process)
    number = steps.index(step) + 1 if step in steps else step.position
    notify.notify_approvers(request, targets, step_number=number, step_count=len(steps), escalated=True)

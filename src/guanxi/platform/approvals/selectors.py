"""Reads of approvals: the inbox boxes (waiting for me, submitted by me, all), the requests of one record,
one request with its step progress and action log, and the process definitions.

Who sees a request: its requester, everyone a step ever asked, approval administrators (approvals.manage),
and whoever may see the record it is about (the record's own visibility, through the registry).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.platform.approvals.models import (
    ActionKind,
    ApprovalAction,
    ApprovalAssignment,
    ApprovalProcess,
    ApprovalRequest,
    ApprovalStep,
    ApproverKind,
    EscalateTo,
    RequestStatus,
    RoleScope,
)
from guanxi.platform.approvals.permissions import APPROVALS_MANAGE, APPROVALS_SUBMIT, require_token_scope
from guanxi.platform.approvals.registry import require_approvable
from guanxi.platform.approvals.services import process_steps, request_is_visible
from guanxi.platform.audit.history import HistoryEntry, record_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.platform.identity.scoping import has_permission, require_permission

BOX_INBOX, BOX_MINE, BOX_ALL = "inbox", "mine", "all"
BOXES = (BOX_INBOX, BOX_MINE, BOX_ALL)
BOX_LABELS = {
    BOX_INBOX: gettext_lazy("Waiting for me"),
    BOX_MINE: gettext_lazy("Submitted by me"),
    BOX_ALL: gettext_lazy("All requests"),
}


def _list_queryset() -> QuerySet[ApprovalRequest]:
    """Requests with what a list row shows, in one query: process, requester, current step, step count."""
    step_count = (
        ApprovalStep.objects.filter(process_id=OuterRef("process_id"))
        .order_by()
        .values("process_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return ApprovalRequest.objects.select_related("process", "requester", "current_step").annotate(
        step_count=Coalesce(Subquery(step_count, output_field=IntegerField()), 0)
    )


def _read(actor: Actor) -> None:
    require_token_scope(actor, write=False)


def approvals_inbox(*, actor: Actor) -> QuerySet[ApprovalRequest]:
    """Pending requests whose current step waits for the actor, oldest step first."""
    _read(actor)
    mine = ApprovalAssignment.objects.filter(request_id=OuterRef("pk"), user_id=actor.id, is_open=True)
    return _list_queryset().filter(Exists(mine), status=RequestStatus.PENDING).order_by("step_started_at", "id")


def approvals_submitted_by(*, actor: Actor) -> QuerySet[ApprovalRequest]:
    """The actor's own requests, newest first."""
    _read(actor)
    return _list_queryset().filter(requester_id=actor.id).order_by("-submitted_at", "-id")


def approvals_all(*, actor: Actor) -> QuerySet[ApprovalRequest]:
    """Every request (approval administrators only), newest first."""
    _read(actor)
    require_permission(actor, APPROVALS_MANAGE)
    return _list_queryset().order_by("-submitted_at", "-id")


def approval_requests_for_record(*, actor: Actor, approvable_type: str, object_id: int) -> QuerySet[ApprovalRequest]:
    """Every request about a record the actor may see (NotFound otherwise), newest first."""
    _read(actor)
    require_approvable(approvable_type).get_visible(actor, int(object_id))
    return (
        _list_queryset()
        .filter(approvable_type=approvable_type, object_id=int(object_id))
        .order_by("-submitted_at", "-id")
    )


def approval_request_list(
    *,
    actor: Actor,
    box: str = BOX_INBOX,
    status: str = "",
    approvable_type: str = "",
    object_id: int | None = None,
    process_id: int | None = None,
) -> QuerySet[ApprovalRequest]:
    """One box with optional filters, as the inbox page and the API list it."""
    if box == BOX_INBOX:
        qs = approvals_inbox(actor=actor)
    elif box == BOX_MINE:
        qs = approvals_submitted_by(actor=actor)
    elif box == BOX_ALL:
        qs = approvals_all(actor=actor)
    else:
        raise ValidationFailed.for_field("box", _("Choose inbox, mine or all."))
    if status:
        if status not in RequestStatus.values:
            raise ValidationFailed.for_field("status", _("Choose a status from the list."))
        qs = qs.filter(status=status)
    if approvable_type:
        qs = qs.filter(approvable_type=approvable_type)
    if object_id is not None:
        qs = qs.filter(object_id=object_id)
    if process_id is not None:
        qs = qs.filter(process_id=process_id)
    return qs


def approval_box_counts(*, actor: Actor) -> dict[str, int]:
    """How many requests wait for the actor, how many of theirs are open, and (administrators) how many are
    pending overall."""
    _read(actor)
    mine = ApprovalAssignment.objects.filter(request_id=OuterRef("pk"), user_id=actor.id, is_open=True)
    counts = {
        BOX_INBOX: ApprovalRequest.objects.filter(Exists(mine), status=RequestStatus.PENDING).count(),
        BOX_MINE: ApprovalRequest.objects.filter(
            requester_id=actor.id, status__in=[RequestStatus.PENDING, RequestStatus.RETURNED]
        ).count(),
    }
    if has_permission(actor, APPROVALS_MANAGE):
        counts[BOX_ALL] = ApprovalRequest.objects.filter(status=RequestStatus.PENDING).count()
    return counts


def approval_inbox_count(*, actor: Actor) -> int:
    mine = ApprovalAssignment.objects.filter(request_id=OuterRef("pk"), user_id=actor.id, is_open=True)
    return ApprovalRequest.objects.filter(Exists(mine), status=RequestStatus.PENDING).count()


def approval_request_get(*, actor: Actor, request_id: int) -> ApprovalRequest:
    """One request the actor may see, or NotFound."""
    _read(actor)
    request = _list_queryset().filter(pk=request_id).first()
    if request is None or not request_is_visible(actor, request):
        raise NotFound(_("Approval request not found."))
    return request


def approval_request_actions(*, actor: Actor, request: ApprovalRequest) -> list[ApprovalAction]:
    """The request's log, oldest first."""
    return list(request.actions.select_related("actor").order_by("at", "id"))


# Progress and what the actor may do -----------------------------------------------------------------


@dataclass(frozen=True)
class StepProgress:
    number: int
    step: ApprovalStep
    title: str
    approver_text: str
    state: str  # done, current, rejected, returned, cancelled, waiting
    state_label: str
    asked: list[str] = field(default_factory=list)
    decided_by: str = ""


def describe_approver(step: ApprovalStep) -> str:
    """Who approves a step, in words: "Anyone with the role 财务 (in the requester's team or its sub-teams)"."""
    if step.approver_kind == ApproverKind.ROLE:
        role = step.role.name if step.role is not None else "—"
        text = _("Anyone with the role “%(role)s”") % {"role": role}
        if step.role_scope and step.role_scope != RoleScope.ANYONE:
            text += f" ({RoleScope(step.role_scope).label})"
        return text
    if step.approver_kind == ApproverKind.USER:
        return str(step.user) if step.user is not None else "—"
    return _("The requester's manager")


def describe_timeout(step: ApprovalStep) -> str:
    if not step.timeout_hours:
        return ""
    parts = [_("%(n)s h") % {"n": step.timeout_hours}]
    if step.remind_on_timeout:
        parts.append(_("remind"))
    if step.escalate_to == EscalateTo.MANAGER:
        parts.append(_("escalate to the approver's manager"))
    elif step.escalate_to == EscalateTo.USER:
        parts.append(_("escalate to %(user)s") % {"user": step.escalation_user or "—"})
    return ", ".join(parts)


_STATE_LABELS = {
    "done": gettext_lazy("Approved"),
    "current": gettext_lazy("Waiting"),
    "rejected": gettext_lazy("Rejected"),
    "returned": gettext_lazy("Returned"),
    "cancelled": gettext_lazy("Cancelled"),
    "waiting": gettext_lazy("Not reached"),
}


def approval_request_progress(
    *, actor: Actor, request: ApprovalRequest, actions: list[ApprovalAction]
) -> list[StepProgress]:
    """The process's steps with where this round of the request stands at each."""
    steps = process_steps(request.process)
    assignments = list(
        request.assignments.filter(round=request.round).select_related("user").order_by("step_position", "id")
    )
    asked: dict[int | None, list[str]] = {}
    for row in assignments:
        asked.setdefault(row.step_id, []).append(str(row.user))
    decisions = {
        action.step_id: action
        for action in actions
        if action.round == request.round and action.kind in (ActionKind.APPROVE, ActionKind.REJECT, ActionKind.RETURN)
    }
    progress = []
    for number, step in enumerate(steps, start=1):
        decided = decisions.get(step.pk)
        decided_by = str(decided.actor) if decided is not None and decided.actor is not None else ""
        if decided is not None:
            state = {"approve": "done", "reject": "rejected", "return": "returned"}[decided.kind]
        elif step.pk == request.current_step_id and request.status == RequestStatus.PENDING:
            state = "current"
        elif step.pk == request.current_step_id and request.status == RequestStatus.CANCELLED:
            state = "cancelled"
        else:
            state = "waiting"
        progress.append(
            StepProgress(
                number=number,
                step=step,
                title=step.name or _("Step %(n)s") % {"n": number},
                approver_text=describe_approver(step),
                state=state,
                state_label=str(_STATE_LABELS[state]),
                asked=asked.get(step.pk, []),
                decided_by=decided_by,
            )
        )
    return progress


@dataclass(frozen=True)
class RequestAbilities:
    decide: bool
    cancel: bool
    resubmit: bool


def approval_request_abilities(*, actor: Actor, request: ApprovalRequest) -> RequestAbilities:
    """Which forms the request page offers the actor (the services check again when they are used)."""
    is_requester = request.requester_id == actor.id
    manager = has_permission(actor, APPROVALS_MANAGE)
    asked = (
        request.status == RequestStatus.PENDING
        and ApprovalAssignment.objects.filter(request_id=request.pk, user_id=actor.id, is_open=True).exists()
    )
    return RequestAbilities(
        decide=request.status == RequestStatus.PENDING and not is_requester and (asked or manager),
        cancel=request.status in (RequestStatus.PENDING, RequestStatus.RETURNED) and (is_requester or manager),
        resubmit=request.status == RequestStatus.RETURNED and is_requester,
    )


# Processes ------------------------------------------------------------------------------------------


def approval_process_list(
    *, actor: Actor, approvable_type: str = "", include_inactive: bool = False
) -> QuerySet[ApprovalProcess]:
    """Processes with their step counts. Everyone who may request approvals reads the active ones (to choose
    one); the inactive ones are for those who manage approvals."""
    _read(actor)
    if include_inactive:
        require_permission(actor, APPROVALS_MANAGE)
    elif not (has_permission(actor, APPROVALS_SUBMIT) or has_permission(actor, APPROVALS_MANAGE)):
        raise PermissionDenied()
    qs = ApprovalProcess.objects.annotate(step_count=Count("steps"))
    if approvable_type:
        qs = qs.filter(approvable_type=approvable_type)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("approvable_type", "name", "id")


def approval_process_get(*, actor: Actor, process_id: int) -> ApprovalProcess:
    _read(actor)
    process = ApprovalProcess.objects.filter(pk=process_id).first()
    if process is None:
        raise NotFound(_("Approval process not found."))
    if not process.is_active:
        require_permission(actor, APPROVALS_MANAGE)
    elif not (has_permission(actor, APPROVALS_SUBMIT) or has_permission(actor, APPROVALS_MANAGE)):
        raise PermissionDenied()
    return process


def approval_processes_for_record(*, actor: Actor, approvable_type: str) -> list[ApprovalProcess]:
    """The active processes with steps that a record of this type can be sent through (empty without the
    right to request approvals)."""
    if not has_permission(actor, APPROVALS_SUBMIT):
        return []
    return list(
        ApprovalProcess.objects.filter(approvable_type=approvable_type, is_active=True, steps__isnull=False)
        .distinct()
        .order_by("name", "id")
    )


def approval_process_history(*, actor: Actor, process: ApprovalProcess) -> list[HistoryEntry]:
    """A process's changes (a changed list of steps shows as "Steps changed")."""
    require_permission(actor, APPROVALS_MANAGE)
    return record_history(process)

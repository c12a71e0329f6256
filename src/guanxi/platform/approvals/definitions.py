"""Writes of approval process definitions: a process and its ordered steps are checked completely and saved
together (nothing is half-written), by those who manage approvals.

Steps arrive as a list of dicts in their new order (the API body and the editor's rows alike):
`{"id"?, "name", "approver_kind", "role_id", "role_scope", "user_id", "timeout_hours", "remind_on_timeout",
"escalate_to", "escalation_user_id"}`. A dict with the id of an existing step changes that step, one without
an id adds a step, and existing steps left out are removed, unless requests are waiting at them.
Errors name the field as `steps[<index>].<key>`, like the API's schema errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from guanxi.platform.approvals.models import (
    ApprovalProcess,
    ApprovalRequest,
    ApprovalStep,
    ApproverKind,
    EscalateTo,
    RequestStatus,
    RoleScope,
)
from guanxi.platform.approvals.permissions import APPROVALS_MANAGE, require_token_scope
from guanxi.platform.approvals.registry import approvable_type as find_approvable
from guanxi.platform.audit.history import attribute_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.platform.core.text import clean_multiline, clean_text
from guanxi.platform.core.versioning import ensure_version
from guanxi.platform.identity.models import Role, User
from guanxi.platform.identity.scoping import require_permission

NAME_MAX = 100
DESCRIPTION_MAX = 1000
STEPS_MAX = 20
TIMEOUT_MAX_HOURS = 24 * 365
STEP_FIELDS = (
    "name",
    "approver_kind",
    "role_id",
    "role_scope",
    "user_id",
    "timeout_hours",
    "remind_on_timeout",
    "escalate_to",
    "escalation_user_id",
)


@dataclass
class _CleanStep:
    id: int | None
    values: dict[str, Any]


def _as_int(value: Any) -> int | None:
    """An id or number as typed in a form or sent in JSON; None when empty; ValueError when not a number."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    text = clean_text(str(value))
    if not text.lstrip("-").isdigit():
        raise ValueError
    return int(text)


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


def _clean_step(raw: Mapping[str, Any], index: int, errors: dict[str, list[str]]) -> _CleanStep:
    """One step checked on its own; its errors are added under `steps[index].<field>`."""

    def fail(field: str, message: str) -> None:
        key = f"steps[{index}].{field}"
        if key not in errors:  # one message per field: the first problem found
            errors[key] = [message]

    def ref(field: str) -> int | None:
        try:
            return _as_int(raw.get(field))
        except ValueError:
            fail(field, _("Choose an item from the list."))
            return None

    step_id = ref("id")
    name = clean_text(raw.get("name") or "")
    if len(name) > NAME_MAX:
        fail("name", _("Keep it to %(n)s characters or fewer.") % {"n": NAME_MAX})
    kind = str(raw.get("approver_kind") or "")
    if kind not in ApproverKind.values:
        fail("approver_kind", _("Choose who approves this step."))
    role_id, role_scope = ref("role_id"), str(raw.get("role_scope") or RoleScope.ANYONE)
    user_id = ref("user_id")
    if kind == ApproverKind.ROLE:
        if role_id is None:
            fail("role_id", _("Choose the role whose members approve this step."))
        elif not Role.objects.filter(pk=role_id).exists():
            fail("role_id", _("Choose a role from the list."))
        if role_scope not in RoleScope.values:
            fail("role_scope", _("Choose where the approvers may be."))
    else:
        role_id, role_scope = None, RoleScope.ANYONE
    if kind == ApproverKind.USER:
        if user_id is None:
            fail("user_id", _("Choose the user who approves this step."))
        elif not User.objects.filter(pk=user_id, is_active=True).exists():
            fail("user_id", _("Choose an active user."))
    else:
        user_id = None
    timeout: int | None = 0
    try:
        timeout = _as_int(raw.get("timeout_hours"))
    except ValueError:
        timeout = None
        fail("timeout_hours", _("Enter the timeout in whole hours, or 0 for none."))
    if timeout is not None and timeout < 0:
        fail("timeout_hours", _("The timeout cannot be negative: enter whole hours, or 0 for none."))
    elif timeout is not None and timeout > TIMEOUT_MAX_HOURS:
        fail("timeout_hours", _("Enter at most %(n)s hours.") % {"n": TIMEOUT_MAX_HOURS})
    remind = _as_bool(raw.get("remind_on_timeout"))
    escalate_to = str(raw.get("escalate_to") or "")
    escalation_user_id = ref("escalation_user_id")
    if escalate_to not in EscalateTo.values:
        fail("escalate_to", _("Choose who a late step is escalated to."))
    if escalate_to == EscalateTo.USER:
        if escalation_user_id is None:
            fail("escalation_user_id", _("Choose the user a late step is escalated to."))
        elif not User.objects.filter(pk=escalation_user_id, is_active=True).exists():
            fail("escalation_user_id", _("Choose an active user."))
    else:
        escalation_user_id = None
    if (remind or escalate_to) and not timeout:
        fail("timeout_hours", _("Set a timeout to remind or escalate when it passes."))
    return _CleanStep(
        id=step_id,
        values={
            "name": name,
            "approver_kind": kind,
            "role_id": role_id,
            "role_scope": role_scope,
            "user_id": user_id,
            "timeout_hours": max(timeout or 0, 0),
            "remind_on_timeout": remind,
            "escalate_to": escalate_to,
            "escalation_user_id": escalation_user_id,
        },
    )


def _waiting_counts(step_ids: list[int]) -> dict[int, int]:
    rows = (
        ApprovalRequest.objects.filter(current_step_id__in=step_ids, status=RequestStatus.PENDING)
        .values("current_step_id")
        .annotate(n=Count("id"))
    )
    return {row["current_step_id"]: row["n"] for row in rows}


@transaction.atomic
def approval_process_save(
    *,
    actor: Actor,
    process: ApprovalProcess | None,
    name: str,
    approvable_type: str,
    steps: Sequence[Mapping[str, Any]],
    description: str = "",
    is_active: bool = True,
    version: int | None = None,
) -> ApprovalProcess:
    """Create (process=None) or change a process with its complete, ordered list of steps.

    The record type is fixed once created. Refused with every problem at once: no name, a name taken for
    the record type, an unknown record type, no steps (or more than 20), and each bad step (no role for a
    role step, no user for a named-user step, a negative timeout, reminders without a timeout...).
    """
    require_permission(actor, APPROVALS_MANAGE)
    require_token_scope(actor, write=True)
    errors: dict[str, list[str]] = {}
    name, description = clean_text(name), clean_multiline(description)
    if process is not None:
        approvable_type = process.approvable_type
    elif approvable_type_missing(approvable_type):
        errors["approvable_type"] = [_("Choose a kind of record from the list.")]
    if not name:
        errors["name"] = [_("Enter a name.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("Keep it to %(n)s characters or fewer.") % {"n": NAME_MAX}]
    elif (
        ApprovalProcess.objects.filter(approvable_type=approvable_type, name=name)
        .exclude(pk=process.pk if process is not None else 0)
        .exists()
    ):
        errors["name"] = [_("Another process for this kind of record already has this name.")]
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [_("Keep it to %(n)s characters or fewer.") % {"n": DESCRIPTION_MAX}]
    if not steps:
        errors["steps"] = [_("Add at least one step.")]
    elif len(steps) > STEPS_MAX:
        errors["steps"] = [_("A process has at most %(n)s steps.") % {"n": STEPS_MAX}]
    cleaned = [_clean_step(raw, index, errors) for index, raw in enumerate(steps[:STEPS_MAX])]
    existing: dict[int, ApprovalStep] = {}
    if process is not None:
        existing = {step.pk: step for step in process.steps.all()}
    for index, clean in enumerate(cleaned):
        if clean.id is not None and clean.id not in existing:
            errors.setdefault(f"steps[{index}].id", []).append(_("This step belongs to another process."))
    kept = {clean.id for clean in cleaned if clean.id is not None}
    removed = [row for pk, row in existing.items() if pk not in kept]
    waiting = _waiting_counts([row.pk for row in removed]) if removed else {}
    for row in removed:
        if waiting.get(row.pk):
            errors.setdefault("steps", []).append(
                _("Step %(n)s cannot be removed while requests are waiting at it (%(count)s).")
                % {"n": row.position, "count": waiting[row.pk]}
            )
    if errors:
        raise ValidationFailed(fields=errors)

    before = _steps_signature(list(existing.values()))
    if process is None:
        process = ApprovalProcess(approvable_type=approvable_type)
    else:
        process = ApprovalProcess.objects.select_for_update().get(pk=process.pk)
        ensure_version(process, version)
        process.bump_version()
    process.name, process.description, process.is_active = name, description, bool(is_active)
    try:
        with transaction.atomic():
            ApprovalStep.objects.filter(pk__in=[step.pk for step in removed]).delete()
            saved: list[ApprovalStep] = []
            for position, step in enumerate(cleaned, start=1):
                row = existing[step.id] if step.id is not None else ApprovalStep()
                for field, value in step.values.items():
                    setattr(row, field, value)
                row.position = position
                saved.append(row)
            after = _steps_signature(saved)
            attribute_history(process, actor, _("Steps changed") if process.pk and after != before else "")
            process.save()
            for row in saved:
                row.process = process
                row.save()
    except IntegrityError:  # the same name saved by someone else at the same moment
        raise ValidationFailed.for_field(
            "name", _("Another process for this kind of record already has this name.")
        ) from None
    return process


def approvable_type_missing(key: str) -> bool:
    return find_approvable(key) is None


def _steps_signature(steps: list[ApprovalStep]) -> list[tuple[Any, ...]]:
    ordered = sorted(steps, key=lambda step: (step.position, step.pk or 0))
    return [(step.pk, *(getattr(step, field) for field in STEP_FIELDS)) for step in ordered]


@transaction.atomic
def approval_process_delete(*, actor: Actor, process_id: int) -> None:
    """Delete a process that was never used; one with requests is switched off instead (Conflict)."""
    require_permission(actor, APPROVALS_MANAGE)
    require_token_scope(actor, write=True)
    process = ApprovalProcess.objects.select_for_update().filter(pk=process_id).first()
    if process is None:
        raise NotFound(_("Approval process not found."))
    if ApprovalRequest.objects.filter(process=process).exists():
        raise Conflict(_("This process has requests, so it cannot be deleted; switch it off instead."))
    attribute_history(process, actor)
    process.delete()

"""Approval requests as a record type of rules ("approvals.request"), so that rules can react to the approval
events ("approval.approved", "approval.rejected"...): notify someone, call a webhook, or act on the approved
record itself — a request links to the record it is about, whatever app registered that record type, so a
customer action in a rule about requests works on the customer of a request about a customer.

Requests are visible (for choosing one in a dry run) to approval administrators and to their requesters.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.platform.approvals.models import ApprovalRequest, RequestStatus
from guanxi.platform.approvals.permissions import APPROVALS_MANAGE
from guanxi.platform.approvals.registry import approvable_types
from guanxi.platform.automation.registry import FieldKind, RecordField, RecordLink, RecordType, register_record_type
from guanxi.platform.core.actors import Actor
from guanxi.platform.identity.scoping import has_permission

APPROVAL_REQUEST = "approvals.request"


def _visible_requests(actor: Actor) -> QuerySet[ApprovalRequest]:
    requests = ApprovalRequest.objects.all()
    if has_permission(actor, APPROVALS_MANAGE):
        return requests
    return requests.filter(Q(requester_id=actor.id))


def _object_of(key: str, request: Any) -> int | None:
    return int(request.object_id) if request.approvable_type == key else None


def _links() -> tuple[RecordLink, ...]:
    return tuple(
        RecordLink(name=key, record_type=key, resolve=functools.partial(_object_of, key)) for key in approvable_types()
    )


def _approvable_choices() -> tuple[tuple[str, Any], ...]:
    return tuple((key, item.label) for key, item in approvable_types().items())


def register_approval_records() -> None:
    """Called once from AutomationConfig.ready()."""
    status = tuple((str(value), label) for value, label in RequestStatus.choices)
    register_record_type(
        RecordType(
            key=APPROVAL_REQUEST,
            label=_("Approval request"),
            model=ApprovalRequest,
            queryset=lambda: ApprovalRequest.objects.select_related("process", "requester", "current_step"),
            visible_queryset=_visible_requests,
            fields=(
                RecordField("status", _("Status"), FieldKind.CHOICE, choices=status),
                RecordField("process", _("Approval process"), FieldKind.TEXT, lookup="process__name"),
                RecordField("approvable_type", _("Kind of record"), FieldKind.CHOICE, choices=_approvable_choices),
                RecordField("object_label", _("Record"), FieldKind.TEXT),
                RecordField("summary", _("Summary"), FieldKind.TEXT),
                RecordField("amount", _("Amount"), FieldKind.DECIMAL),
                RecordField("currency", _("Currency"), FieldKind.TEXT),
                RecordField("requester", _("Requester"), FieldKind.USER, lookup="requester_id"),
                RecordField("requester.team", _("Requester's team"), FieldKind.TEAM, lookup="requester__team_id"),
                RecordField("round", _("Round"), FieldKind.NUMBER),
                RecordField("submitted_at", _("Submitted at"), FieldKind.DATETIME),
                RecordField("decided_at", _("Decided at"), FieldKind.DATETIME),
                RecordField("step_due_at", _("Step due at"), FieldKind.DATETIME),
            ),
            owner_id=lambda request: request.requester_id,
            team_id=lambda request: request.requester.team_id,
            dynamic_links=_links,
            url=lambda pk: reverse("approvals:request_detail", args=[pk]),
            display=lambda request: request.object_label or f"#{request.pk}",
        )
    )

"""The approvals' domain events, published after commit so rules and webhooks can react.

`record_id` is the approval request's id (record type "approvals.request"); the approved record itself is
named by `approvable_type` and `object_id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from guanxi.platform.events.registry import EventPayload, register_event_type

REQUEST = "approvals.request"


@dataclass(frozen=True, kw_only=True)
class ApprovalRequested(EventPayload):
    """A request was submitted (round 1) or resubmitted after being returned (round 2, 3, ...)."""

    event_name: ClassVar[str] = "approval.requested"
    process_id: int
    process_name: str
    approvable_type: str
    object_id: int
    requester_id: int
    round: int
    approver_ids: list[int]


@dataclass(frozen=True, kw_only=True)
class _ApprovalDecided(EventPayload):
    process_id: int
    process_name: str
    approvable_type: str
    object_id: int
    requester_id: int
    decided_by_id: int | None
    step_position: int
    comment: str


@dataclass(frozen=True, kw_only=True)
class ApprovalApproved(_ApprovalDecided):
    """The last step approved the request."""

    event_name: ClassVar[str] = "approval.approved"


@dataclass(frozen=True, kw_only=True)
class ApprovalRejected(_ApprovalDecided):
    event_name: ClassVar[str] = "approval.rejected"


@dataclass(frozen=True, kw_only=True)
class ApprovalReturned(_ApprovalDecided):
    """Sent back to the requester for changes; they may resubmit it."""

    event_name: ClassVar[str] = "approval.returned"


def register_events() -> None:
    register_event_type(ApprovalRequested, label=_("Approval requested"), record_type=REQUEST)
    register_event_type(ApprovalApproved, label=_("Approval request approved"), record_type=REQUEST)
    register_event_type(ApprovalRejected, label=_("Approval request rejected"), record_type=REQUEST)
    register_event_type(ApprovalReturned, label=_("Approval request returned for changes"), record_type=REQUEST)

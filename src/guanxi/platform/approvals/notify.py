"""The notifications approvals send: to the approvers of each step (and escalation targets), reminders on
timeout, and the outcome to the requester. Each is written in its recipient's language."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from guanxi.platform.approvals.models import ApprovalRequest, RequestStatus
from guanxi.platform.identity.models import User
from guanxi.platform.notifications.services import notification_send

PENDING_KIND = "approvals.pending"
DECIDED_KIND = "approvals.decided"
REMINDER_KIND = "approvals.reminder"


def request_url(request: ApprovalRequest) -> str:
    return reverse("approvals:request_detail", args=[request.pk])


def _about(request: ApprovalRequest) -> str:
    return f"{request.process.name} · {request.object_label}"


def _send(user: User, kind: str, title: str, body: str, request: ApprovalRequest) -> None:
    notification_send(recipient_id=user.pk, kind=kind, title=title, body=body, url=request_url(request))


def _language(user: User) -> str:
    return user.language or settings.LANGUAGE_CODE


def notify_approvers(
    request: ApprovalRequest, users: Iterable[User], *, step_number: int, step_count: int, escalated: bool = False
) -> None:
    requester = request.requester
    for user in users:
        with translation.override(_language(user)):
            if escalated:
                title = _("Escalated to you: %(about)s") % {"about": _about(request)}
            else:
                title = _("Approval needed: %(about)s") % {"about": _about(request)}
            body = _("Requested by %(requester)s. Step %(n)s of %(total)s.") % {
                "requester": requester,
                "n": step_number,
                "total": step_count,
            }
            _send(user, PENDING_KIND, title, body, request)


def notify_reminder(request: ApprovalRequest, users: Iterable[User]) -> None:
    for user in users:
        with translation.override(_language(user)):
            title = _("Reminder: approval still waiting: %(about)s") % {"about": _about(request)}
            body = _("Requested by %(requester)s; the time for this step has passed.") % {
                "requester": request.requester
            }
            _send(user, REMINDER_KIND, title, body, request)


def notify_requester(request: ApprovalRequest, *, decided_by: User | None, comment: str) -> None:
    """The outcome (approved, rejected, returned) to the requester, with the decider's comment."""
    requester = request.requester
    with translation.override(_language(requester)):
        if request.status == RequestStatus.APPROVED:
            title = _("Approved: %(about)s") % {"about": _about(request)}
        elif request.status == RequestStatus.REJECTED:
            title = _("Rejected: %(about)s") % {"about": _about(request)}
        else:
            title = _("Returned for changes: %(about)s") % {"about": _about(request)}
        who = str(decided_by) if decided_by is not None else _("System")
        body = f"{who}: {comment}" if comment else who
        _send(requester, DECIDED_KIND, title, body, request)


def notify_withdrawn(request: ApprovalRequest, users: Iterable[User]) -> None:
    """Approvers who were asked learn that the requester cancelled the request."""
    for user in users:
        with translation.override(_language(user)):
            title = _("Request withdrawn: %(about)s") % {"about": _about(request)}
            body = _("%(requester)s cancelled the request; nothing is waiting for you.") % {
                "requester": request.requester
            }
            _send(user, DECIDED_KIND, title, body, request)

"""Approval pages: the inbox (waiting for me, submitted by me, all), a request with its progress, log and
decision forms, the "Approvals" panel of a record page, and the process editor in the settings.

Views parse and render; every rule lives in the services, which the API calls too.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.platform.approvals import definitions, selectors, services
from guanxi.platform.approvals.forms import (
    DecisionForm,
    ProcessForm,
    add_step_errors,
    blank_row,
    posted_rows,
    service_steps,
    step_forms,
    step_row_data,
)
from guanxi.platform.approvals.models import ActionKind, ApprovalProcess, RequestStatus
from guanxi.platform.approvals.permissions import APPROVALS_MANAGE
from guanxi.platform.approvals.registry import approvable_label, approvable_type_choices, require_approvable
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from guanxi.platform.core.pagination import keyset_paginate
from guanxi.platform.identity.web.decorators import permission_required_page
from guanxi.platform.ui.actors import actor_from_request
from guanxi.platform.ui.forms import add_domain_errors
from guanxi.platform.ui.pages import next_page_url

PAGE_SIZE = 50
PANEL_ROWS = 10


def _version(data: QueryDict) -> int | None:
    raw = data.get("version", "")
    return int(raw) if raw.isdigit() else None


# Inbox ----------------------------------------------------------------------------------------------


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """One box with its count on each tab; the "all" box only for approval administrators."""
    actor = actor_from_request(request)
    box = request.GET.get("box", selectors.BOX_INBOX)
    if box not in selectors.BOX_LABELS:
        box = selectors.BOX_INBOX
    status = request.GET.get("status", "")
    if status not in RequestStatus.values:
        status = ""
    counts = selectors.approval_box_counts(actor=actor)
    if box not in counts:  # "all" is for approval administrators
        box = selectors.BOX_INBOX
    tabs = [
        {"box": code, "label": label, "count": counts[code], "active": code == box}
        for code, label in selectors.BOX_LABELS.items()
        if code in counts
    ]
    qs = selectors.approval_request_list(actor=actor, box=box, status=status)
    sort = "step_started_at" if box == selectors.BOX_INBOX else "-submitted_at"
    try:
        page = keyset_paginate(qs, sort=sort, cursor=request.GET.get("cursor") or None, page_size=PAGE_SIZE)
    except ValidationFailed:
        page = keyset_paginate(qs, sort=sort, cursor=None, page_size=PAGE_SIZE)
    return render(
        request,
        "approvals/pages/inbox.html",
        {
            "box": box,
            "tabs": tabs,
            "status": status,
            "statuses": RequestStatus.choices,
            "rows": page.items,
            "next_url": next_page_url(request, page.next_cursor),
            "now": timezone.now(),
        },
    )


# One request ----------------------------------------------------------------------------------------


def _detail_context(actor: Actor, request_id: int) -> dict[str, Any]:
    found = selectors.approval_request_get(actor=actor, request_id=request_id)
    actions = selectors.approval_request_actions(actor=actor, request=found)
    return {
        "req": found,
        "actions": actions,
        "progress": selectors.approval_request_progress(actor=actor, request=found, actions=actions),
        "can": selectors.approval_request_abilities(actor=actor, request=found),
        "type_label": approvable_label(found.approvable_type),
        "now": timezone.now(),
    }


@login_required
@require_GET
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    context = _detail_context(actor, request_id)
    context["form"] = DecisionForm(initial={"version": context["req"].version})
    context["comment_form"] = DecisionForm()
    return render(request, "approvals/pages/request_detail.html", context)


def _act(request: HttpRequest, request_id: int, action: str) -> HttpResponse:
    """Run one action of the request page; errors re-render the page with the form and status 422/409/403."""
    actor = actor_from_request(request)
    form = DecisionForm(request.POST)
    form.is_valid()
    comment = request.POST.get("comment", "")
    version = _version(request.POST)
    try:
        if action == "decide":
            decision = request.POST.get("decision", "")
            services.approval_decide(
                actor=actor, request_id=request_id, decision=decision, comment=comment, version=version
            )
            done = {
                ActionKind.APPROVE: _("You approved the request."),
                ActionKind.REJECT: _("You rejected the request."),
                ActionKind.RETURN: _("You returned the request to its requester."),
            }[ActionKind(decision)]
        elif action == "cancel":
            services.approval_cancel(actor=actor, request_id=request_id, comment=comment, version=version)
            done = _("The request was cancelled.")
        elif action == "resubmit":
            services.approval_resubmit(actor=actor, request_id=request_id, comment=comment, version=version)
            done = _("The request was resubmitted; it starts again at step 1.")
        else:
            services.approval_comment(actor=actor, request_id=request_id, comment=comment)
            done = _("Your comment was added.")
    except NotFound:
        raise
    except DomainError as exc:  # invalid input (422), decided meanwhile (409), not your turn (403)
        context = _detail_context(actor, request_id)
        target = DecisionForm(request.POST)
        target.is_valid()
        if isinstance(exc, ValidationFailed) and action == "decide":
            add_domain_errors(target, exc)  # the decision form shows the comment field with its error
        else:
            for message in [m for msgs in exc.fields.values() for m in msgs] or [exc.message]:
                target.add_error(None, message)
        context["form"] = target if action != "comment" else DecisionForm(initial={"version": context["req"].version})
        context["comment_form"] = target if action == "comment" else DecisionForm()
        context["failed_action"] = action
        return render(request, "approvals/pages/request_detail.html", context, status=exc.status)
    messages.success(request, done)
    return redirect("approvals:request_detail", request_id=request_id)


@login_required
@require_POST
def request_decide(request: HttpRequest, request_id: int) -> HttpResponse:
    return _act(request, request_id, "decide")


@login_required
@require_POST
def request_cancel(request: HttpRequest, request_id: int) -> HttpResponse:
    return _act(request, request_id, "cancel")


@login_required
@require_POST
def request_resubmit(request: HttpRequest, request_id: int) -> HttpResponse:
    return _act(request, request_id, "resubmit")


@login_required
@require_POST
def request_comment(request: HttpRequest, request_id: int) -> HttpResponse:
    return _act(request, request_id, "comment")


# The record panel -----------------------------------------------------------------------------------


def _record_address(request: HttpRequest) -> tuple[str, int]:
    params = request.POST if request.method == "POST" else request.GET
    key = params.get("approvable_type", "")
    raw_id = params.get("object_id", "")
    if not raw_id.isdigit():
        raise NotFound()
    return key, int(raw_id)


@login_required
@require_http_methods(["GET", "POST"])
def record_panel(request: HttpRequest) -> HttpResponse:
    """A record's approval requests and the form to request one (htmx panel of the record's page)."""
    actor = actor_from_request(request)
    key, object_id = _record_address(request)
    require_approvable(key).get_visible(actor, object_id)
    errors: list[str] = []
    status = 200
    draft = {"process_id": "", "comment": ""}
    if request.method == "POST":
        draft = {"process_id": request.POST.get("process_id", ""), "comment": request.POST.get("comment", "")}
        try:
            process_id = int(draft["process_id"]) if draft["process_id"].isdigit() else 0
            if not process_id:
                raise ValidationFailed.for_field("process_id", _("Choose an approval process from the list."))
            services.approval_start(
                actor=actor, process_id=process_id, approvable_type=key, object_id=object_id, comment=draft["comment"]
            )
            draft = {"process_id": "", "comment": ""}
            messages.success(request, _("Approval requested."))
        except DomainError as exc:  # the panel shows every refusal where the form is (htmx swaps 409/422)
            errors = [m for msgs in exc.fields.values() for m in msgs] or [exc.message]
            status = exc.status if exc.status in (409, 422) else 422
    requests_ = list(
        selectors.approval_requests_for_record(actor=actor, approvable_type=key, object_id=object_id)[: PANEL_ROWS + 1]
    )
    context = {
        "approvable_type": key,
        "object_id": object_id,
        "rows": requests_[:PANEL_ROWS],
        "more": len(requests_) > PANEL_ROWS,
        "processes": selectors.approval_processes_for_record(actor=actor, approvable_type=key),
        "errors": errors,
        "draft": draft,
        "now": timezone.now(),
    }
    if request.method == "POST" and not getattr(request, "htmx", False) and status < 400:
        back = request.POST.get("next", "")
        if back.startswith("/") and not back.startswith("//"):
            return redirect(back)
    return render(request, "approvals/partials/record_panel.html", context, status=status)


# Process settings -----------------------------------------------------------------------------------


@permission_required_page(APPROVALS_MANAGE)
@require_GET
def process_list(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    processes = list(
        selectors.approval_process_list(actor=actor, include_inactive=True).prefetch_related(
            "steps__role", "steps__user", "steps__escalation_user"
        )
    )
    rows = [
        {
            "process": process,
            "type_label": approvable_label(process.approvable_type),
            "steps": [selectors.describe_approver(step) for step in process.steps.all()],
        }
        for process in processes
    ]
    return render(
        request,
        "approvals/pages/process_list.html",
        {"rows": rows, "has_types": bool(approvable_type_choices())},
    )


def _editor(
    request: HttpRequest, process: ApprovalProcess | None, form: ProcessForm, rows: list[dict[str, str]], **extra: Any
) -> HttpResponse:
    steps = extra.pop("step_forms", None) or step_forms(rows)
    context: dict[str, Any] = {"process": process, "form": form, "steps": steps, "step_count": len(steps), **extra}
    if process is not None:
        context["history"] = selectors.approval_process_history(actor=actor_from_request(request), process=process)
    # The add/remove/move buttons only re-render the editor; errors come from a real save.
    failed = not extra.get("editing") and (bool(form.errors) or any(step.errors for step in steps))
    return render(request, "approvals/pages/process_form.html", context, status=422 if failed else 200)


def _edit_rows(request: HttpRequest) -> tuple[list[dict[str, str]], bool]:
    """Apply the editor's add/remove/move buttons to the posted rows; True when one of them was pressed."""
    rows = posted_rows(request.POST)
    command = request.POST.get("editor", "")
    if not command:
        return rows, False
    verb, _sep, raw_index = command.partition("-")
    index = int(raw_index) if raw_index.isdigit() else -1
    if verb == "add":
        rows.append(blank_row())
    elif verb == "remove" and 0 <= index < len(rows):
        rows.pop(index)
    elif verb == "up" and 0 < index < len(rows):
        rows[index - 1], rows[index] = rows[index], rows[index - 1]
    elif verb == "down" and 0 <= index < len(rows) - 1:
        rows[index + 1], rows[index] = rows[index], rows[index + 1]
    return rows, True


def _save_process(request: HttpRequest, process: ApprovalProcess | None) -> HttpResponse:
    form = ProcessForm(request.POST, fixed_type=process is not None, initial=_process_initial(process))
    rows, editing = _edit_rows(request)
    valid = form.is_valid()
    if editing or not valid:
        return _editor(request, process, form, rows, editing=editing)
    data = form.cleaned_data
    steps = step_forms(rows)
    try:
        saved = definitions.approval_process_save(
            actor=actor_from_request(request),
            process=process,
            name=data.get("name") or "",
            approvable_type=data.get("approvable_type") or (process.approvable_type if process else ""),
            description=data.get("description") or "",
            is_active=bool(data.get("is_active")),
            steps=service_steps(rows),
            version=data.get("version"),
        )
    except ValidationFailed as exc:
        add_step_errors(form, steps, exc)
        return _editor(request, process, form, rows, step_forms=steps)
    except Conflict as exc:
        form.add_error(None, exc.message)
        return _editor(request, process, form, rows, step_forms=steps)
    messages.success(request, _("Approval process “%(name)s” saved.") % {"name": saved.name})
    return redirect("approvals:process_list")


def _process_initial(process: ApprovalProcess | None) -> dict[str, Any]:
    if process is None:
        choices = approvable_type_choices()
        return {"is_active": True, "approvable_type": choices[0][0] if choices else ""}
    return {
        "name": process.name,
        "approvable_type": process.approvable_type,
        "description": process.description,
        "is_active": process.is_active,
        "version": process.version,
    }


@permission_required_page(APPROVALS_MANAGE)
@require_http_methods(["GET", "POST"])
def process_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save_process(request, None)
    return _editor(request, None, ProcessForm(initial=_process_initial(None)), [blank_row()])


@permission_required_page(APPROVALS_MANAGE)
@require_http_methods(["GET", "POST"])
def process_edit(request: HttpRequest, process_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    process = selectors.approval_process_get(actor=actor, process_id=process_id)
    if request.method == "POST":
        return _save_process(request, process)
    rows = [step_row_data(step) for step in services.process_steps(process)]
    form = ProcessForm(initial=_process_initial(process), fixed_type=True)
    return _editor(request, process, form, rows)


@permission_required_page(APPROVALS_MANAGE)
@require_POST
def process_delete(request: HttpRequest, process_id: int) -> HttpResponse:
    try:
        definitions.approval_process_delete(actor=actor_from_request(request), process_id=process_id)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("approvals:process_edit", process_id=process_id)
    messages.success(request, _("The approval process was deleted."))
    return redirect(reverse("approvals:process_list"))


# Workbench ------------------------------------------------------------------------------------------

WORKBENCH_ROWS = 5


def workbench_panel(request: HttpRequest) -> dict[str, Any]:
    """The oldest requests waiting for the user, on the workbench; hidden when nothing waits."""
    actor = actor_from_request(request)
    rows = list(selectors.approvals_inbox(actor=actor)[: WORKBENCH_ROWS + 1])
    return {"hidden": not rows, "rows": rows[:WORKBENCH_ROWS], "more": len(rows) > WORKBENCH_ROWS}

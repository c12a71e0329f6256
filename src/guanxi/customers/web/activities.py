"""Timeline and task pages: my tasks, task forms, and the htmx partials of a customer's or lead's timeline
and open tasks (loaded by the 360° page with hx-trigger="load").

Forms parse raw input and the services decide, so the web and the API give the same messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from guanxi.customers.models import Customer, Lead, Task
from guanxi.customers.models.choices import Channel, Direction, Outcome, TaskKind, TaskPriority
from guanxi.customers.permissions import ACTIVITIES_ADD, ACTIVITIES_CHANGE
from guanxi.customers.selectors import activities as selectors
from guanxi.customers.selectors.customers import customer_get
from guanxi.customers.selectors.leads import lead_get
from guanxi.customers.services import interactions as interaction_services
from guanxi.customers.services import tasks as task_services
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import StaleVersion, ValidationFailed
from guanxi.platform.core.pagination import keyset_paginate
from guanxi.platform.identity.scoping import has_permission
from guanxi.platform.identity.selectors import user_list
from guanxi.platform.ui.actors import actor_from_request
from guanxi.platform.ui.forms import add_domain_errors
from guanxi.platform.ui.widgets import QuickSelect

TIMELINE_PAGE = 30
TASK_PAGE = 50
TASK_TABS = (
    ("open", gettext_lazy("All open")),
    ("today", gettext_lazy("Today")),
    ("overdue", gettext_lazy("Overdue")),
    ("upcoming", gettext_lazy("Upcoming")),
    ("done", gettext_lazy("Done")),
)
DATETIME_INPUT = {"type": "datetime-local"}
# Task changes announce themselves so the customer's task panel (hx-trigger="... from:body") refreshes.
TASKS_CHANGED_EVENT = "tasksChanged"


def _select(choices: Any, label: Any, **kwargs: Any) -> forms.CharField:
    """A select box that passes any value on: the service answers an unknown one like the API does."""
    return forms.CharField(label=label, required=False, widget=QuickSelect(choices=list(choices)), **kwargs)


def _datetime(label: Any, **kwargs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.DateTimeInput(attrs=DATETIME_INPUT), **kwargs)


def _local_input(value: Any) -> str:
    """An aware datetime as the value of a datetime-local input, in the user's time zone."""
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else ""


def _renamed(exc: ValidationFailed, names: Mapping[str, str]) -> ValidationFailed:
    """The same errors with service field names turned into this form's field names."""
    return ValidationFailed(exc.message, fields={names.get(k, k): v for k, v in exc.fields.items()})


# Forms -----------------------------------------------------------------------------------------


class InteractionLogForm(forms.Form):
    """The inline "log a follow-up" form at the top of a timeline."""

    SERVICE_NAMES = {
        "duration_seconds": "duration_minutes",
        "next_follow_up": "follow_up_at",
        "next_follow_up.due_at": "follow_up_at",
        "next_follow_up.title": "follow_up_title",
    }

    channel = _select(Channel.choices, gettext_lazy("Channel"), initial=Channel.CALL)
    direction = _select(Direction.choices, gettext_lazy("Direction"), initial=Direction.OUTBOUND)
    occurred_at = _datetime(gettext_lazy("When"), help_text=gettext_lazy("Leave empty for now."))
    outcome = _select(Outcome.choices, gettext_lazy("Outcome"))
    duration_minutes = forms.IntegerField(label=gettext_lazy("Minutes"), required=False, min_value=0, max_value=24 * 60)
    subject = forms.CharField(label=gettext_lazy("Subject"), required=False)
    body = forms.CharField(
        label=gettext_lazy("What happened"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    follow_up_at = _datetime(gettext_lazy("Next follow-up"))
    follow_up_title = forms.CharField(label=gettext_lazy("Follow-up title"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Own element ids: the 360° page shows this form next to other forms with fields of the same name.
        kwargs.setdefault("auto_id", "id_log_%s")
        super().__init__(*args, **kwargs)

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        values: dict[str, Any] = {
            "channel": data["channel"],
            "direction": data["direction"] or Direction.OUTBOUND,
            "subject": data["subject"],
            "body": data["body"],
            "outcome": data["outcome"],
        }
        if data["occurred_at"]:
            values["occurred_at"] = data["occurred_at"]
        if data["duration_minutes"] is not None:
            values["duration_seconds"] = data["duration_minutes"] * 60
        if data["follow_up_at"] or data["follow_up_title"]:
            values["next_follow_up"] = {"due_at": data["follow_up_at"], "title": data["follow_up_title"]}
        return values


class TaskForm(forms.Form):
    """Creating and editing a task."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    customer = forms.CharField(required=False, widget=forms.HiddenInput)
    lead = forms.CharField(required=False, widget=forms.HiddenInput)
    title = forms.CharField(label=gettext_lazy("Title"), required=False)
    kind = _select(TaskKind.choices, gettext_lazy("Kind"), initial=TaskKind.FOLLOW_UP)
    priority = _select(TaskPriority.choices, gettext_lazy("Priority"), initial=TaskPriority.NORMAL)
    due_at = _datetime(gettext_lazy("Due"))
    remind_at = _datetime(gettext_lazy("Remind me at"), help_text=gettext_lazy("At or before the due time."))
    assignee = _select([], gettext_lazy("Assignee"))
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, assignees: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["title"].widget.attrs["required"] = True
        self.fields["assignee"].widget.choices = [(str(u.pk), str(u)) for u in assignees]

    def service_data(self, *, creating: bool) -> dict[str, Any]:
        data = self.cleaned_data
        values: dict[str, Any] = {
            "title": data["title"],
            "description": data["description"],
            "due_at": data["due_at"] or None,
            "remind_at": data["remind_at"] or None,
        }
        # A select left out of the post keeps its default (or the task's current value).
        for field, key in (("kind", "kind"), ("priority", "priority"), ("assignee", "assignee_id")):
            if data[field]:
                values[key] = data[field]
        if creating:
            values["customer_id"] = data["customer"] or None
            values["lead_id"] = data["lead"] or None
        return values


class QuickTaskForm(forms.Form):
    """The one-line "add a task" form under a customer's open tasks (assigned to the user)."""

    title = forms.CharField(label=gettext_lazy("New task"), required=False)
    due_at = _datetime(gettext_lazy("Due"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_quick_task_%s")
        super().__init__(*args, **kwargs)


# Helpers ---------------------------------------------------------------------------------------


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _int_or_none(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


def _timeline_context(
    request: HttpRequest, actor: Actor, *, customer: Customer | None, lead: Lead | None, form: InteractionLogForm | None
) -> dict[str, Any]:
    before = request.GET.get("before") or None
    if customer is not None:
        page = selectors.customer_timeline(actor=actor, customer=customer, before=before, limit=TIMELINE_PAGE)
        log_url = reverse("customers:interaction_log", args=[customer.pk])
        more_url = reverse("customers:customer_timeline", args=[customer.pk])
        wrapper_id = f"timeline-customer-{customer.pk}"
    else:
        assert lead is not None
        page = selectors.lead_timeline(actor=actor, lead=lead, before=before, limit=TIMELINE_PAGE)
        log_url = reverse("customers:lead_interaction_log", args=[lead.pk])
        more_url = reverse("customers:lead_timeline", args=[lead.pk])
        wrapper_id = f"timeline-lead-{lead.pk}"
    return {
        "subject": customer or lead,
        "customer": customer,
        "lead": lead,
        "page": page,
        "before": before,
        "form": form if form is not None else InteractionLogForm(),
        "can_log": has_permission(actor, ACTIVITIES_ADD),
        "log_url": log_url,
        "more_url": more_url,
        "wrapper_id": wrapper_id,
    }


def _render_timeline(
    request: HttpRequest,
    actor: Actor,
    *,
    customer: Customer | None = None,
    lead: Lead | None = None,
    form: InteractionLogForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _timeline_context(request, actor, customer=customer, lead=lead, form=form)
    template = "customers/partials/timeline_items.html" if context["before"] else "customers/partials/timeline.html"
    return render(request, template, context, status=status)


def _log_interaction(request: HttpRequest, *, customer: Customer | None, lead: Lead | None) -> HttpResponse:
    actor = actor_from_request(request)
    form = InteractionLogForm(request.POST)
    if form.is_valid():
        try:
            interaction_services.interaction_log(actor=actor, customer=customer, lead=lead, data=form.service_data())
        except ValidationFailed as exc:
            add_domain_errors(form, _renamed(exc, InteractionLogForm.SERVICE_NAMES))
        else:
            planned = "next_follow_up" in form.service_data()
            if not _is_htmx(request):
                messages.success(request, _("The interaction is logged."))
                if customer is not None:
                    return redirect("customers:customer_detail", customer_id=customer.pk)
                assert lead is not None
                return redirect("customers:lead_detail", lead_id=lead.pk)
            response = _render_timeline(request, actor, customer=customer, lead=lead)
            if planned:
                response["HX-Trigger"] = TASKS_CHANGED_EVENT
            return response
    return _render_timeline(request, actor, customer=customer, lead=lead, form=form, status=422)


def _assignees(actor: Actor) -> Any:
    return user_list(actor=actor, active_only=True)


# Timeline partials -----------------------------------------------------------------------------


@login_required
@require_GET
def customer_timeline(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer's timeline with the inline log form; `?before=<cursor>` returns only older items."""
    actor = actor_from_request(request)
    return _render_timeline(request, actor, customer=customer_get(actor=actor, customer_id=customer_id))


@login_required
@require_POST
def interaction_log(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    return _log_interaction(request, customer=customer_get(actor=actor, customer_id=customer_id), lead=None)


@login_required
@require_GET
def lead_timeline(request: HttpRequest, lead_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    return _render_timeline(request, actor, lead=lead_get(actor=actor, lead_id=lead_id))


@login_required
@require_POST
def lead_interaction_log(request: HttpRequest, lead_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    return _log_interaction(request, customer=None, lead=lead_get(actor=actor, lead_id=lead_id))


# A customer's open tasks -----------------------------------------------------------------------


def _render_customer_tasks(
    request: HttpRequest, actor: Actor, customer: Customer, form: QuickTaskForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "customer": customer,
        "tasks": selectors.customer_open_tasks(actor=actor, customer=customer),
        "form": form if form is not None else QuickTaskForm(),
        "can_add": has_permission(actor, ACTIVITIES_ADD),
        "can_change": has_permission(actor, ACTIVITIES_CHANGE),
        "now": timezone.now(),
        "events": TASKS_CHANGED_EVENT,
    }
    return render(request, "customers/partials/task_customer_panel.html", context, status=status)


@login_required
def customer_tasks(request: HttpRequest, customer_id: int) -> HttpResponse:
    """GET: the customer's open tasks with complete buttons and a quick add form. POST: quick add."""
    actor = actor_from_request(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    if request.method != "POST":
        return _render_customer_tasks(request, actor, customer)
    form = QuickTaskForm(request.POST)
    if form.is_valid():
        data = {"title": form.cleaned_data["title"], "due_at": form.cleaned_data["due_at"] or None}
        try:
            task_services.task_create(actor=actor, data={**data, "customer_id": customer.pk})
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
        else:
            if not _is_htmx(request):
                messages.success(request, _("The task is added."))
                return redirect("customers:customer_detail", customer_id=customer.pk)
            return _render_customer_tasks(request, actor, customer)
    return _render_customer_tasks(request, actor, customer, form=form, status=422)


# My tasks page and task forms ------------------------------------------------------------------


@login_required
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    """My tasks, by tab: all open, today, overdue, upcoming, done. Keyset pages of TASK_PAGE rows."""
    actor = actor_from_request(request)
    view = request.GET.get("view") or "open"
    if view not in dict(TASK_TABS):
        view = "open"
    filters = selectors.TaskFilters(view=view, mine=True)
    now = timezone.now()
    error = ""
    try:
        page = keyset_paginate(
            selectors.task_list(actor=actor, filters=filters, now=now),
            sort=filters.default_sort,
            cursor=request.GET.get("cursor") or None,
            page_size=TASK_PAGE,
        )
    except ValidationFailed as exc:
        error = "; ".join(m for msgs in exc.fields.values() for m in msgs) or exc.message
        page = keyset_paginate(
            selectors.task_list(actor=actor, filters=filters, now=now),
            sort=filters.default_sort,
            cursor=None,
            page_size=TASK_PAGE,
        )
    context = {
        "page": page,
        "view": view,
        "tabs": TASK_TABS,
        "now": now,
        "error": error,
        "can_change": has_permission(actor, ACTIVITIES_CHANGE),
        "can_add": has_permission(actor, ACTIVITIES_ADD),
    }
    return render(request, "customers/pages/task_list.html", context, status=422 if error else 200)


def _render_task_form(
    request: HttpRequest, form: TaskForm, task: Task | None, about: Customer | Lead | None, status: int = 200
) -> HttpResponse:
    about_url = ""
    if isinstance(about, Customer):
        about_url = reverse("customers:customer_detail", args=[about.pk])
    elif isinstance(about, Lead):
        about_url = reverse("customers:lead_detail", args=[about.pk])
    context = {"form": form, "task": task, "about": about, "about_url": about_url, "next": _safe_next(request, "")}
    return render(request, "customers/pages/task_form.html", context, status=status)


def _about_from_query(request: HttpRequest, actor: Actor) -> tuple[Customer | None, Lead | None]:
    """The customer or lead named by ?customer_id= / ?lead_id= (or the posted hidden fields), if visible."""
    source = request.POST if request.method == "POST" else request.GET
    customer_id = _int_or_none(source.get("customer") or source.get("customer_id"))
    lead_id = _int_or_none(source.get("lead") or source.get("lead_id"))
    customer = customer_get(actor=actor, customer_id=customer_id) if customer_id else None
    lead = lead_get(actor=actor, lead_id=lead_id) if lead_id and customer is None else None
    return customer, lead


@login_required
def task_create(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    customer, lead = _about_from_query(request, actor)
    about = customer or lead
    if request.method != "POST":
        initial = {
            "assignee": str(actor.user.pk),
            "customer": str(customer.pk) if customer else "",
            "lead": str(lead.pk) if lead else "",
        }
        form = TaskForm(initial=initial, assignees=_assignees(actor))
        return _render_task_form(request, form, None, about)
    form = TaskForm(request.POST, assignees=_assignees(actor))
    if form.is_valid():
        try:
            task = task_services.task_create(actor=actor, data=form.service_data(creating=True))
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("The task “%(title)s” is saved.") % {"title": task.title})
            return redirect(_safe_next(request, reverse("customers:task_list")))
    return _render_task_form(request, form, None, about, status=422)


@login_required
def task_edit(request: HttpRequest, task_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    task = selectors.task_get(actor=actor, task_id=task_id)
    about = task.customer or task.lead
    if request.method != "POST":
        initial = {
            "version": task.version,
            "title": task.title,
            "description": task.description,
            "kind": task.kind,
            "priority": task.priority,
            "due_at": _local_input(task.due_at),
            "remind_at": _local_input(task.remind_at),
            "assignee": str(task.assignee_id),
        }
        return _render_task_form(request, TaskForm(initial=initial, assignees=_assignees(actor)), task, about)
    form = TaskForm(request.POST, assignees=_assignees(actor))
    status = 422
    if form.is_valid():
        try:
            task_services.task_update(
                actor=actor,
                task=task,
                data=form.service_data(creating=False),
                expected_version=form.cleaned_data.get("version"),
            )
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
        except StaleVersion as exc:
            form.add_error(None, exc.message)
            status = 412
        else:
            messages.success(request, _("The task “%(title)s” is saved.") % {"title": form.cleaned_data["title"]})
            return redirect(_safe_next(request, reverse("customers:task_list")))
    return _render_task_form(request, form, task, about, status=status)


def _after_task_action(request: HttpRequest, actor: Actor, task_id: int) -> HttpResponse:
    """htmx: re-render what the button was in (a table row, a list item or the customer's panel)."""
    task = selectors.task_get(actor=actor, task_id=task_id)
    if not _is_htmx(request):
        return redirect(_safe_next(request, reverse("customers:task_list")))
    shown_in = request.POST.get("shown_in", "row")
    if shown_in == "customer" and task.customer is not None:
        # The panel is the response itself; announcing the change would make it load twice.
        return _render_customer_tasks(request, actor, task.customer)
    template = "customers/partials/task_item.html" if shown_in == "item" else "customers/partials/task_row.html"
    context = {
        "task": task,
        "now": timezone.now(),
        "shown_in": shown_in,
        "can_change": has_permission(actor, ACTIVITIES_CHANGE),
    }
    response = render(request, template, context)
    response["HX-Trigger"] = TASKS_CHANGED_EVENT
    return response


@login_required
@require_POST
def task_complete(request: HttpRequest, task_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    task = selectors.task_get(actor=actor, task_id=task_id)
    task_services.task_complete(actor=actor, task=task, result=request.POST.get("result", ""))
    if not _is_htmx(request):
        messages.success(request, _("The task “%(title)s” is done.") % {"title": task.title})
    return _after_task_action(request, actor, task_id)


@login_required
@require_POST
def task_reopen(request: HttpRequest, task_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    task_services.task_reopen(actor=actor, task=selectors.task_get(actor=actor, task_id=task_id))
    return _after_task_action(request, actor, task_id)


@login_required
@require_POST
def task_cancel(request: HttpRequest, task_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    task = selectors.task_get(actor=actor, task_id=task_id)
    task_services.task_cancel(actor=actor, task=task)
    if not _is_htmx(request):
        messages.success(request, _("The task “%(title)s” is cancelled.") % {"title": task.title})
    return _after_task_action(request, actor, task_id)

"""Settings pages of workflow rules: the list (with on/off toggles and the last run), the builder with its dry
run panel, and the run log (all rules, or one). Views parse the request, call the services and selectors, and
render; the builder's form state lives in builder.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.platform.automation import selectors, services
from guanxi.platform.automation.builder import BuilderState, builder_context
from guanxi.platform.automation.dry_run import DryRunResult, rule_dry_run
from guanxi.platform.automation.models import ActionStatus, Rule, RuleRun, RunStatus
from guanxi.platform.automation.permissions import AUTOMATION_MANAGE, AUTOMATION_VIEW
from guanxi.platform.automation.registry import record_type, record_types
from guanxi.platform.automation.summaries import TriggerSummaries, action_labels
from guanxi.platform.automation.triggers import TriggerKind
from guanxi.platform.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from guanxi.platform.core.filters import FilterParams
from guanxi.platform.core.pagination import keyset_paginate
from guanxi.platform.identity.scoping import has_permission
from guanxi.platform.identity.web.decorators import permission_required_page
from guanxi.platform.ui.actors import actor_from_request
from guanxi.platform.ui.pages import next_page_url

PAGE_SIZE = 50
RECORD_OPTIONS_LIMIT = 10


def _may_manage(request: HttpRequest) -> bool:
    return has_permission(actor_from_request(request), AUTOMATION_MANAGE)


# The list ----------------------------------------------------------------------------------------------


def _status_label(status: str | None) -> str:
    return str(RunStatus(status).label) if status in RunStatus.values else ""


def _rule_rows(rules: list[Rule]) -> list[dict[str, Any]]:
    summaries = TriggerSummaries()
    labels = {item.key: str(item.label) for item in record_types()}
    return [
        {
            "rule": rule,
            "record_type": labels.get(rule.record_type, rule.record_type),
            "trigger": summaries.of(rule),
            "actions": action_labels(rule),
            "last_status_label": _status_label(getattr(rule, "last_run_status", None)),
        }
        for rule in rules
    ]


@permission_required_page(AUTOMATION_VIEW)
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    params = FilterParams(request.GET)
    active = params.yes_no("active")
    kinds = [item.key for item in record_types()]
    filters = selectors.RuleFilters(
        record_type=params.choice("record_type", kinds),
        trigger_kind=params.choice("trigger_kind", TriggerKind),
        is_active=active,
        text=params.text("q"),
    )
    params.check()
    page = keyset_paginate(
        selectors.rule_list(actor=actor, filters=filters), sort="name", cursor=request.GET.get("cursor"),
        page_size=PAGE_SIZE,
    )  # fmt: skip
    return render(
        request,
        "automation/pages/rule_list.html",
        {
            "rows": _rule_rows(page.items),
            "next_url": next_page_url(request, page.next_cursor),
            "record_type_choices": [(item.key, str(item.label)) for item in record_types()],
            "trigger_kind_choices": TriggerKind.choices,
            "filters": filters,
            "active": request.GET.get("active", ""),
            "may_manage": _may_manage(request),
        },
    )


@permission_required_page(AUTOMATION_MANAGE)
@require_POST
def rule_toggle(request: HttpRequest, rule_id: int) -> HttpResponse:
    """Switch a rule on or off from the list; htmx swaps the row, a plain form post goes back to the list."""
    actor = actor_from_request(request)
    rule = selectors.rule_get(actor=actor, rule_id=rule_id)
    error = ""
    try:
        if request.POST.get("active") == "true":
            services.rule_activate(actor=actor, rule=rule)
        else:
            services.rule_deactivate(actor=actor, rule=rule)
    except ValidationFailed as exc:
        error = " ".join([exc.message, *(f"{key}: {' '.join(msgs)}" for key, msgs in exc.fields.items())])
    if request.headers.get("HX-Request"):
        rule = selectors.rule_list(actor=actor).get(pk=rule_id)
        row = _rule_rows([rule])[0]
        return render(request, "automation/partials/rule_row.html", {"row": row, "error": error, "may_manage": True})
    if error:
        messages.error(request, error)
    return redirect("automation:rule_list")


# The builder --------------------------------------------------------------------------------------------


def _render_builder(
    request: HttpRequest,
    state: BuilderState,
    rule: Rule | None,
    *,
    errors: dict[str, list[str]] | None = None,
    dry_run: DryRunResult | None = None,
    dry_run_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        **builder_context(state, errors),
        "rule": rule,
        "form_url": reverse("automation:rule_edit", args=[rule.pk]) if rule else reverse("automation:rule_create"),
        "dry_run": dry_run,
        "dry_run_errors": dry_run_errors or [],
        "record_id": request.POST.get("record_id", "") if request.method == "POST" else "",
    }
    if request.headers.get("HX-Request") and request.POST.get("op") == "dry_run":
        return render(request, "automation/partials/dry_run.html", context, status=status)
    if request.headers.get("HX-Request"):
        return render(request, "automation/partials/rule_builder.html", context, status=status)
    if rule is not None:
        actor = actor_from_request(request)
        context["history"] = selectors.rule_history(actor=actor, rule=rule)
        context["recent_runs"] = _run_rows(list(selectors.rule_run_list(
            actor=actor, filters=selectors.RunFilters(rule_id=rule.pk))[:10]))  # fmt: skip
    return render(request, "automation/pages/rule_builder.html", context, status=status)


def _dry_run(request: HttpRequest, state: BuilderState, rule: Rule | None) -> HttpResponse:
    actor = actor_from_request(request)
    raw = request.POST.get("record_pick") or request.POST.get("record_id", "")
    try:
        record_id = int(str(raw).strip())
    except ValueError:
        return _render_builder(request, state, rule, dry_run_errors=[_("Enter the id of a record, or search for one.")])
    data = state.data()
    data.pop("is_active", None)
    try:
        result = rule_dry_run(actor=actor, rule=data, record_id=record_id)
    except ValidationFailed as exc:
        lines = [f"{key}: {' '.join(msgs)}" for key, msgs in exc.fields.items()] or [exc.message]
        return _render_builder(request, state, rule, errors=exc.fields,
                               dry_run_errors=[_("Correct the rule first:"), *lines])  # fmt: skip
    except (NotFound, PermissionDenied) as exc:
        return _render_builder(request, state, rule, dry_run_errors=[exc.message])
    return _render_builder(request, state, rule, dry_run=result)


def _save(request: HttpRequest, state: BuilderState, rule: Rule | None) -> HttpResponse:
    actor = actor_from_request(request)
    try:
        if rule is None:
            saved = services.rule_create(actor=actor, data=state.data())
        else:
            saved = services.rule_update(actor=actor, rule=rule, data=state.data(), expected_version=state.version)
    except ValidationFailed as exc:
        return _render_builder(request, state, rule, errors=exc.fields, status=422)
    except Conflict as exc:
        return _render_builder(request, state, rule, errors={"rule": [exc.message]}, status=409)
    messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
    url = reverse("automation:rule_edit", args=[saved.pk])
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _builder(request: HttpRequest, rule: Rule | None) -> HttpResponse:
    if request.method != "POST":
        state = BuilderState.from_rule(rule) if rule else BuilderState.blank(request.GET.get("record_type", ""))
        return _render_builder(request, state, rule)
    state = BuilderState.from_post(request.POST)
    op = request.POST.get("op", "save")
    if op == "save":
        return _save(request, state, rule)
    if op == "dry_run":
        return _dry_run(request, state, rule)
    if op == "unlock_conditions":
        state.unlock_conditions()
    else:
        state.apply(op)
    return _render_builder(request, state, rule)


@permission_required_page(AUTOMATION_MANAGE)
@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest) -> HttpResponse:
    return _builder(request, None)


@permission_required_page(AUTOMATION_MANAGE)
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    return _builder(request, selectors.rule_get(actor=actor_from_request(request), rule_id=rule_id))


@permission_required_page(AUTOMATION_MANAGE)
@require_http_methods(["GET", "POST"])
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    rule = selectors.rule_get(actor=actor, rule_id=rule_id)
    if request.method == "POST":
        services.rule_delete(actor=actor, rule=rule)
        messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
        return redirect("automation:rule_list")
    return render(request, "automation/pages/rule_delete.html", {"rule": rule})


@permission_required_page(AUTOMATION_MANAGE)
@require_GET
def record_options(request: HttpRequest) -> HttpResponse:
    """The dry run's record search: up to ten records the user can see, as radio buttons in the builder form."""
    rtype = record_type(request.GET.get("record_type", ""))
    text = request.GET.get("record_q", "").strip()
    options: list[tuple[int, str]] = []
    if rtype is not None and rtype.search is not None and text:
        options = rtype.search(actor_from_request(request), text, RECORD_OPTIONS_LIMIT)
    return render(request, "automation/partials/record_options.html", {"options": options, "q": text})


# The run log ------------------------------------------------------------------------------------------------


def _outcome_label(status: str) -> str:
    return str(ActionStatus(status).label) if status in ActionStatus.values else status


def _run_rows(runs: list[RuleRun]) -> list[dict[str, Any]]:
    types = {item.key: item for item in record_types()}
    rows = []
    for run in runs:
        rtype = types.get(run.record_type)
        outcomes = [
            {**outcome, "status_label": _outcome_label(str(outcome.get("status", "")))} for outcome in run.outcomes
        ]
        rows.append(
            {
                "run": run,
                "record_type": str(rtype.label) if rtype else run.record_type,
                "record_url": rtype.url(run.record_id) if rtype else "",
                "outcomes": outcomes,
            }
        )
    return rows


@permission_required_page(AUTOMATION_VIEW)
@require_GET
def run_list(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    actor = actor_from_request(request)
    rule = selectors.rule_get(actor=actor, rule_id=rule_id) if rule_id is not None else None
    params = FilterParams(request.GET)
    filters = selectors.RunFilters(
        rule_id=rule.pk if rule is not None else params.integer("rule"),
        status=params.choice("status", RunStatus),
        record_type=params.choice("record_type", [item.key for item in record_types()]),
        record_id=params.integer("record_id"),
    )
    params.check()
    page = keyset_paginate(
        selectors.rule_run_list(actor=actor, filters=filters), sort="-id", cursor=request.GET.get("cursor"),
        page_size=PAGE_SIZE,
    )  # fmt: skip
    return render(
        request,
        "automation/pages/run_list.html",
        {
            "rule": rule,
            "rows": _run_rows(page.items),
            "next_url": next_page_url(request, page.next_cursor),
            "filters": filters,
            "status_choices": RunStatus.choices,
            "record_type_choices": [(item.key, str(item.label)) for item in record_types()],
        },
    )

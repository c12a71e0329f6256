"""Pool pages: the public pool (公海) with a claim button per row, returning a customer with a reason, the
ownership-and-pool panel of the 360° page, the handover page (客户交接) and the pool settings pages.

Thin: every rule (limits, cool-down, visibility, which pool) lives in the pool services and selectors."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from guanxi.customers.models import Pool
from guanxi.customers.models.choices import CustomerKind, LifecycleStage, Source
from guanxi.customers.permissions import CUSTOMERS_ASSIGN, POOL_CLAIM, POOL_MANAGE, POOL_RETURN
from guanxi.customers.selectors.customers import customer_get
from guanxi.customers.selectors.pool import (
    POOL_CUSTOMER_SORTS,
    PoolCustomerFilters,
    claim_cooldown_until,
    claimable_from,
    customer_pool_history,
    handover_candidates,
    handover_list,
    pool_change_history,
    pool_claim_allowances,
    pool_customers,
    pool_get,
    pool_is_usable_by,
    pool_list,
    pools_usable,
)
from guanxi.customers.services.handover import HandoverPlan, handover_check, handover_run
from guanxi.customers.services.pool import customer_claim_from_pool, pool_save
from guanxi.customers.services.pool import customer_return_to_pool as return_to_pool
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import Conflict, StaleVersion, ValidationFailed
from guanxi.platform.core.pagination import Page, keyset_paginate
from guanxi.platform.identity.models import Team, User
from guanxi.platform.identity.scoping import has_permission, require_permission
from guanxi.platform.identity.selectors import user_list
from guanxi.platform.ui.actors import actor_from_request
from guanxi.platform.ui.forms import add_domain_errors

PAGE_SIZE = 50
PANEL_HISTORY = 20
SORT_CHOICES = [
    ("-pool_entered_at", gettext_lazy("Newest in the pool")),
    ("pool_entered_at", gettext_lazy("Longest in the pool")),
    ("name", gettext_lazy("Name")),
    ("-last_contact_at", gettext_lazy("Recently contacted")),
]
FILTER_PARAMS = ("q", "pool_id", "kind", "source", "stage", "entered_from", "entered_to", "sort")


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _query(params: dict[str, Any]) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _error_text(exc: ValidationFailed) -> str:
    return "; ".join(m for msgs in exc.fields.values() for m in msgs) or exc.message


# --- the pool page -----------------------------------------------------------------------------------


def _allowance_context(actor: Actor, pools: list[Pool]) -> dict[str, Any]:
    can_claim = has_permission(actor, POOL_CLAIM)
    allowances = pool_claim_allowances(actor=actor, pools=pools) if can_claim and pools else []
    return {
        "can_claim": can_claim,
        "allowances": allowances,
        "owned": allowances[0].owned if allowances else 0,
        "claimed_today": allowances[0].claims_today if allowances else 0,
    }


@login_required
def pool_page(request: HttpRequest) -> HttpResponse:
    """Customers waiting in the pools the user may use, with filters, a claim button per row and the
    user's remaining claim allowance."""
    actor = actor_from_request(request)
    pools = list(pools_usable(actor=actor))
    sort = request.GET.get("sort") or "-pool_entered_at"
    error = ""
    try:
        filters = PoolCustomerFilters.from_params(request.GET)
        page = keyset_paginate(
            pool_customers(actor=actor, filters=filters, sort=sort),
            sort=sort,
            cursor=request.GET.get("cursor") or None,
            page_size=PAGE_SIZE,
        )
    except ValidationFailed as exc:
        error = _error_text(exc)
        page = Page(items=[], next_cursor=None, page_size=PAGE_SIZE)
    params = {name: request.GET.get(name, "") for name in FILTER_PARAMS}
    params["sort"] = sort if sort in POOL_CUSTOMER_SORTS else "-pool_entered_at"
    filtered = any(request.GET.get(name) for name in FILTER_PARAMS if name != "sort")
    context = {
        "rows": [{"customer": c, "claimable_from": claimable_from(c)} for c in page.items],
        "pools": pools,
        "params": params,
        "filtered": filtered,
        "error": error,
        "kind_choices": CustomerKind.choices,
        "source_choices": Source.choices,
        "stage_choices": LifecycleStage.choices,
        "sort_choices": SORT_CHOICES,
        "next_query": _query({**params, "cursor": page.next_cursor}) if page.next_cursor else "",
        "first_query": _query(params) if request.GET.get("cursor") else None,
        **_allowance_context(actor, pools),
    }
    return render(request, "customers/pages/pool.html", context, status=422 if error else 200)


@login_required
@require_POST
def pool_claim(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Claim one customer. From the pool page (htmx) the row is replaced by the outcome and the allowance
    refreshed; from the 360° panel (`from=panel`) the panel is re-rendered; without htmx, a redirect."""
    actor = actor_from_request(request)
    from_panel = request.POST.get("from") == "panel"
    try:
        customer = customer_claim_from_pool(actor=actor, customer_id=customer_id)
    except Conflict as exc:
        if not _is_htmx(request):
            messages.error(request, exc.message)
            return redirect("customers:pool")
        if from_panel:
            return _render_panel(request, actor, customer_id, error=exc.message, status=409)
        context = {"customer_id": customer_id, "message": exc.message, "ok": False, "columns": 8}
        return render(request, "customers/partials/pool_row_result.html", context, status=409)
    if not _is_htmx(request):
        messages.success(request, _("%(name)s is now your customer.") % {"name": customer.name})
        return redirect("customers:customer_detail", customer_id=customer.pk)
    if from_panel:
        notice = _("You are now the owner of this customer.")
        response = _render_panel(request, actor, customer.pk, notice=notice)
        _refresh_page(request, response, notice)
    else:
        pools = list(pools_usable(actor=actor))
        context = {
            "customer_id": customer.pk,
            "customer": customer,
            "ok": True,
            "columns": 8,
            "oob": True,
            **_allowance_context(actor, pools),
        }
        response = render(request, "customers/partials/pool_row_result.html", context)
    return trigger_client_event(response, "customerOwnershipChanged", {"customer_id": customer.pk})


# --- the 360° panel and returning a customer ---------------------------------------------------------


def _panel_context(actor: Actor, customer_id: int) -> dict[str, Any]:
    customer = customer_get(actor=actor, customer_id=customer_id)
    events = list(customer_pool_history(actor=actor, customer=customer)[:PANEL_HISTORY])
    pool = customer.pool
    in_pool = customer.in_pool and pool is not None
    cooldown_until = claim_cooldown_until(actor=actor, customer=customer) if in_pool else None
    can_claim = bool(
        in_pool
        and pool is not None
        and pool.is_active
        and has_permission(actor, POOL_CLAIM)
        and pool_is_usable_by(actor, pool)
        and cooldown_until is None
    )
    is_owner = customer.owner_id == actor.user.pk
    can_return = customer.owner_id is not None and (
        has_permission(actor, CUSTOMERS_ASSIGN) or (is_owner and has_permission(actor, POOL_RETURN))
    )
    return {
        "customer": customer,
        "events": events,
        "in_pool": in_pool,
        "can_claim": can_claim,
        "cooldown_until": cooldown_until,
        "can_return": can_return,
        "is_owner": is_owner,
    }


def _refresh_page(request: HttpRequest, response: HttpResponse, notice: str) -> None:
    """An ownership change touches the whole 360° page (header, history, tasks): reload it, with the notice
    carried over as a message. The panel in the response is what clients that ignore HX-Refresh show."""
    messages.success(request, notice)
    response["HX-Refresh"] = "true"


def _render_panel(
    request: HttpRequest, actor: Actor, customer_id: int, *, notice: str = "", error: str = "", status: int = 200
) -> HttpResponse:
    context = {**_panel_context(actor, customer_id), "notice": notice, "error": error}
    return render(request, "customers/partials/pool_panel.html", context, status=status)


@login_required
def customer_pool_panel(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The ownership-and-pool panel of the 360° page: status, claim/return buttons and the pool history."""
    return _render_panel(request, actor_from_request(request), customer_id)


class ReturnForm(forms.Form):
    """Raw input; the service says what is missing ("Say why.")."""

    reason = forms.CharField(
        label=gettext_lazy("Why does this customer go back to the pool?"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 300}),
    )


@login_required
def customer_return_to_pool(request: HttpRequest, customer_id: int) -> HttpResponse:
    """GET: the reason form (a partial for htmx, a page otherwise). POST: return the customer; errors are
    shown next to the field (422) or above the form (409); success re-renders the panel."""
    actor = actor_from_request(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    form = ReturnForm(request.POST or None)
    status = 200
    if request.method == "POST":
        form.is_valid()
        try:
            return_to_pool(actor=actor, customer=customer, reason=request.POST.get("reason", ""))
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
            status = 422
        except Conflict as exc:
            form.add_error(None, exc.message)
            status = 409
        else:
            if _is_htmx(request):
                notice = _("Returned to the pool.")
                response = retarget(_render_panel(request, actor, customer.pk, notice=notice), "#customer-pool-panel")
                response = reswap(response, "outerHTML")
                _refresh_page(request, response, notice)
                return trigger_client_event(response, "customerOwnershipChanged", {"customer_id": customer.pk})
            messages.success(request, _("%(name)s is back in the public pool.") % {"name": customer.name})
            return redirect("customers:customer_detail", customer_id=customer.pk)
    context = {"customer": customer, "form": form}
    template = "customers/partials/pool_return_form.html" if _is_htmx(request) else "customers/pages/pool_return.html"
    return render(request, template, context, status=status)


# --- handover ----------------------------------------------------------------------------------------


class HandoverForm(forms.Form):
    """Who hands over, to whom (a user or a pool), and why; choices come from the selectors."""

    TARGETS = [("user", gettext_lazy("Another user")), ("pool", gettext_lazy("A public pool"))]

    from_user = forms.ChoiceField(label=gettext_lazy("Hand over everything of"))
    target = forms.ChoiceField(label=gettext_lazy("To"), choices=TARGETS, initial="user", widget=forms.RadioSelect)
    to_user = forms.ChoiceField(label=gettext_lazy("User who takes over"), required=False)
    to_pool = forms.ChoiceField(label=gettext_lazy("Pool"), required=False)
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 300}),
        help_text=gettext_lazy("For example: left the company, changed region."),
    )

    def __init__(self, *args: Any, sources: list[User], receivers: list[User], pools: list[Pool], **kwargs: Any):
        super().__init__(*args, **kwargs)
        empty = [("", "—")]
        _set_choices(self, "from_user", empty + [(str(u.pk), _user_label(u)) for u in sources])
        _set_choices(self, "to_user", empty + [(str(u.pk), _user_label(u)) for u in receivers])
        _set_choices(self, "to_pool", empty + [(str(p.pk), p.name) for p in pools])

    def service_args(self) -> dict[str, Any]:
        data = self.cleaned_data
        to_pool = data.get("target") == "pool"
        return {
            "from_user_id": data.get("from_user") or None,
            "to_user_id": None if to_pool else (data.get("to_user") or None),
            "to_pool_id": (data.get("to_pool") or None) if to_pool else None,
            "reason": data.get("reason") or "",
        }


def _set_choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def _user_label(user: User) -> str:
    team = user.team.name if user.team_id and user.team else ""
    return f"{user} ({team})" if team else str(user)


@login_required
def handover(request: HttpRequest) -> HttpResponse:
    """Step 1: choose who, to whom and why, and see what would move. Step 2 (`confirm`): run it."""
    actor = actor_from_request(request)
    sources = list(handover_candidates(actor=actor))
    receivers = list(user_list(actor=actor, active_only=True))
    pools = list(pool_list(actor=actor).filter(is_active=True))
    initial = {"from_user": request.GET.get("from_user", "")}
    form = HandoverForm(request.POST or None, initial=initial, sources=sources, receivers=receivers, pools=pools)
    plan: HandoverPlan | None = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if request.POST.get("confirm"):
                    done = handover_run(actor=actor, **form.service_args())
                    messages.success(
                        request,
                        _("Handed over %(customers)s customers, %(tasks)s open tasks and %(leads)s leads.")
                        % {"customers": done.customers_moved, "tasks": done.tasks_moved, "leads": done.leads_moved},
                    )
                    return redirect("customers:handover")
                plan = handover_check(actor=actor, **form.service_args())
            except ValidationFailed as exc:
                add_domain_errors(form, exc)
                status = 422
        else:
            status = 422
    context = {
        "form": form,
        "plan": plan,
        "handovers": list(handover_list(actor=actor)[:20]),
    }
    return render(request, "customers/pages/handover.html", context, status=status)


# --- pool settings -----------------------------------------------------------------------------------


class PoolForm(forms.Form):
    """Raw input of a pool's settings; the service validates every value."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=100, required=False)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=300, required=False)
    team = forms.ChoiceField(
        label=gettext_lazy("Team"),
        required=False,
        help_text=gettext_lazy("Customers of this team and its sub-teams return here; empty for the whole company."),
    )
    max_owned_per_rep = forms.CharField(
        label=gettext_lazy("Most customers a rep may own"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1}),
        help_text=gettext_lazy("Claims stop at this many; empty for no limit."),
    )
    max_claims_per_day = forms.CharField(
        label=gettext_lazy("Most claims per rep per day"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1}),
        help_text=gettext_lazy("Empty for no limit."),
    )
    cooldown_days = forms.CharField(
        label=gettext_lazy("Cool-down days"),
        required=False,
        initial="0",
        widget=forms.NumberInput(attrs={"min": 0}),
        help_text=gettext_lazy("The previous owner may not claim a customer back for this many days."),
    )
    return_after_days_without_follow_up = forms.CharField(
        label=gettext_lazy("Return after days without follow-up"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1}),
        help_text=gettext_lazy("Checked every hour; empty to never return for this reason."),
    )
    return_after_days_without_deal = forms.CharField(
        label=gettext_lazy("Return after days without a deal"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1}),
        help_text=gettext_lazy("Checked every hour; empty to never return for this reason."),
    )
    is_default = forms.BooleanField(label=gettext_lazy("Default pool"), required=False)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    VALUE_FIELDS = (
        "name", "description", "max_owned_per_rep", "max_claims_per_day", "cooldown_days",
        "return_after_days_without_follow_up", "return_after_days_without_deal", "is_default", "is_active",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = Team.objects.order_by("path")
        _set_choices(self, "team", [("", _("Whole company")), *((str(t.pk), "· " * t.depth + t.name) for t in teams)])

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in self.VALUE_FIELDS}
        data["team_id"] = self.cleaned_data.get("team") or None
        return data


def _pool_initial(pool: Pool) -> dict[str, Any]:
    return {
        "name": pool.name,
        "description": pool.description,
        "team": str(pool.team_id or ""),
        "max_owned_per_rep": pool.max_owned_per_rep,
        "max_claims_per_day": pool.max_claims_per_day,
        "cooldown_days": pool.cooldown_days,
        "return_after_days_without_follow_up": pool.return_after_days_without_follow_up,
        "return_after_days_without_deal": pool.return_after_days_without_deal,
        "is_default": pool.is_default,
        "is_active": pool.is_active,
        "version": pool.version,
    }


@login_required
def pool_settings(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    require_permission(actor, POOL_MANAGE)
    return render(request, "customers/pages/pool_settings.html", {"pools": list(pool_list(actor=actor))})


@login_required
def pool_create(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    require_permission(actor, POOL_MANAGE)
    form = PoolForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            pool = pool_save(actor=actor, data=form.service_data())
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
            status = 422
        else:
            messages.success(request, _("The pool “%(name)s” is created.") % {"name": pool.name})
            return redirect("customers:pool_settings")
    elif request.method == "POST":
        status = 422
    return render(request, "customers/pages/pool_form.html", {"form": form, "pool": None}, status=status)


@login_required
def pool_edit(request: HttpRequest, pool_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    require_permission(actor, POOL_MANAGE)
    pool = pool_get(actor=actor, pool_id=pool_id)
    form = PoolForm(request.POST or None, initial=_pool_initial(pool))
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            pool_save(actor=actor, pool=pool, data=form.service_data(), expected_version=form.cleaned_data["version"])
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
            status = 422
        except StaleVersion as exc:
            form.add_error(None, exc.message)
            status = 412
        else:
            messages.success(request, _("The pool “%(name)s” is saved.") % {"name": form.cleaned_data["name"]})
            return redirect("customers:pool_settings")
    elif request.method == "POST":
        status = 422
    context = {"form": form, "pool": pool, "history": pool_change_history(actor=actor, pool=pool)}
    return render(request, "customers/pages/pool_form.html", context, status=status)

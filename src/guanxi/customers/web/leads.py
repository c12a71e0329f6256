"""Lead pages: the list with filters, capture and edit forms, the lead's page with its status actions,
and the conversion page that shows what will be created before one confirming click."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from guanxi.customers.models import Lead
from guanxi.customers.models.choices import LeadStatus, Source
from guanxi.customers.permissions import (
    CUSTOMERS_ASSIGN,
    LEADS_ADD,
    LEADS_CHANGE,
    LEADS_CONVERT,
    LEADS_DELETE,
)
from guanxi.customers.selectors import leads as selectors
from guanxi.customers.services import leads as services
from guanxi.platform.core.errors import Conflict, StaleVersion, ValidationFailed
from guanxi.platform.core.pagination import Page, keyset_paginate
from guanxi.platform.customfields.forms import add_custom_fields, custom_values_from_form
from guanxi.platform.customfields.models import FieldType
from guanxi.platform.customfields.values import active_definitions
from guanxi.platform.identity.scoping import can_see_personal_data, has_permission, require_permission
from guanxi.platform.ui.actors import actor_from_request
from guanxi.platform.ui.forms import add_domain_errors

PAGE_SIZE = 50
SORT_CHOICES = [
    ("-id", gettext_lazy("Newest first")),
    ("id", gettext_lazy("Oldest first")),
    ("name", gettext_lazy("Name")),
    ("-updated_at", gettext_lazy("Recently changed")),
]
STATUS_BADGES = {
    LeadStatus.NEW: "badge",
    LeadStatus.CONTACTED: "badge badge-warn",
    LeadStatus.QUALIFIED: "badge badge-ok",
    LeadStatus.UNQUALIFIED: "badge badge-err",
    LeadStatus.CONVERTED: "badge badge-ok",
}
FILTER_PARAMS = ("q", "status", "source", "owner", "created_from", "created_to", "sort")


class LeadForm(forms.Form):
    """Raw input of a lead; the service validates and normalises it."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    company_name = forms.CharField(label=gettext_lazy("Company"), max_length=200, required=False)
    job_title = forms.CharField(label=gettext_lazy("Job title"), max_length=100, required=False)
    phone = forms.CharField(
        label=gettext_lazy("Phone"), max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    email = forms.CharField(
        label=gettext_lazy("Email"), max_length=254, required=False, widget=forms.TextInput(attrs={"type": "email"})
    )
    wechat = forms.CharField(label=gettext_lazy("WeChat ID"), max_length=100, required=False)
    industry = forms.CharField(label=gettext_lazy("Industry"), max_length=100, required=False)
    address = forms.CharField(label=gettext_lazy("Address"), max_length=300, required=False)
    source = forms.ChoiceField(label=gettext_lazy("Source"), choices=[("", "—"), *Source.choices], required=False)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    BASIC_FIELDS = ("name", "company_name", "job_title", "phone", "email", "wechat", "industry", "address", "source")

    def __init__(self, *args: Any, can_assign: bool = False, lead: Lead | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if can_assign:
            users = get_user_model().objects.filter(is_active=True).order_by("username")
            self.fields["owner"] = forms.ChoiceField(
                label=gettext_lazy("Owner"),
                choices=[(str(u.pk), str(u)) for u in users],
                required=True,
            )
        self.custom_field_names = add_custom_fields(
            self, selectors.CUSTOM_FIELD_TARGET, lead.custom_fields if lead else None
        )

    def service_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: self.cleaned_data.get(name) or "" for name in (*self.BASIC_FIELDS, "description")}
        if "owner" in self.fields:
            data["owner_id"] = self.cleaned_data.get("owner")
        data["custom_fields"] = custom_values_from_form(self)
        return data


LEAD_TARGET = "customers.lead"  # the annotations type code of leads (tags, notes, files)


def _badge(status: str) -> str:
    return STATUS_BADGES.get(LeadStatus(status), "badge") if status in LeadStatus.values else "badge"


def _query(params: dict[str, Any]) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _custom_filters(request: HttpRequest) -> list[dict[str, Any]]:
    """Choice-like custom fields become select filters named "cf.<key>"."""
    rows = []
    for definition in active_definitions(selectors.CUSTOM_FIELD_TARGET):
        if definition.field_type in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
            choices = [(c["value"], definition.choice_label(c["value"])) for c in definition.choices]
        elif definition.field_type == FieldType.BOOLEAN:
            choices = [("true", _("Yes")), ("false", _("No"))]
        else:
            continue
        name = f"cf.{definition.key}"
        rows.append({"name": name, "label": definition.label, "choices": choices, "value": request.GET.get(name, "")})
    return rows


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    sort = request.GET.get("sort") or "-id"
    error = ""
    try:
        filters = selectors.LeadFilters.from_params(request.GET)
        page = keyset_paginate(
            selectors.lead_list(actor=actor, filters=filters, sort=sort),
            sort=sort,
            cursor=request.GET.get("cursor") or None,
            page_size=PAGE_SIZE,
        )
    except ValidationFailed as exc:
        selectors.lead_queryset(actor=actor)  # the permission check still applies
        error = "; ".join(m for msgs in exc.fields.values() for m in msgs) or exc.message
        page = Page(items=[], next_cursor=None, page_size=PAGE_SIZE)
    unmasked = can_see_personal_data(actor)
    rows = [
        {
            "lead": lead,
            "shown": selectors.lead_contact_display(lead, unmasked=unmasked, readable=True),
            "badge": _badge(lead.status),
        }
        for lead in page.items
    ]
    if unmasked:  # the page shows phones and emails in clear: one access-log entry, as the customer list does
        services.leads_record_personal_data_view(actor=actor, leads=page.items, detail={"page": "lead_list"})
    kept = {k: request.GET.get(k, "") for k in FILTER_PARAMS}
    kept.update({k: str(request.GET.get(k, "")) for k in request.GET if k.startswith("cf.")})
    filtered = any(v for k, v in kept.items() if k != "sort")
    context = {
        "rows": rows,
        "error": error,
        "params": kept,
        "filtered": filtered,
        "status_choices": [("open", _("Open (not converted or unqualified)")), *LeadStatus.choices],
        "source_choices": Source.choices,
        "sort_choices": SORT_CHOICES,
        "custom_filters": _custom_filters(request),
        "next_query": _query({**kept, "cursor": page.next_cursor}) if page.next_cursor else "",
        "first_query": _query(kept) if request.GET.get("cursor") else None,
        "can_add": has_permission(actor, LEADS_ADD),
    }
    return render(request, "customers/pages/lead_list.html", context, status=422 if error else 200)


def _render_form(request: HttpRequest, form: LeadForm, lead: Lead | None, status: int = 200) -> HttpResponse:
    return render(request, "customers/pages/lead_form.html", {"form": form, "lead": lead}, status=status)


@login_required
def lead_create(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    require_permission(actor, LEADS_ADD)
    can_assign = has_permission(actor, CUSTOMERS_ASSIGN)
    if request.method != "POST":
        form = LeadForm(can_assign=can_assign, initial={"owner": str(actor.user.pk)})
        return _render_form(request, form, None)
    form = LeadForm(request.POST, can_assign=can_assign)
    if form.is_valid():
        try:
            lead = services.lead_create(actor=actor, data=form.service_data())
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("The lead “%(name)s” is saved.") % {"name": lead.name})
            return redirect("customers:lead_detail", lead_id=lead.pk)
    return _render_form(request, form, None, status=422)


@login_required
def lead_edit(request: HttpRequest, lead_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    lead = selectors.lead_get(actor=actor, lead_id=lead_id)
    require_permission(actor, LEADS_CHANGE)
    can_assign = has_permission(actor, CUSTOMERS_ASSIGN)
    if request.method != "POST":
        initial = {name: getattr(lead, name) for name in (*LeadForm.BASIC_FIELDS, "description", "version")}
        initial["owner"] = str(lead.owner_id or "")
        form = LeadForm(initial=initial, can_assign=can_assign, lead=lead)
        return _render_form(request, form, lead)
    form = LeadForm(request.POST, can_assign=can_assign, lead=lead)
    status = 422
    if form.is_valid():
        try:
            lead = services.lead_update(
                actor=actor, lead=lead, data=form.service_data(), expected_version=form.cleaned_data.get("version")
            )
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
        except StaleVersion as exc:
            form.add_error(None, exc.message)
            status = 412
        except Conflict as exc:
            form.add_error(None, exc.message)
            status = 409
        else:
            messages.success(request, _("The lead “%(name)s” is saved.") % {"name": lead.name})
            return redirect("customers:lead_detail", lead_id=lead.pk)
    return _render_form(request, form, lead, status=status)


@login_required
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    lead = selectors.lead_get(actor=actor, lead_id=lead_id)
    shown = selectors.lead_contact_display_for(actor, lead)
    if shown.unmasked:
        services.lead_record_personal_data_view(actor=actor, lead=lead)
    is_open = lead.status != LeadStatus.CONVERTED
    context = {
        "lead": lead,
        "shown": shown,
        "badge": _badge(lead.status),
        "custom_fields": selectors.lead_custom_field_rows(lead),
        "history": selectors.lead_history(actor=actor, lead=lead),
        "can_change": is_open and has_permission(actor, LEADS_CHANGE),
        "can_convert": is_open and has_permission(actor, LEADS_CONVERT),
        "can_delete": has_permission(actor, LEADS_DELETE),
        "can_qualify": is_open and lead.status != LeadStatus.QUALIFIED,
        "can_disqualify": is_open and lead.status != LeadStatus.UNQUALIFIED,
        "panel_query": urlencode({"target": LEAD_TARGET, "object_id": lead.pk}),
    }
    return render(request, "customers/pages/lead_detail.html", context)


@login_required
@require_POST
def lead_qualify(request: HttpRequest, lead_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    lead = selectors.lead_get(actor=actor, lead_id=lead_id)
    try:
        services.lead_qualify(actor=actor, lead=lead, expected_version=_posted_version(request))
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The lead is marked qualified."))
    return redirect("customers:lead_detail", lead_id=lead.pk)


def _posted_version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


@login_required
def lead_disqualify(request: HttpRequest, lead_id: int) -> HttpResponse:
    """GET shows the reason form (a partial for htmx); POST marks the lead not qualified."""
    actor = actor_from_request(request)
    lead = selectors.lead_get(actor=actor, lead_id=lead_id)
    require_permission(actor, LEADS_CHANGE)
    errors: dict[str, list[str]] = {}
    reason = ""
    status = 200
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            services.lead_disqualify(actor=actor, lead=lead, reason=reason, expected_version=_posted_version(request))
        except ValidationFailed as exc:
            errors, status = exc.fields or {"reason": [exc.message]}, 422
        except Conflict as exc:
            errors, status = {"reason": [exc.message]}, exc.status
        else:
            messages.success(request, _("The lead is marked not qualified."))
            url = reverse("customers:lead_detail", args=[lead.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)  # type: ignore[attr-defined]
    template = (
        "customers/partials/lead_disqualify_form.html"
        if request.htmx  # type: ignore[attr-defined]
        else "customers/pages/lead_disqualify.html"
    )
    return render(request, template, {"lead": lead, "errors": errors, "reason": reason}, status=status)


@login_required
@require_POST
def lead_delete(request: HttpRequest, lead_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    lead = selectors.lead_get(actor=actor, lead_id=lead_id)
    name = lead.name
    services.lead_delete(actor=actor, lead=lead)
    messages.success(request, _("The lead “%(name)s” is deleted.") % {"name": name})
    return redirect("customers:lead_list")


CONVERT_MODES = ("create", "link", "none")


@login_required
def lead_convert(request: HttpRequest, lead_id: int) -> HttpResponse:
    """GET shows what will be created; POST (one confirming click) converts."""
    actor = actor_from_request(request)
    lead = selectors.lead_get(actor=actor, lead_id=lead_id)
    require_permission(actor, LEADS_CONVERT)
    if lead.status == LeadStatus.CONVERTED:
        messages.info(request, _("This lead has already been converted."))
        return redirect("customers:lead_detail", lead_id=lead.pk)
    errors: dict[str, list[str]] = {}
    error_message = ""
    status = 200
    mode = request.POST.get("organisation") or ""
    chosen_org = request.POST.get("organisation_id") or ""
    if request.method == "POST":
        try:
            result = services.lead_convert(actor=actor, lead=lead, **_convert_choice(mode, chosen_org),
                                           expected_version=_posted_version(request))  # fmt: skip
        except ValidationFailed as exc:
            errors, error_message, status = exc.fields, exc.message, 422
        except Conflict as exc:
            error_message, status = exc.message, exc.status
        else:
            messages.success(request, _("The lead is converted into a customer."))
            return redirect("customers:customer_detail", customer_id=result.customer.pk)
    search = request.GET.get("org_q", "") or request.POST.get("org_q", "")
    preview = selectors.lead_conversion_preview(actor=actor, lead=lead, search=search)
    context = {
        "lead": lead,
        "preview": preview,
        "mode": mode if mode in CONVERT_MODES else ("link" if search and preview.candidates else preview.default_mode),
        "chosen_org": chosen_org,
        "org_q": search,
        "errors": errors,
        "error_message": error_message,
    }
    return render(request, "customers/pages/lead_convert.html", context, status=status)


def _convert_choice(mode: str, organisation_id: str) -> dict[str, Any]:
    """The organisation choice of the convert page as `lead_convert` arguments."""
    if mode == "link":
        if not organisation_id.isdigit():
            raise ValidationFailed.for_field("organisation_id", _("Choose the organisation to link."))
        return {"organisation_id": int(organisation_id), "create_organisation": False}
    if mode == "create":
        return {"organisation_id": None, "create_organisation": True}
    if mode == "none":
        return {"organisation_id": None, "create_organisation": False}
    raise ValidationFailed.for_field("organisation", _("Choose what to do with the company."))

"""Customer pages: the list (filters, sort, saved views, keyset pages, bulk actions), the 360° record with
its htmx panels, contact point editing, the change history, and the create, edit and delete forms.

Views parse input, call one selector or service and render; rules and permissions live in the services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from guanxi.customers.models import ContactPoint, Customer
from guanxi.customers.models.choices import Consent, ContactKind, CustomerKind, LifecycleStage
from guanxi.customers.permissions import (
    CUSTOMERS_ADD,
    CUSTOMERS_ASSIGN,
    CUSTOMERS_CHANGE,
    CUSTOMERS_DELETE,
    CUSTOMERS_VIEW,
    POOL_RETURN,
)
from guanxi.customers.selectors.customers import (
    CUSTOM_FIELD_TARGET,
    SORTS,
    CustomerFilters,
    customer_contact_points,
    customer_get,
    customer_people,
    organisation_choices,
    organisation_visible,
)
from guanxi.customers.selectors.customers import (
    customer_list as customer_list_query,
)
from guanxi.customers.selectors.history import customer_history as customer_history_entries
from guanxi.customers.selectors.presentation import display_contact_value, id_number_for
from guanxi.customers.selectors.search import organisation_matches
from guanxi.customers.services import contact_points as contact_point_services
from guanxi.customers.services import customers as customer_services
from guanxi.customers.services.pool import customers_return_to_pool_bulk
from guanxi.customers.web.forms import ContactPointForm, CustomerFilterForm, CustomerForm
from guanxi.platform.annotations.selectors import tag_choices, tags_for_objects
from guanxi.platform.annotations.services import tags_assign
from guanxi.platform.audit.models import AccessLogEntry
from guanxi.platform.audit.services import access_log_record
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import DomainError, NotFound, StaleVersion, ValidationFailed
from guanxi.platform.core.pagination import Page, keyset_paginate
from guanxi.platform.customfields.models import FieldType
from guanxi.platform.customfields.values import active_definitions, display_value
from guanxi.platform.identity.scoping import can_see_personal_data, has_permission, require_permission
from guanxi.platform.identity.selectors import team_list, user_choices, user_list
from guanxi.platform.ui.actors import actor_from_request
from guanxi.platform.ui.forms import add_domain_errors
from guanxi.platform.ui.selectors import saved_views_for
from guanxi.platform.ui.services import clean_view_query, saved_view_delete, saved_view_save

PAGE_SIZE = 50
DEFAULT_SORT = "-id"
NULLABLE_SORT_FIELDS = frozenset({"last_contact_at", "next_follow_up_at"})
LIST_PARAMS_NOT_FILTERS = frozenset({"sort", "cursor"})
ORGANISATION_SELECT_LIMIT = 200  # from this many visible organisations on, the form offers a search instead
ORGANISATION_OPTIONS_LIMIT = 20
PEOPLE_LIMIT = 200
HISTORY_LIMIT = 50
SORT_LABELS = {
    "-id": gettext_lazy("Newest first"),
    "id": gettext_lazy("Oldest first"),
    "name": gettext_lazy("Name A–Z"),
    "-name": gettext_lazy("Name Z–A"),
    "-created_at": gettext_lazy("Created, newest first"),
    "created_at": gettext_lazy("Created, oldest first"),
    "-last_contact_at": gettext_lazy("Last contact, most recent first"),
    "last_contact_at": gettext_lazy("Last contact, longest ago first"),
    "-rating": gettext_lazy("Rating, highest first"),
    "next_follow_up_at": gettext_lazy("Next follow-up, soonest first"),
}
EXPORT_TOOLTIP = gettext_lazy("Export arrives with data import/export")


def _query_without(params: QueryDict, *names: str) -> str:
    copy = params.copy()
    for name in names:
        copy.pop(name, None)
    return clean_view_query(copy.urlencode())


def _with_query(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url


# ---------------------------------------------------------------------------------------------- list


@dataclass
class CustomerRow:
    """One row of the list: the customer and what it shows, masked for roles without personal data.

    Everything a row prints is prepared here in Python: in the template, `{% url %}`, `|date` and the
    choice labels cost about 2 ms a row, a third of the page at 50 rows (docs/performance.md).
    """

    customer: Customer
    phone: str = ""
    email: str = ""
    tags: list[Any] = field(default_factory=list)
    url: str = ""
    organisation_url: str = ""
    kind_label: str = ""
    stage_label: str = ""
    owner_name: str = ""
    stars: str = ""
    last_contact_iso: str = ""
    last_contact_day: str = ""
    follow_up_iso: str = ""
    follow_up_text: str = ""
    follow_up_overdue: bool = False


ID_PLACEHOLDER = 987654321


def _detail_url_maker() -> Any:
    """A function id -> customer page URL, reversing once per page instead of once per row."""
    pattern = reverse("customers:customer_detail", kwargs={"customer_id": ID_PLACEHOLDER})
    return lambda pk: pattern.replace(str(ID_PLACEHOLDER), str(pk))


def _local(value: Any) -> Any:
    return timezone.localtime(value) if value is not None else None


def _present(row: CustomerRow, labels: dict[str, dict[str, str]], url_for: Any, now: Any) -> None:
    customer = row.customer
    row.url = url_for(customer.pk)
    if customer.organisation_id is not None:
        row.organisation_url = url_for(customer.organisation_id)
    if customer.is_organisation:
        row.kind_label = labels["kind"].get(customer.kind, customer.kind)
    row.stage_label = labels["stage"].get(customer.lifecycle_stage, customer.lifecycle_stage)
    row.owner_name = str(customer.owner) if customer.owner_id is not None and customer.owner is not None else ""
    row.stars = "★" * customer.rating + "☆" * (5 - customer.rating)
    last_contact = _local(customer.last_contact_at)
    if last_contact is not None:
        row.last_contact_iso, row.last_contact_day = last_contact.isoformat(), last_contact.strftime("%Y-%m-%d")
    follow_up = _local(customer.next_follow_up_at)
    if follow_up is not None:
        row.follow_up_iso, row.follow_up_text = follow_up.isoformat(), follow_up.strftime("%Y-%m-%d %H:%M")
        row.follow_up_overdue = customer.next_follow_up_at < now


def _rows(actor: Actor, page: Page[Customer]) -> list[CustomerRow]:
    unmasked = can_see_personal_data(actor)
    tags = tags_for_objects(target=CUSTOM_FIELD_TARGET, object_ids=[c.pk for c in page.items])
    labels = {
        "kind": {value: str(label) for value, label in CustomerKind.choices},
        "stage": {value: str(label) for value, label in LifecycleStage.choices},
    }
    url_for = _detail_url_maker()
    now = timezone.now()
    rows = []
    for customer in page.items:
        row = CustomerRow(customer=customer, tags=list(tags.get(customer.pk, [])))
        for point in getattr(customer, "primary_points", []):
            shown = display_contact_value(point.kind, point.value, unmasked=unmasked, readable=True)
            if point.kind == ContactKind.PHONE and not row.phone:
                row.phone = shown
            elif point.kind == ContactKind.EMAIL and not row.email:
                row.email = shown
        _present(row, labels, url_for, now)
        rows.append(row)
    return rows


def _log_list_access(actor: Actor, rows: list[CustomerRow]) -> None:
    """One access-log entry per list page that showed unmasked phones or emails."""
    if not rows or not can_see_personal_data(actor) or not any(r.phone or r.email for r in rows):
        return
    access_log_record(
        actor=actor,
        action=AccessLogEntry.Action.VIEW_PERSONAL_DATA,
        object_type=CUSTOM_FIELD_TARGET,
        record_count=len(rows),
        detail={"page": "customer_list", "ids": [r.customer.pk for r in rows]},
    )


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    require_permission(actor, CUSTOMERS_VIEW)
    definitions = active_definitions(CUSTOM_FIELD_TARGET)
    tags = list(tag_choices(actor=actor))
    users = user_choices(actor=actor)
    filter_form = CustomerFilterForm(
        request.GET,
        users=users,
        teams=team_list(actor=actor),
        tags=tags,
        sorts=list(SORT_LABELS.items()),
        definitions=definitions,
    )
    filter_form.is_valid()
    sort = request.GET.get("sort") or DEFAULT_SORT
    page: Page[Customer] | None = None
    status = 200
    try:
        filters = CustomerFilters.from_params(request.GET)
        qs = customer_list_query(actor=actor, filters=filters, sort=sort)
        page = keyset_paginate(
            qs,
            sort=SORTS[sort],
            cursor=request.GET.get("cursor") or None,
            page_size=PAGE_SIZE,
            nullable=SORTS[sort].lstrip("-") in NULLABLE_SORT_FIELDS,
        )
    except ValidationFailed as exc:
        status = 422
        if "cursor" in exc.fields:
            filter_form.add_error(None, exc.fields.pop("cursor")[0])
        if exc.fields:
            add_domain_errors(filter_form, exc)
    rows = _rows(actor, page) if page is not None else []
    _log_list_access(actor, rows)
    list_url = reverse("customers:customer_list")
    query = _query_without(request.GET, "cursor")
    next_url = ""
    if page is not None and page.next_cursor:
        next_url = _with_query(list_url, "&".join(p for p in (query, f"cursor={page.next_cursor}") if p))
    context = {
        "filter_form": filter_form,
        "rows": rows,
        "query": query,
        "list_url": list_url,
        "first_url": _with_query(list_url, query) if request.GET.get("cursor") else "",
        "next_url": next_url,
        "has_filters": any(v for k, v in request.GET.items() if k not in LIST_PARAMS_NOT_FILTERS),
        "now": timezone.now(),
        "can_add": has_permission(actor, CUSTOMERS_ADD),
        "can_assign": has_permission(actor, CUSTOMERS_ASSIGN),
        "can_tag": has_permission(actor, CUSTOMERS_CHANGE),
        "can_return": has_permission(actor, POOL_RETURN),
        "owners": users,
        "tags": tags,
        "export_tooltip": EXPORT_TOOLTIP,
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "customers/partials/customer_results.html", context, status=status)
    context["saved_views"] = list(saved_views_for(actor=actor, target=CUSTOM_FIELD_TARGET))
    return render(request, "customers/pages/customer_list.html", context, status=status)


def _selected_ids(request: HttpRequest) -> list[int]:
    ids = []
    for raw in request.POST.getlist("ids"):
        try:
            ids.append(int(raw))
        except ValueError:
            continue
    if not ids:
        raise ValidationFailed.for_field("ids", _("Select at least one customer."))
    return ids


def _required_id(request: HttpRequest, name: str, message: str) -> int:
    try:
        return int(request.POST.get(name, ""))
    except ValueError:
        raise ValidationFailed.for_field(name, message) from None


def _error_text(exc: DomainError) -> str:
    details = [message for messages_ in exc.fields.values() for message in messages_]
    return " ".join(details) if details else exc.message


@login_required
@require_POST
def customer_bulk(request: HttpRequest) -> HttpResponse:
    """Bulk actions on the selected rows; back to the same filtered list with a message."""
    actor = actor_from_request(request)
    back = _with_query(reverse("customers:customer_list"), clean_view_query(request.POST.get("query", "")))
    action = request.POST.get("action", "")
    try:
        ids = _selected_ids(request)
        if action == "assign":
            owner_id = _required_id(request, "owner_id", _("Choose the new owner."))
            count = customer_services.customers_assign_owner(actor=actor, customer_ids=ids, owner_id=owner_id)
            messages.success(
                request, ngettext("%(n)d customer assigned.", "%(n)d customers assigned.", count) % {"n": count}
            )
        elif action == "tag":
            tag_id = _required_id(request, "tag_id", _("Choose a tag."))
            count = tags_assign(actor=actor, target=CUSTOM_FIELD_TARGET, object_ids=ids, tag_id=tag_id)
            messages.success(
                request, ngettext("%(n)d customer tagged.", "%(n)d customers tagged.", count) % {"n": count}
            )
        elif action == "return":
            reason = request.POST.get("reason", "")
            count = customers_return_to_pool_bulk(actor=actor, customer_ids=ids, reason=reason)
            messages.success(
                request,
                ngettext("%(n)d customer returned to the pool.", "%(n)d customers returned to the pool.", count)
                % {"n": count},
            )
        else:
            raise ValidationFailed.for_field("action", _("Choose an action."))
    except DomainError as exc:
        messages.error(request, _error_text(exc))
    return redirect(back)


@login_required
@require_POST
def customer_view_save(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    query = request.POST.get("query", "")
    try:
        view = saved_view_save(
            actor=actor,
            target=CUSTOM_FIELD_TARGET,
            name=request.POST.get("name", ""),
            query=query,
            is_shared=bool(request.POST.get("is_shared")),
        )
    except ValidationFailed as exc:
        messages.error(request, _error_text(exc))
        return redirect(_with_query(reverse("customers:customer_list"), clean_view_query(query)))
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(_with_query(reverse("customers:customer_list"), view.query))


@login_required
@require_POST
def customer_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    saved_view_delete(actor=actor_from_request(request), saved_view_id=view_id)
    messages.success(request, _("Saved view deleted."))
    return redirect("customers:customer_list")


# ---------------------------------------------------------------------------------------------- 360° page


@dataclass
class ShownContactPoint:
    point: ContactPoint
    shown_value: str
    unmasked: bool = False

    @property
    def href(self) -> str:
        """tel:/mailto: links, so a rep on a phone can call or write with one tap (never for masked values)."""
        if not self.unmasked:
            return ""
        if self.point.kind == ContactKind.PHONE:
            return "tel:" + self.point.value.split(";", 1)[0]
        if self.point.kind == ContactKind.EMAIL:
            return "mailto:" + self.point.value
        return ""

    @property
    def consent_class(self) -> str:
        classes: dict[str, str] = {Consent.GRANTED: "badge-ok", Consent.WITHDRAWN: "badge-err"}
        return classes.get(self.point.consent, "")


def _shown_points(actor: Actor, customer: Customer) -> list[ShownContactPoint]:
    unmasked = can_see_personal_data(actor)
    return [
        ShownContactPoint(
            point=p,
            shown_value=display_contact_value(p.kind, p.value, unmasked=unmasked, readable=True),
            unmasked=unmasked,
        )
        for p in customer_contact_points(actor=actor, customer=customer)
    ]


def _custom_field_rows(actor: Actor, customer: Customer) -> list[tuple[str, str]]:
    definitions = active_definitions(CUSTOM_FIELD_TARGET)
    values = customer.custom_fields or {}
    user_ids = [
        int(values[d.key])
        for d in definitions
        if d.field_type == FieldType.USER and str(values.get(d.key, "")).isdigit()
    ]
    users = {u.pk: str(u) for u in user_list(actor=actor).filter(pk__in=user_ids)} if user_ids else {}
    return [(d.label, display_value(d, values.get(d.key), users)) for d in definitions]


def _contact_points_context(request: HttpRequest, actor: Actor, customer: Customer) -> dict[str, Any]:
    return {
        "customer": customer,
        "points": _shown_points(actor, customer),
        "can_change": has_permission(actor, CUSTOMERS_CHANGE),
    }


@login_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    points_context = _contact_points_context(request, actor, customer)
    id_number = id_number_for(actor, customer)
    unmasked = can_see_personal_data(actor)
    shown = [name for name, present in (("contact_points", points_context["points"]),
                                        ("id_number", customer.id_number_encrypted)) if present]  # fmt: skip
    if unmasked and shown:
        access_log_record(
            actor=actor,
            action=AccessLogEntry.Action.VIEW_PERSONAL_DATA,
            object_type=CUSTOM_FIELD_TARGET,
            object_id=customer.pk,
            detail={"page": "customer_detail", "fields": shown},
        )
    people = (
        list(customer_people(actor=actor, organisation=customer)[:PEOPLE_LIMIT]) if customer.is_organisation else []
    )
    context = {
        **points_context,
        "id_number": id_number,
        "people": people,
        "custom_fields": _custom_field_rows(actor, customer),
        "can_delete": has_permission(actor, CUSTOMERS_DELETE),
        "now": timezone.now(),
        "panel_query": f"target={CUSTOM_FIELD_TARGET}&object_id={customer.pk}",
    }
    return render(request, "customers/pages/customer_detail.html", context)


@login_required
def customer_history(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    entries = customer_history_entries(actor=actor, customer=customer, limit=HISTORY_LIMIT)
    return render(request, "customers/partials/customer_history.html", {"customer": customer, "entries": entries})


# ---------------------------------------------------------------------------------------------- contact points


def _contact_points_response(request: HttpRequest, actor: Actor, customer: Customer) -> HttpResponse:
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("customers:customer_detail", customer_id=customer.pk)
    return render(
        request, "customers/partials/customer_contact_points.html", _contact_points_context(request, actor, customer)
    )


def _contact_point_form_response(
    request: HttpRequest, customer: Customer, form: ContactPointForm, *, point: ContactPoint | None, status: int
) -> HttpResponse:
    form_id = f"contact-point-form-{point.pk if point else 'new'}"
    context = {"customer": customer, "form": form, "point": point, "form_id": form_id}
    if not request.htmx:  # type: ignore[attr-defined]
        return render(request, "customers/pages/customer_contact_point.html", context, status=status)
    response = render(request, "customers/partials/customer_contact_point_form.html", context, status=status)
    if status != 200:
        reswap(retarget(response, f"#{form_id}"), "outerHTML")
    return response


@login_required
def customer_contact_points_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    return render(
        request, "customers/partials/customer_contact_points.html", _contact_points_context(request, actor, customer)
    )


@login_required
@require_http_methods(["GET", "POST"])
def customer_contact_point_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    require_permission(actor, CUSTOMERS_CHANGE)
    if request.method == "GET":
        form = ContactPointForm(initial={"kind": request.GET.get("kind", ContactKind.PHONE)})
        return _contact_point_form_response(request, customer, form, point=None, status=200)
    form = ContactPointForm(request.POST)
    form.is_valid()
    try:
        contact_point_services.contact_point_add(actor=actor, customer=customer, data=form.service_data())
    except ValidationFailed as exc:
        add_domain_errors(form, exc)
        return _contact_point_form_response(request, customer, form, point=None, status=422)
    return _contact_points_response(request, actor, customer)


def _visible_point(actor: Actor, customer: Customer, point_id: int) -> ContactPoint:
    for shown in _shown_points(actor, customer):
        if shown.point.pk == point_id:
            return shown.point
    raise NotFound()


@login_required
@require_http_methods(["GET", "POST"])
def customer_contact_point_edit(request: HttpRequest, customer_id: int, point_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    require_permission(actor, CUSTOMERS_CHANGE)
    point = _visible_point(actor, customer, point_id)
    if request.method == "GET":
        initial = {name: getattr(point, name) for name in ("value", "label", "is_primary", "consent", "consent_source")}
        form = ContactPointForm(initial={**initial, "version": point.version}, editing=True)
        return _contact_point_form_response(request, customer, form, point=point, status=200)
    form = ContactPointForm(request.POST, editing=True)
    form.is_valid()
    try:
        contact_point_services.contact_point_update(
            actor=actor, customer=customer, point_id=point.pk, data=form.service_data(),
            expected_version=form.expected_version(),
        )  # fmt: skip
    except StaleVersion as exc:
        form.add_error(None, exc.message)
        return _contact_point_form_response(request, customer, form, point=point, status=exc.status)
    except ValidationFailed as exc:
        add_domain_errors(form, exc)
        return _contact_point_form_response(request, customer, form, point=point, status=422)
    return _contact_points_response(request, actor, customer)


@login_required
@require_POST
def customer_contact_point_remove(request: HttpRequest, customer_id: int, point_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    contact_point_services.contact_point_remove(actor=actor, customer=customer, point_id=point_id)
    return _contact_points_response(request, actor, customer)


# ---------------------------------------------------------------------------------------------- create, edit, delete


def _customer_form(request: HttpRequest, actor: Actor, customer: Customer | None) -> CustomerForm:
    """A select of the visible organisations while there are few (one bounded query), else the picker."""
    exclude_id = customer.pk if customer is not None else None
    choices = organisation_choices(actor=actor, limit=ORGANISATION_SELECT_LIMIT, exclude_id=exclude_id)
    current = customer.organisation if customer is not None else None
    data = request.POST if request.method == "POST" else None
    organisations: list[Customer] | None = choices
    chosen = None
    if len(choices) >= ORGANISATION_SELECT_LIMIT:
        organisations = None
        raw = data.get("organisation", "") if data is not None else str(current.pk if current else "")
        chosen = current if current is not None and raw == str(current.pk) else None
        if chosen is None and raw:
            chosen = organisation_visible(actor=actor, organisation_id=raw)
    elif current is not None and current not in choices:
        choices.insert(0, current)
    owners = list(user_list(actor=actor, active_only=True)) if has_permission(actor, CUSTOMERS_ASSIGN) else None
    return CustomerForm(data, customer=customer, organisations=organisations, chosen_organisation=chosen, owners=owners)


@login_required
def organisation_options(request: HttpRequest) -> HttpResponse:
    """The organisation picker's suggestions: up to 20 visible organisations matching `q`."""
    actor = actor_from_request(request)
    text = request.GET.get("q", "")
    exclude = request.GET.get("exclude", "")
    options = organisation_matches(
        actor=actor, text=text, limit=ORGANISATION_OPTIONS_LIMIT, exclude_id=int(exclude) if exclude.isdigit() else None
    )
    return render(request, "customers/partials/organisation_options.html", {"options": options, "q": text.strip()})


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    require_permission(actor, CUSTOMERS_ADD)
    form = _customer_form(request, actor, None)
    status = 200
    if request.method == "POST":
        form.is_valid()
        try:
            customer = customer_services.customer_create(actor=actor, data=form.service_data())
        except ValidationFailed as exc:
            form.add_service_errors(exc)
            status = 422
        else:
            messages.success(request, _("Customer “%(name)s” created.") % {"name": customer.name})
            return redirect("customers:customer_detail", customer_id=customer.pk)
    return render(request, "customers/pages/customer_form.html", {"form": form, "customer": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    require_permission(actor, CUSTOMERS_CHANGE)
    form = _customer_form(request, actor, customer)
    status = 200
    stale = False
    if request.method == "POST":
        form.is_valid()
        try:
            if form.expected_version() is None:
                raise StaleVersion()
            customer_services.customer_update(
                actor=actor, customer=customer, data=form.service_data(), expected_version=form.expected_version()
            )
        except StaleVersion as exc:
            form.add_error(None, exc.message)
            status, stale = exc.status, True
        except ValidationFailed as exc:
            form.add_service_errors(exc)
            status = 422
        else:
            messages.success(request, _("Customer “%(name)s” saved.") % {"name": customer.name})
            return redirect("customers:customer_detail", customer_id=customer.pk)
    context = {"form": form, "customer": customer, "stale": stale}
    return render(request, "customers/pages/customer_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def customer_delete(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    require_permission(actor, CUSTOMERS_DELETE)
    error = ""
    if request.method == "POST":
        try:
            customer_services.customer_delete(actor=actor, customer=customer)
        except ValidationFailed as exc:
            error = _error_text(exc)
        else:
            messages.success(request, _("Customer “%(name)s” deleted.") % {"name": customer.name})
            return redirect("customers:customer_list")
    return render(
        request, "customers/pages/customer_delete.html", {"customer": customer, "error": error},
        status=422 if error else 200,
    )  # fmt: skip

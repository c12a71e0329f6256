"""Reading leads: the scoped list with filters, one lead, how its personal data is shown, and the
organisations a lead may be linked to when it is converted."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from guanxi.customers.models import Customer, Lead
from guanxi.customers.models.choices import ContactKind, CustomerKind, LeadStatus, Source
from guanxi.customers.permissions import CUSTOMERS_VIEW, LEADS_VIEW
from guanxi.customers.selectors.presentation import display_contact_value
from guanxi.customers.selectors.search import customer_search_q, lead_search_q
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound, ValidationFailed
from guanxi.platform.core.filters import FilterParams, day_range_q
from guanxi.platform.customfields.filters import custom_field_filter_q
from guanxi.platform.customfields.values import active_definitions, clean_value
from guanxi.platform.identity.scoping import can_see_personal_data, has_permission, require_permission
from guanxi.platform.identity.selectors import owner_filter_q

CUSTOM_FIELD_TARGET = "customers.lead"
CUSTOMER_CUSTOM_FIELD_TARGET = "customers.customer"

# Sort keys a lead list accepts; keyset pagination breaks ties by id.
SORTS = ("-id", "id", "name", "-name", "-created_at", "created_at", "-updated_at", "updated_at")


@dataclass
class LeadFilters:
    """What a lead list can be filtered by (UI query string and API parameters alike)."""

    q: str = ""
    status: str = ""
    open_only: bool = False  # everything but converted and unqualified
    source: str = ""
    owner: str = ""  # "me" or "none"
    owner_id: int | None = None
    team_id: int | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    custom: dict[str, str] = field(default_factory=dict)  # {"cf.key": value}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> LeadFilters:
        """Parse query parameters; bad values raise ValidationFailed naming every bad parameter.

        `owner` takes "me", "none" or a user id (the same as `owner_id`).
        """
        read = FilterParams(params)
        owner = read.text("owner")
        owner_id = read.integer("owner_id")
        if owner and owner not in ("me", "none"):
            owner_id = read.integer("owner", owner)
            owner = ""
        status = read.text("status")
        open_only = status == "open"
        filters = cls(
            q=read.text("q"),
            status="" if open_only else read.choice("status", LeadStatus),
            open_only=open_only,
            source=read.choice("source", Source),
            owner=owner,
            owner_id=owner_id,
            team_id=read.integer("team_id"),
            created_from=read.date("created_from"),
            created_to=read.date("created_to"),
            custom=read.custom_fields(),
        )
        read.check()
        return filters


def lead_queryset(*, actor: Actor) -> QuerySet[Lead]:
    """All leads the actor may see: the base of every lead read."""
    require_permission(actor, LEADS_VIEW)
    return Lead.objects.visible_to(actor)


def lead_list(*, actor: Actor, filters: LeadFilters | None = None, sort: str = "-id") -> QuerySet[Lead]:
    """The scoped, filtered, sorted lead list; a row's owner and team come in the same query."""
    f = filters or LeadFilters()
    if sort not in SORTS:
        raise ValidationFailed.for_field("sort", _("Choose a sort order from the list."))
    qs = lead_queryset(actor=actor)
    if f.q:
        qs = qs.filter(lead_search_q(f.q))
    if f.status:
        qs = qs.filter(status=f.status)
    if f.open_only:
        qs = qs.exclude(status__in=[LeadStatus.CONVERTED, LeadStatus.UNQUALIFIED])
    if f.source:
        qs = qs.filter(source=f.source)
    qs = qs.filter(owner_filter_q(actor, owner=f.owner, owner_id=f.owner_id, team_id=f.team_id))
    qs = qs.filter(day_range_q("created_at", f.created_from, f.created_to))
    if f.custom:
        qs = qs.filter(custom_field_filter_q(active_definitions(CUSTOM_FIELD_TARGET), f.custom))
    tie = "-id" if sort.startswith("-") else "id"
    ordering = [sort] if sort.lstrip("-") == "id" else [sort, tie]
    return qs.select_related("owner", "team").order_by(*ordering)


def lead_get(*, actor: Actor, lead_id: int) -> Lead:
    """One lead the actor may see, or NotFound (also when it exists but is not visible)."""
    lead = (
        lead_queryset(actor=actor)
        .select_related("owner", "team", "created_by", "converted_customer", "converted_contact")
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise NotFound(_("Lead not found."))
    return lead


@dataclass(frozen=True)
class LeadContactDisplay:
    """A lead's personal data as the actor may see it: clear, or masked (138****1234)."""

    phone: str
    email: str
    wechat: str
    address: str
    unmasked: bool


def lead_contact_display(lead: Lead, *, unmasked: bool, readable: bool = False) -> LeadContactDisplay:
    """What a lead's contact details look like to someone: masked or not; `readable` formats phones for pages."""

    def shown(kind: str, value: str) -> str:
        return display_contact_value(kind, value, unmasked=unmasked, readable=readable) if value else ""

    return LeadContactDisplay(
        phone=shown(ContactKind.PHONE, lead.phone),
        email=shown(ContactKind.EMAIL, lead.email),
        wechat=shown(ContactKind.WECHAT, lead.wechat),
        address=shown(ContactKind.ADDRESS, lead.address),
        unmasked=unmasked,
    )


def lead_contact_display_for(actor: Actor, lead: Lead) -> LeadContactDisplay:
    """For pages: masked by the actor's permission, phones formatted for reading."""
    return lead_contact_display(lead, unmasked=can_see_personal_data(actor), readable=True)


def lead_organisation_candidates(*, actor: Actor, lead: Lead, text: str = "", limit: int = 20) -> list[Customer]:
    """Visible organisations a converted lead could join: found by `text`, else by the lead's company name."""
    if not has_permission(actor, CUSTOMERS_VIEW):
        return []
    needle = (text or lead.company_name).strip()
    if not needle:
        return []
    qs = Customer.objects.visible_to(actor).filter(customer_search_q(needle), kind=CustomerKind.ORGANISATION)
    return list(qs.select_related("owner").order_by("name", "id")[:limit])


def shared_custom_values(lead_values: Mapping[str, Any]) -> dict[str, Any]:
    """The lead's custom values whose key is also a customer custom field of the same type and valid there."""
    customer_fields = {d.key: d for d in active_definitions(CUSTOMER_CUSTOM_FIELD_TARGET)}
    lead_fields = {d.key: d for d in active_definitions(CUSTOM_FIELD_TARGET)}
    shared: dict[str, Any] = {}
    for key, value in (lead_values or {}).items():
        target, source = customer_fields.get(key), lead_fields.get(key)
        if target is None or source is None or target.field_type != source.field_type:
            continue
        try:
            clean_value(target, value)
        except ValueError:
            continue
        shared[key] = value
    return shared


@dataclass(frozen=True)
class CustomFieldRow:
    key: str
    label: str
    value: str


def custom_field_rows(target: str, values: Mapping[str, Any]) -> list[CustomFieldRow]:
    """Custom values in the order and language of their definitions, for a detail page."""
    from django.contrib.auth import get_user_model

    from guanxi.platform.customfields.models import FieldType
    from guanxi.platform.customfields.values import display_value

    definitions = [d for d in active_definitions(target) if values.get(d.key) not in (None, "", [], {})]
    user_ids = [int(values[d.key]) for d in definitions if d.field_type == FieldType.USER]
    users = {u.pk: str(u) for u in get_user_model().objects.filter(pk__in=user_ids)} if user_ids else {}
    return [CustomFieldRow(d.key, d.label, display_value(d, values[d.key], users)) for d in definitions]


def lead_custom_field_rows(lead: Lead) -> list[CustomFieldRow]:
    return custom_field_rows(CUSTOM_FIELD_TARGET, lead.custom_fields or {})


def lead_history(*, actor: Actor, lead: Lead, limit: int = 50) -> list[Any]:
    """The lead's change history (who, when, field: before -> after), newest first, readable: choice
    labels, user and team names, personal data masked for roles that may not see it. Fixed queries."""
    from guanxi.platform.audit.history import history_entries
    from guanxi.platform.identity.models import Team, User

    require_permission(actor, LEADS_VIEW)
    history = lead.history  # type: ignore[attr-defined]
    records = list(history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    entries = history_entries(records, model=Lead, limit=limit)
    changes = [change for entry in entries for change in entry.changes]

    def ids(field_name: str) -> set[int]:
        return {v for c in changes if c.field == field_name for v in (c.before, c.after) if isinstance(v, int)}

    owner_ids, team_ids = ids("owner"), ids("team")
    names: dict[str, dict[Any, str]] = {
        "status": {value: str(label) for value, label in LeadStatus.choices},
        "source": {value: str(label) for value, label in Source.choices},
        "owner": {u.pk: str(u) for u in User.objects.filter(pk__in=owner_ids)} if owner_ids else {},
        "team": {t.pk: str(t) for t in Team.objects.filter(pk__in=team_ids)} if team_ids else {},
    }
    unmasked = can_see_personal_data(actor)

    def readable(field_name: str, value: Any) -> Any:
        if value in (None, ""):
            return value
        if field_name in names:
            return names[field_name].get(value, value)
        return value if unmasked else _masked(field_name, value)

    return [
        dataclasses.replace(
            entry,
            changes=[
                dataclasses.replace(c, before=readable(c.field, c.before), after=readable(c.field, c.after))
                for c in entry.changes
            ],
        )
        for entry in entries
    ]


PERSONAL_FIELDS = {"phone": ContactKind.PHONE, "email": ContactKind.EMAIL, "wechat": ContactKind.WECHAT,
                   "address": ContactKind.ADDRESS}  # fmt: skip


def _masked(field_name: str, value: Any) -> Any:
    kind = PERSONAL_FIELDS.get(field_name)
    if kind is None or not value:
        return value
    return display_contact_value(kind, str(value), unmasked=False)


@dataclass(frozen=True)
class ConversionPreview:
    """What converting a lead will create, shown before the user confirms."""

    lead: Lead
    contact: LeadContactDisplay
    custom_fields: list[CustomFieldRow]
    candidates: list[Customer]
    default_mode: str  # "create", "link" or "none"


def lead_conversion_preview(*, actor: Actor, lead: Lead, search: str = "") -> ConversionPreview:
    candidates = lead_organisation_candidates(actor=actor, lead=lead, text=search)
    return ConversionPreview(
        lead=lead,
        contact=lead_contact_display_for(actor, lead),
        custom_fields=custom_field_rows(CUSTOMER_CUSTOM_FIELD_TARGET, shared_custom_values(lead.custom_fields or {})),
        candidates=candidates,
        default_mode="create" if lead.company_name else "none",
    )

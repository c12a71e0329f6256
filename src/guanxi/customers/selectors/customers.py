"""Reading customers: the scoped list with filters and keyset pagination, and the 360° record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils.translation import gettext as _

from guanxi.customers.models import ContactPoint, Customer
from guanxi.customers.models.choices import CustomerKind, LifecycleStage, Source
from guanxi.customers.permissions import CUSTOMERS_VIEW
from guanxi.platform.annotations.models import TaggedItem
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound, ValidationFailed
from guanxi.platform.core.filters import FilterParams, day_range_q
from guanxi.platform.customfields.filters import custom_field_filter_q
from guanxi.platform.customfields.values import active_definitions
from guanxi.platform.identity.scoping import require_permission
from guanxi.platform.identity.selectors import owner_filter_q

CUSTOM_FIELD_TARGET = "customers.customer"
TAG_TARGET = "customers.customer"

# Sort keys a list may use; each maps to (field, nullable). Keyset pagination adds -id as tie-breaker.
SORTS: dict[str, str] = {
    "-id": "-id",
    "id": "id",
    "name": "name",
    "-name": "-name",
    "-created_at": "-created_at",
    "created_at": "created_at",
    "-last_contact_at": "-last_contact_at",
    "last_contact_at": "last_contact_at",
    "-rating": "-rating",
    "next_follow_up_at": "next_follow_up_at",
}


# Long soft-data columns no list row shows; not fetched for list pages (50 rows x 2 with the organisation).
LIST_DEFERRED = (
    "family_members", "preferences", "special_needs", "interests", "notes", "id_number_encrypted",
)  # fmt: skip


@dataclass
class CustomerFilters:
    """What a customer list can be filtered by (UI query string and API parameters alike)."""

    q: str = ""
    kind: str = ""
    owner_id: int | None = None
    owner: str = ""  # "me", "none"
    team_id: int | None = None
    stage: str = ""
    tag_id: int | None = None
    source: str = ""
    rating_min: int | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    last_contact_from: dt.date | None = None
    last_contact_to: dt.date | None = None
    in_pool: bool | None = None
    organisation_id: int | None = None
    custom: dict[str, str] = field(default_factory=dict)  # {"cf.key": value}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CustomerFilters:
        """Parse query parameters; bad values raise ValidationFailed naming every bad parameter."""
        read = FilterParams(params)
        owner = read.text("owner")
        if owner and owner not in ("me", "none"):
            read.fail("owner", _("Use “me” or “none”."))
        filters = cls(
            q=read.text("q"),
            kind=read.choice("kind", CustomerKind),
            owner_id=read.integer("owner_id"),
            owner=owner if owner in ("me", "none") else "",
            team_id=read.integer("team_id"),
            stage=read.choice("stage", LifecycleStage),
            tag_id=read.integer("tag_id"),
            source=read.choice("source", Source),
            rating_min=read.integer("rating_min"),
            created_from=read.date("created_from"),
            created_to=read.date("created_to"),
            last_contact_from=read.date("last_contact_from"),
            last_contact_to=read.date("last_contact_to"),
            in_pool=read.yes_no("in_pool"),
            organisation_id=read.integer("organisation_id"),
            custom=read.custom_fields(),
        )
        read.check()
        return filters


def customer_queryset(*, actor: Actor) -> QuerySet[Customer]:
    """All customers the actor may see: the base of every customer read."""
    require_permission(actor, CUSTOMERS_VIEW)
    return Customer.objects.visible_to(actor)


def customer_list(*, actor: Actor, filters: CustomerFilters | None = None, sort: str = "-id") -> QuerySet[Customer]:
    """The scoped, filtered, sorted customer list with what a list row shows fetched in fixed queries."""
    filters = filters or CustomerFilters()
    if sort not in SORTS:
        raise ValidationFailed.for_field("sort", _("Choose a sort order from the list."))
    qs = customer_queryset(actor=actor)
    f = filters
    if f.q:
        from guanxi.customers.selectors.search import customer_search_q

        qs = qs.filter(customer_search_q(f.q))
    if f.kind:
        qs = qs.filter(kind=f.kind)
    qs = qs.filter(owner_filter_q(actor, owner=f.owner, owner_id=f.owner_id, team_id=f.team_id))
    if f.stage:
        qs = qs.filter(lifecycle_stage=f.stage)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.rating_min is not None:
        qs = qs.filter(rating__gte=f.rating_min)
    if f.tag_id is not None:
        qs = qs.filter(Exists(TaggedItem.objects.filter(tag_id=f.tag_id, target=TAG_TARGET, object_id=OuterRef("pk"))))
    qs = qs.filter(day_range_q("created_at", f.created_from, f.created_to))
    qs = qs.filter(day_range_q("last_contact_at", f.last_contact_from, f.last_contact_to))
    if f.in_pool is True:
        qs = qs.filter(owner__isnull=True, pool__isnull=False)
    elif f.in_pool is False:
        qs = qs.filter(owner__isnull=False)
    if f.organisation_id is not None:
        qs = qs.filter(organisation_id=f.organisation_id)
    if f.custom:
        qs = qs.filter(custom_field_filter_q(active_definitions(CUSTOM_FIELD_TARGET), f.custom))
    primary_points = ContactPoint.objects.filter(is_primary=True).only(
        "id", "customer_id", "kind", "value", "is_primary"
    )
    order = SORTS[sort]
    tie = "-id" if order.startswith("-") else "id"
    ordering = [order] if order.lstrip("-") == "id" else [order, tie]
    return (
        qs.select_related("owner", "organisation")
        .defer(*LIST_DEFERRED, *(f"organisation__{name}" for name in LIST_DEFERRED))
        .prefetch_related(Prefetch("contact_points", queryset=primary_points, to_attr="primary_points"))
        .order_by(*ordering)
    )


def customer_get(*, actor: Actor, customer_id: int) -> Customer:
    """One customer the actor may see, or NotFound (also when it exists but is not visible)."""
    customer = (
        customer_queryset(actor=actor)
        .select_related("owner", "team", "organisation", "pool", "created_by")
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        raise NotFound(_("Customer not found."))
    return customer


def customer_contact_points(*, actor: Actor, customer: Customer) -> list[ContactPoint]:
    return list(ContactPoint.objects.filter(customer=customer).order_by("kind", "-is_primary", "id"))


def customer_people(*, actor: Actor, organisation: Customer) -> QuerySet[Customer]:
    return customer_queryset(actor=actor).filter(organisation=organisation).select_related("owner").order_by("name")


def organisation_choices(*, actor: Actor, limit: int, exclude_id: int | None = None) -> list[Customer]:
    """The first `limit` visible organisations by name (id and name only), for a plain select box."""
    qs = customer_queryset(actor=actor).filter(kind=CustomerKind.ORGANISATION)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return list(qs.order_by("name", "id").only("id", "name")[:limit])


def organisation_visible(*, actor: Actor, organisation_id: Any) -> Customer | None:
    """The visible organisation with this id (as typed or posted), or None."""
    text = str(organisation_id or "").strip()
    if not text.isdigit():
        return None
    return customer_queryset(actor=actor).filter(pk=int(text), kind=CustomerKind.ORGANISATION).first()

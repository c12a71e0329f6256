"""Finding customers and leads by what a user types: name, pinyin, initials, phone, email, company, card.

`customer_search_q` / `lead_search_q` are the filters the lists use; `customer_search_hits` /
`lead_search_hits` are the global-search providers: the same conditions, ranked (exact name > name
prefix > pinyin > initials > given name > card / phone / email / company prefix > contains), scoped by
`visible_to(actor)`, with personal data in the subtitle masked for roles that may not see it.

Every condition is one an index answers, so search stays fast at millions of customers (see
docs/performance.md): prefixes use the `prefix` lookup (LIKE on PostgreSQL's pattern index, a range on
SQLite) on columns stored normalised (pinyin, initials, reversed phone digits, lower-case emails);
a two-character given name ("小明" finds 王小明) is a prefix of `given_name`; "contains" needs three
characters or more and is served by pg_trgm indexes on PostgreSQL. The ranked providers take at most
CANDIDATES_PER_RULE rows per condition before ranking, so a one-letter query that matches half the
table costs no more than a rare one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Case, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length
from django.urls import reverse
from django.utils.translation import gettext as _

from guanxi.customers.models import ContactPoint, Customer, Lead
from guanxi.customers.models.choices import ContactKind, CustomerKind
from guanxi.customers.permissions import CUSTOMERS_VIEW, LEADS_VIEW
from guanxi.customers.selectors.customers import customer_queryset
from guanxi.customers.selectors.presentation import display_contact_value
from guanxi.platform.core.actors import Actor
from guanxi.platform.identity.scoping import can_see_personal_data, has_permission
from guanxi.platform.search.query import MIN_PHONE_DIGITS, SearchQuery
from guanxi.platform.search.registry import SearchHit

_Row = TypeVar("_Row", Customer, Lead)
MATCH_RANK_NONE = 99
MIN_EMAIL_PREFIX = 3
MIN_CONTAINS = 3  # trigram indexes need three characters
CANDIDATES_PER_RULE = 20


@dataclass(frozen=True)
class MatchRule:
    """One way a row can match: what it is called (SearchHit.matched_on), its rank and its condition."""

    matched_on: str
    rank: int
    condition: Q
    # The same test for one known row, when `condition` is a set (IN a subquery) that would be built in
    # full to rank a handful of candidates: a correlated EXISTS probes by the row's id instead.
    row_condition: Q | None = None

    @property
    def for_one_row(self) -> Q:
        return self.row_condition if self.row_condition is not None else self.condition


def phone_suffix_key(query: SearchQuery) -> str:
    """Reversed digits to prefix-match the reversed stored phone ("…5678" -> "8765"), or "" if too short.

    A full national number loses its trunk "0" (021 6234 5678 is stored as +862162345678) and an
    international "00" prefix is dropped, so every common way of writing a number finds it.
    """
    digits = query.digits
    if len(digits) >= 11 and digits.startswith("00"):
        digits = digits[2:]
    elif len(digits) >= 10 and digits.startswith("0"):
        digits = digits[1:]
    return digits[::-1] if len(digits) >= MIN_PHONE_DIGITS else ""


def _wants_email_prefix(query: SearchQuery) -> bool:
    if query.looks_like_email:
        return True
    text = query.lowered
    return len(text) >= MIN_EMAIL_PREFIX and text.isascii() and " " not in text and not text.isdigit()


def _wants_contains(query: SearchQuery) -> bool:
    return len(query.text) >= MIN_CONTAINS


def _name_rules(query: SearchQuery) -> list[MatchRule]:
    rules = [
        MatchRule("name", 0, Q(name=query.text)),
        MatchRule("name", 1, Q(name__prefix=query.text)),
    ]
    if query.latin:
        rules += [
            MatchRule("pinyin", 2, Q(name_pinyin__prefix=query.latin)),
            MatchRule("initials", 3, Q(name_initials__prefix=query.latin)),
        ]
    return rules


def _contains_rules(query: SearchQuery) -> list[MatchRule]:
    if not _wants_contains(query):
        return []
    return [
        MatchRule("name", 20, Q(name__icontains=query.text)),
        MatchRule("company", 21, Q(company_name__icontains=query.text)),
    ]


def customer_match_rules(query: SearchQuery) -> list[MatchRule]:
    """Every condition a customer may match `query` by, best first."""
    rules = _name_rules(query)
    if query.has_han:
        rules.append(MatchRule("name", 4, Q(given_name__prefix=query.text)))
    card = query.text.replace(" ", "").upper()
    if card:
        rules.append(MatchRule("card_number", 10, Q(card_number=card)))
    phone_key = phone_suffix_key(query)
    if phone_key:
        rules.append(MatchRule("phone", 11, *_has_contact(ContactKind.PHONE, search_key__prefix=phone_key)))
    if _wants_email_prefix(query):
        key = query.lowered.replace(" ", "")
        rules.append(MatchRule("email", 12, *_has_contact(ContactKind.EMAIL, search_key__prefix=key)))
        rules.append(MatchRule("wechat", 13, *_has_contact(ContactKind.WECHAT, search_key=key)))
    rules.append(MatchRule("company", 14, Q(company_name__prefix=query.text)))
    return rules + _contains_rules(query)


def _has_contact(kind: str, **condition: str) -> tuple[Q, Q]:
    """Customers with a contact point of `kind` matching `condition`: as a set (a semi-join the planner
    starts from the contact point's search-key index) and as a per-row test (EXISTS by customer id)."""
    points = ContactPoint.objects.filter(kind=kind, **condition)
    return Q(pk__in=points.values("customer_id")), Q(Exists(points.filter(customer_id=OuterRef("pk"))))


def lead_match_rules(query: SearchQuery) -> list[MatchRule]:
    """Every condition a lead may match `query` by, best first."""
    rules = _name_rules(query)
    phone_key = phone_suffix_key(query)
    if phone_key:
        rules.append(MatchRule("phone", 11, Q(phone_search_key__prefix=phone_key)))
    if _wants_email_prefix(query):
        rules.append(MatchRule("email", 12, Q(email__prefix=query.lowered.replace(" ", ""))))
    rules.append(MatchRule("company", 14, Q(company_name__prefix=query.text)))
    return rules + _contains_rules(query)


def _any_of(rules: list[MatchRule]) -> Q:
    q = Q()
    for rule in rules:
        q |= rule.condition
    return q


def _ranked(qs: QuerySet[_Row], rules: list[MatchRule], limit: int) -> QuerySet[_Row]:
    """The best matches first (then shorter names, then oldest), with `search_rank`.

    Candidates are at most `limit` (at least CANDIDATES_PER_RULE) rows per rule, each taken straight from
    that rule's index, so the sort never sees more than a few hundred rows however many match.
    """
    rank = Case(
        *(When(rule.for_one_row, then=Value(rule.rank)) for rule in rules),
        default=Value(MATCH_RANK_NONE),
        output_field=IntegerField(),
    )
    candidates = _candidate_ids(qs, rules, per_rule=max(limit, CANDIDATES_PER_RULE))
    return qs.filter(pk__in=candidates).annotate(search_rank=rank).order_by("search_rank", Length("name"), "id")


def _candidate_ids(qs: QuerySet[_Row], rules: list[MatchRule], *, per_rule: int) -> RawSQL:
    """`SELECT id FROM (rule 1 LIMIT n) UNION ALL SELECT id FROM (rule 2 LIMIT n) ...` as one subquery.

    A UNION rather than `id IN (rule 1) OR id IN (rule 2)`: PostgreSQL answers an OR of IN-subqueries
    with a scan of the whole table (550 ms at a million customers), a UNION with an index probe per id.
    Each part is wrapped in its own SELECT because SQLite refuses LIMIT inside a compound statement.
    """
    # Safe to compose: each part is SQL that Django compiled, with every user value left in `params`.
    parts: list[str] = []
    params: list[Any] = []
    for index, rule in enumerate(rules):
        sql, part_params = qs.filter(rule.condition).values("pk")[:per_rule].query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) AS candidates_{index}")  # noqa: S608  # nosec B608
        params.extend(part_params)
    return RawSQL(" UNION ALL ".join(parts), params)  # noqa: S611  # nosec B611


def _matched_on(rules: list[MatchRule], rank: int) -> str:
    return next((rule.matched_on for rule in rules if rule.rank == rank), "name")


def customer_search_q(text: str) -> Q:
    """One Q that finds customers by any of the searchable keys (used by the customer list filter)."""
    query = SearchQuery.parse(text)
    if query.is_empty:
        return Q()
    return _any_of(customer_match_rules(query))


def lead_search_q(text: str) -> Q:
    """One Q that finds leads by any of the searchable keys (used by the lead list filter)."""
    query = SearchQuery.parse(text)
    if query.is_empty:
        return Q()
    return _any_of(lead_match_rules(query))


def organisation_matches(*, actor: Actor, text: str, limit: int, exclude_id: int | None = None) -> list[Customer]:
    """The best `limit` visible organisations matching `text` (name, pinyin, initials and the other customer
    search keys), best match first: the options of the organisation picker."""
    query = SearchQuery.parse(text)
    if query.is_empty:
        return []
    qs = customer_queryset(actor=actor).filter(kind=CustomerKind.ORGANISATION)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return list(_ranked(qs, customer_match_rules(query), limit).select_related("owner")[:limit])


def _join(parts: list[str]) -> str:
    return " · ".join(part for part in parts if part)


def _customer_subtitle(customer: Customer, matched_on: str, *, unmasked: bool) -> str:
    points: dict[str, str] = {point.kind: point.value for point in getattr(customer, "search_points", [])}
    parts = [str(CustomerKind(customer.kind).label) if customer.kind == CustomerKind.ORGANISATION else ""]
    if customer.kind == CustomerKind.PERSON:
        parts.append(customer.company_name)
    if points.get(ContactKind.PHONE):
        parts.append(
            display_contact_value(ContactKind.PHONE, points[ContactKind.PHONE], unmasked=unmasked, readable=True)
        )
    if matched_on == "email" and points.get(ContactKind.EMAIL):
        parts.append(display_contact_value(ContactKind.EMAIL, points[ContactKind.EMAIL], unmasked=unmasked))
    if matched_on == "card_number":
        parts.append(_("Card %(number)s") % {"number": customer.card_number})
    if customer.owner_id is not None and customer.owner is not None:
        parts.append(str(customer.owner))
    elif customer.pool_id is not None:
        parts.append(_("Public pool"))
    return _join(parts)


def customer_search_hits(actor: Actor, query: SearchQuery, limit: int) -> list[SearchHit]:
    """The best `limit` customers the actor may see that match `query` (the "customer" search provider)."""
    if query.is_empty or not has_permission(actor, CUSTOMERS_VIEW):
        return []
    rules = customer_match_rules(query)
    primary_points = ContactPoint.objects.filter(is_primary=True, kind__in=[ContactKind.PHONE, ContactKind.EMAIL]).only(
        "id", "customer_id", "kind", "value"
    )
    customers = (
        _ranked(customer_queryset(actor=actor), rules, limit)
        .select_related("owner")
        .prefetch_related(Prefetch("contact_points", queryset=primary_points, to_attr="search_points"))[:limit]
    )
    unmasked = can_see_personal_data(actor)
    hits = []
    for customer in customers:
        matched_on = _matched_on(rules, customer.search_rank)  # type: ignore[attr-defined]
        hits.append(
            SearchHit(
                kind="customer",
                id=customer.pk,
                title=customer.name,
                subtitle=_customer_subtitle(customer, matched_on, unmasked=unmasked),
                url=reverse("customers:customer_detail", kwargs={"customer_id": customer.pk}),
                matched_on=matched_on,
                extra={"kind": customer.kind, "in_pool": "true" if customer.in_pool else "false"},
            )
        )
    return hits


def _lead_subtitle(lead: Lead, matched_on: str, *, unmasked: bool) -> str:
    parts = [lead.company_name]
    if lead.phone:
        parts.append(display_contact_value(ContactKind.PHONE, lead.phone, unmasked=unmasked, readable=True))
    if matched_on == "email" and lead.email:
        parts.append(display_contact_value(ContactKind.EMAIL, lead.email, unmasked=unmasked))
    parts.append(str(lead.get_status_display()))
    if lead.owner_id is not None and lead.owner is not None:
        parts.append(str(lead.owner))
    return _join(parts)


def lead_search_hits(actor: Actor, query: SearchQuery, limit: int) -> list[SearchHit]:
    """The best `limit` leads the actor may see that match `query` (the "lead" search provider)."""
    if query.is_empty or not has_permission(actor, LEADS_VIEW):
        return []
    rules = lead_match_rules(query)
    from guanxi.customers.selectors.leads import lead_queryset  # leads.py imports this module

    leads = _ranked(lead_queryset(actor=actor), rules, limit).select_related("owner")[:limit]
    unmasked = can_see_personal_data(actor)
    hits = []
    for lead in leads:
        matched_on = _matched_on(rules, lead.search_rank)  # type: ignore[attr-defined]
        hits.append(
            SearchHit(
                kind="lead",
                id=lead.pk,
                title=lead.name,
                subtitle=_lead_subtitle(lead, matched_on, unmasked=unmasked),
                url=reverse("customers:lead_detail", kwargs={"lead_id": lead.pk}),
                matched_on=matched_on,
                extra={"status": lead.status},
            )
        )
    return hits

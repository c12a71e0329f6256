"""Search conditions for customers and leads: name, pinyin, initials, phone suffix, email, company, card."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from guanxi.customers.models import ContactPoint
from guanxi.customers.models.choices import ContactKind
from guanxi.platform.search.query import SearchQuery


def customer_search_q(text: str) -> Q:
    """One Q that finds customers by any of the searchable keys (used by the list and global search)."""
    query = SearchQuery.parse(text)
    if query.is_empty:
        return Q()
    q = Q(name__startswith=query.text) | Q(company_name__startswith=query.text)
    if query.has_han or len(query.text) >= 2:
        q |= Q(name__icontains=query.text) | Q(company_name__icontains=query.text)
    if query.latin:
        q |= Q(name_pinyin__startswith=query.latin) | Q(name_initials__startswith=query.latin)
    if query.looks_like_email:
        q |= Exists(
            ContactPoint.objects.filter(
                customer=OuterRef("pk"), kind=ContactKind.EMAIL, search_key__startswith=query.lowered
            )
        )
    if query.is_phone_like:
        q |= Exists(
            ContactPoint.objects.filter(
                customer=OuterRef("pk"), kind=ContactKind.PHONE, search_key__startswith=query.digits[::-1]
            )
        )
    if query.text and " " not in query.text:
        q |= Q(card_number=query.text.upper())
    return q


def lead_search_q(text: str) -> Q:
    query = SearchQuery.parse(text)
    if query.is_empty:
        return Q()
    q = Q(name__startswith=query.text) | Q(company_name__startswith=query.text)
    if query.has_han or len(query.text) >= 2:
        q |= Q(name__icontains=query.text) | Q(company_name__icontains=query.text)
    if query.latin:
        q |= Q(name_pinyin__startswith=query.latin) | Q(name_initials__startswith=query.latin)
    if query.looks_like_email:
        q |= Q(email__startswith=query.lowered)
    if query.is_phone_like:
        q |= Q(phone_search_key__startswith=query.digits[::-1])
    return q

"""Running a global search across every registered provider the actor may use."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.identity.scoping import has_permission
from guanxi.platform.search.query import SearchQuery
from guanxi.platform.search.registry import SearchHit, SearchProvider, providers

MAX_LIMIT_PER_KIND = 50


@dataclass(frozen=True)
class SearchGroup:
    """The hits of one provider (customers, leads, ...), in its display order."""

    code: str
    label: Promise | str
    hits: list[SearchHit]


def _usable_providers(actor: Actor) -> list[SearchProvider]:
    return [p for p in providers() if not p.permission or has_permission(actor, p.permission)]


def global_search(*, actor: Actor, text: str, limit_per_kind: int = 10) -> dict[str, list[SearchHit]]:
    """Hits per provider code, each provider applying the actor's visibility; {} for an empty query."""
    return {group.code: group.hits for group in search_groups(actor=actor, text=text, limit_per_kind=limit_per_kind)}


def search_groups(
    *, actor: Actor, text: str, limit_per_kind: int = 10, require_text: bool = False
) -> list[SearchGroup]:
    """One group per provider the actor may use, best hits first; [] for an empty query unless required."""
    query = SearchQuery.parse(text)
    if query.is_empty:
        if require_text:
            raise ValidationFailed.for_field("q", _("Type something to search for."))
        return []
    limit = max(1, min(int(limit_per_kind), MAX_LIMIT_PER_KIND))
    return [
        SearchGroup(code=provider.code, label=provider.label, hits=provider.search(actor, query, limit))
        for provider in _usable_providers(actor)
    ]

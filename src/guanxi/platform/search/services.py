"""Running a global search across every registered provider."""

from __future__ import annotations

from guanxi.platform.core.actors import Actor
from guanxi.platform.search.query import SearchQuery
from guanxi.platform.search.registry import SearchHit, providers


def global_search(*, actor: Actor, text: str, limit_per_kind: int = 10) -> dict[str, list[SearchHit]]:
    """Hits per provider code, each provider applying the actor's visibility."""
    query = SearchQuery.parse(text)
    if query.is_empty:
        return {}
    return {provider.code: provider.search(actor, query, limit_per_kind) for provider in providers()}

"""Search providers: a domain app registers a function that returns hits visible to the actor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.functional import Promise

from guanxi.platform.core.actors import Actor


@dataclass(frozen=True)
class SearchHit:
    kind: str  # provider code, e.g. "customer"
    id: int
    title: str
    subtitle: str
    url: str
    matched_on: str  # "name", "pinyin", "initials", "phone", "email", "company", "card_number"
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchProvider:
    code: str
    label: Promise | str
    search: Callable[[Actor, "SearchQuery", int], list[SearchHit]]
    order: int = 100


_providers: dict[str, SearchProvider] = {}


def register_provider(provider: SearchProvider) -> None:
    _providers[provider.code] = provider


def providers() -> list[SearchProvider]:
    return sorted(_providers.values(), key=lambda p: p.order)


from guanxi.platform.search.query import SearchQuery  # noqa: E402

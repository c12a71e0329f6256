"""Search providers: a domain app registers a function that returns hits visible to the actor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanxi.platform.core.actors import Actor

MATCH_LABELS: dict[str, Promise] = {
    "name": _("name"),
    "pinyin": _("pinyin"),
    "initials": _("initials"),
    "phone": _("phone"),
    "email": _("email"),
    "wechat": _("WeChat ID"),
    "company": _("company"),
    "card_number": _("card number"),
}


@dataclass(frozen=True)
class SearchHit:
    kind: str  # provider code, e.g. "customer"
    id: int
    title: str
    subtitle: str
    url: str
    matched_on: str  # "name", "pinyin", "initials", "phone", "email", "company", "card_number"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def matched_on_label(self) -> str:
        """What matched, for people: "pinyin", "phone"... in the user's language."""
        return str(MATCH_LABELS.get(self.matched_on, self.matched_on))


@dataclass(frozen=True)
class SearchProvider:
    code: str
    label: Promise | str
    search: Callable[[Actor, SearchQuery, int], list[SearchHit]]
    order: int = 100
    permission: str = ""  # actors without it never see this provider's group


_providers: dict[str, SearchProvider] = {}


def register_provider(provider: SearchProvider) -> None:
    _providers[provider.code] = provider


def providers() -> list[SearchProvider]:
    return sorted(_providers.values(), key=lambda p: p.order)


from guanxi.platform.search.query import SearchQuery  # noqa: E402

"""Parsing what a user typed into the search box into the forms each matcher needs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from guanxi.platform.core.text import clean_text, digits_only

_HAN = re.compile(r"[\u3400-\u9fff]")
MIN_PHONE_DIGITS = 4


@dataclass(frozen=True)
class SearchQuery:
    text: str  # cleaned (half-width, trimmed)
    lowered: str
    latin: str  # letters only, lower-case, for pinyin and initials ("zhang wei" -> "zhangwei")
    digits: str  # digits only, for phone suffix and card numbers
    has_han: bool
    looks_like_email: bool

    @classmethod
    def parse(cls, raw: str) -> SearchQuery:
        text = clean_text(raw)[:100]
        lowered = text.lower()
        latin = "".join(ch for ch in lowered if "a" <= ch <= "z")
        digits = digits_only(text)
        only_phone_chars = bool(text) and all(ch.isdigit() or ch in "+-() " for ch in text)
        return cls(
            text=text,
            lowered=lowered,
            latin=latin if latin and all(ch.isalpha() or ch in " '-" for ch in lowered) else "",
            digits=digits if only_phone_chars else "",
            has_han=bool(_HAN.search(text)),
            looks_like_email="@" in text,
        )

    @property
    def is_phone_like(self) -> bool:
        return len(self.digits) >= MIN_PHONE_DIGITS

    @property
    def is_empty(self) -> bool:
        return not self.text

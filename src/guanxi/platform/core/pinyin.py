"""Pinyin columns for search: full pinyin without tones ("zhangwei") and initials ("zw")."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin

from guanxi.platform.core.text import clean_text


def _syllables(text: str) -> list[str]:
    return [s for s in lazy_pinyin(text, style=Style.NORMAL, errors="default") if s.strip()]


def full_pinyin(text: str) -> str:
    """Lower-case pinyin of every Chinese character, Latin letters and digits kept, no spaces."""
    cleaned = clean_text(text)
    syllables = _syllables(cleaned)
    return "".join(ch for ch in "".join(syllables).lower() if ch.isalnum())


def pinyin_initials(text: str) -> str:
    """First letter of each Chinese syllable and of each Latin word ("张伟" -> "zw", "Li Na" -> "ln")."""
    cleaned = clean_text(text)
    initials = []
    for part in _syllables(cleaned):
        for word in part.split():
            word = "".join(ch for ch in word if ch.isalnum())
            if word:
                initials.append(word[0].lower())
    return "".join(initials)

"""Pinyin columns for search: full pinyin without tones ("zhangwei") and initials ("zw").

Output is always plain ASCII `[a-z0-9]`, so a search column never holds anything a user cannot type.
A personal name (two to four Chinese characters) has its surname read as a surname: 曾 is "zeng", not
"ceng", 单 is "shan", 解 is "xie". pypinyin has no surname mode, so the readings of the polyphonic
surnames are kept here; everything else is pypinyin's deterministic default reading.
"""

from __future__ import annotations

import re
import unicodedata

from pypinyin import Style, lazy_pinyin

from guanxi.platform.core.names import COMPOUND_SURNAMES
from guanxi.platform.core.text import clean_text

# Surnames whose reading as a surname differs from the character's most common reading.
SURNAME_READINGS: dict[str, str] = {
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "區": "ou",
    "朴": "piao",
    "查": "zha",
    "曾": "zeng",
    "翟": "zhai",
    "盖": "ge",
    "蓋": "ge",
    "缪": "miao",
    "繆": "miao",
    "种": "chong",
    "秘": "bi",
    "覃": "qin",
    "折": "she",
    "召": "shao",
    "繁": "po",
    "员": "yun",
    "句": "gou",
    "卜": "bu",
    "薄": "bo",
    "阚": "kan",
    "重": "chong",
    "都": "du",
    "蔚": "yu",
    "牟": "mu",
    "佴": "nai",
    "能": "nai",
    "粘": "nian",
    "隗": "wei",
    "單": "shan",
}
_PERSON_NAME = re.compile(r"^[\u3400-\u9fff]{2,5}$")
_WORD_BREAK = re.compile(r"[\s\-_/.,·&+]+")
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _ascii(text: str) -> str:
    """Lower-case ASCII letters and digits only: accents are dropped ("é" -> "e"), everything else removed."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if ch in _ASCII_ALNUM)


def looks_like_person_name(text: str) -> bool:
    """Two to four Chinese characters (five with a compound surname): read the first as a surname."""
    compact = text.replace(" ", "")
    if not _PERSON_NAME.match(compact):
        return False
    return len(compact) <= 4 or compact[:2] in COMPOUND_SURNAMES


def _words(text: str, person: bool | None) -> list[str]:
    """Syllables of the Chinese characters and the other runs of text, in order, still unfiltered."""
    cleaned = clean_text(text)
    if not cleaned:
        return []
    if person is None:
        person = looks_like_person_name(cleaned)
    compact = cleaned.replace(" ", "")
    if person and len(compact) >= 2 and _PERSON_NAME.match(compact):
        if compact[:2] in COMPOUND_SURNAMES:
            surname, given = compact[:2], compact[2:]
            head = lazy_pinyin(surname, style=Style.NORMAL, errors="default")
        else:
            surname, given = compact[0], compact[1:]
            head = [SURNAME_READINGS.get(surname) or lazy_pinyin(surname, style=Style.NORMAL)[0]]
        return head + lazy_pinyin(given, style=Style.NORMAL, errors="default")
    return lazy_pinyin(cleaned, style=Style.NORMAL, errors="default")


def full_pinyin(text: str, *, person: bool | None = None) -> str:
    """Pinyin of every Chinese character, Latin letters and digits kept, lower-case, no spaces.

    `person` says whether `text` is a personal name (surname first); None guesses from its shape.
    """
    return "".join(_ascii(word) for word in _words(text, person))


def pinyin_initials(text: str, *, person: bool | None = None) -> str:
    """First letter of each Chinese syllable and of each Latin word ("张伟" -> "zw", "Li Na" -> "ln")."""
    initials = []
    for part in _words(text, person):
        for word in _WORD_BREAK.split(part):
            letters = _ascii(word)
            if letters:
                initials.append(letters[0])
    return "".join(initials)

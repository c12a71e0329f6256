"""Text clean-up applied on every write path: trimming and full-width to half-width (全角->半角)."""

from __future__ import annotations

import unicodedata

_FULLWIDTH_OFFSET = 0xFEE0


def to_halfwidth(value: str) -> str:
    """Turn full-width ASCII (digits, Latin letters, punctuation) and the ideographic space into half-width."""
    chars = []
    for char in value:
        code = ord(char)
        if code == 0x3000:
            chars.append(" ")
        elif 0xFF01 <= code <= 0xFF5E:
            chars.append(chr(code - _FULLWIDTH_OFFSET))
        else:
            chars.append(char)
    return "".join(chars)


def clean_text(value: str | None) -> str:
    """Half-width, NFC-normalised, control characters removed, whitespace collapsed and trimmed."""
    if not value:
        return ""
    text = unicodedata.normalize("NFC", to_halfwidth(str(value)))
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    return " ".join(text.split())


def clean_multiline(value: str | None) -> str:
    """Like clean_text but keeps line breaks (for notes and descriptions)."""
    if not value:
        return ""
    lines = [clean_text(line) for line in str(value).replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


def digits_only(value: str) -> str:
    """The decimal digits of `value` as ASCII 0-9, in order: full-width and other scripts' digits ("٣")
    count, superscripts and circled numbers ("²", "①") do not."""
    return "".join(str(unicodedata.decimal(ch)) for ch in value if unicodedata.decimal(ch, None) is not None)

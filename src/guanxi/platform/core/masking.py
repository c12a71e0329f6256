"""Masked display forms of personal data for roles without the "see personal data" permission."""

from __future__ import annotations


def mask_phone(value: str) -> str:
    """+8613812341234 -> +86138****1234, 13812341234 -> 138****1234; same length, middle always hidden.

    Keeps at most the first 3 digits (6 characters with +86: the mobile prefix) and the last 4, never the
    middle character, and hides at least a third of the number. An extension (";ext=12") is kept as is.
    """
    if not value:
        return value
    head, sep, extension = value.partition(";")
    length = len(head)
    least_hidden = max(length // 3, 1)
    keep_end = min(4, length - length // 2 - 1)
    keep_start = min(6 if head.startswith("+86") else 3, length // 2, length - keep_end - least_hidden)
    masked = head[:keep_start] + "*" * (length - keep_start - keep_end) + head[length - keep_end :]
    return masked + sep + extension


def mask_email(value: str) -> str:
    """zhang.wei@example.com -> z***@example.com."""
    if not value or "@" not in value:
        return "***"
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_text(value: str) -> str:
    """Any other personal value (WeChat ID, street address): first character, then stars."""
    if not value:
        return value
    return value[:1] + "*" * min(len(value) - 1, 6)


def mask_readable_phone(text: str) -> str:
    """Mask a phone already formatted for reading, keeping its spacing: "138 1234 5678" -> "138 **** 5678".

    The first three and last four digits stay (fewer for short numbers); an extension is hidden whole.
    """
    number, _sep, _extension = text.partition(" ext. ")
    digit_count = sum(ch.isdigit() for ch in number)
    keep_start = 3 if digit_count >= 9 else 0
    keep_end = 4 if digit_count >= 7 else 2
    seen = 0
    out = []
    for ch in number:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen <= keep_start or seen > digit_count - keep_end else "*")
        else:
            out.append(ch)
    return "".join(out)

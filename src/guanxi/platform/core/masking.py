"""Masked display forms of personal data for roles without the "see personal data" permission."""

from __future__ import annotations


def mask_phone(value: str) -> str:
    """+8613812341234 -> +86138****1234; short numbers keep only the last two digits."""
    if not value:
        return value
    head, sep, ext = value.partition(";")
    if len(head) <= 6:
        return "*" * (len(head) - 2) + head[-2:]
    keep_end = 4
    keep_start = 3 if not head.startswith("+86") else 6
    keep_start = min(keep_start, len(head) - keep_end - 2)
    return head[:keep_start] + "*" * (len(head) - keep_start - keep_end) + head[-keep_end:]


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

"""Record types that accept custom fields; domain apps register theirs ("customers.customer")."""

from __future__ import annotations

from django.utils.functional import Promise

_targets: dict[str, Promise | str] = {}


def register_target(code: str, label: Promise | str) -> None:
    _targets[code] = label


def targets() -> dict[str, Promise | str]:
    return dict(_targets)

"""Small pieces shared by customer services: history attribution and choice validation."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import ValidationFailed


def attribute_history(record: models.Model, actor: Actor | None, reason: str = "") -> None:
    """Tell django-simple-history who made this change (API and worker writes have no request)."""
    if actor is not None:
        record._history_user = actor.user  # type: ignore[attr-defined]
    if reason:
        record._change_reason = reason  # type: ignore[attr-defined]


def clean_choice(value: Any, choices: type[models.TextChoices], field: str, *, allow_blank: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if text == "" and allow_blank:
        return ""
    if text not in choices.values:
        raise ValidationFailed.for_field(field, _("Choose a value from the list."))
    return text

"""Small pieces shared by customer services: history attribution, and checks of choices and texts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext as _

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.text import clean_multiline, clean_text

LONG_TEXT_MAX = 5000


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


def clean_line(value: Any, field: str, limit: int) -> str:
    """One line of text (spaces collapsed, half-width), at most `limit` characters."""
    text = clean_text(value)
    if len(text) > limit:
        raise ValidationFailed.for_field(field, _("Keep it under %(n)s characters.") % {"n": limit})
    return text


def clean_long_text(value: Any, field: str, limit: int = LONG_TEXT_MAX) -> str:
    """Free text that keeps its line breaks, at most `limit` characters."""
    text = clean_multiline(value)
    if len(text) > limit:
        raise ValidationFailed.for_field(field, _("Keep it under %(n)s characters.") % {"n": limit})
    return text


def clean_active_user(value: Any, field: str) -> Any:
    """The active user whose id is `value` (an owner, an assignee); ValidationFailed naming `field` otherwise."""
    try:
        user_id = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed.for_field(field, _("Choose a user.")) from None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ValidationFailed.for_field(field, _("Choose an active user."))
    return user

"""Small pieces shared by customer services: field-by-field cleaning of a write's data, and checks of
choices and texts. (History attribution is `guanxi.platform.audit.history.attribute_history`.)"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext as _

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.text import clean_multiline, clean_text

LONG_TEXT_MAX = 5000


class FieldCleaner:
    """Cleans the fields a write sends, one cleaner per field, and collects every error so the user sees
    them all at once; a sent field outside `allowed` is reported as unknown."""

    def __init__(self, data: Mapping[str, Any], *, allowed: Set[str]) -> None:
        self.data = data
        self.errors: dict[str, list[str]] = {name: [_("Unknown field.")] for name in sorted(set(data) - allowed)}
        self.cleaned: dict[str, Any] = {}

    def run(self, field: str, fn: Callable[..., Any]) -> None:
        """Clean `field` with `fn` when the data has it; a ValidationFailed adds its field errors."""
        if field not in self.data:
            return
        try:
            self.cleaned[field] = fn(self.data[field])
        except ValidationFailed as exc:
            self.errors.update(exc.fields)


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

"""Writes for custom field definitions; a definition is checked completely before it is saved."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.text import clean_text
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from guanxi.platform.customfields.registry import targets
from guanxi.platform.identity.permissions import CUSTOMFIELDS_MANAGE
from guanxi.platform.identity.scoping import require_permission

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


def _clean_choices(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed.for_field("choices", _("Add at least one option."))
    seen: set[str] = set()
    cleaned = []
    for item in raw:
        if not isinstance(item, dict):
            raise ValidationFailed.for_field("choices", _("Each option needs a value and labels."))
        value = clean_text(str(item.get("value", "")))
        label_zh = clean_text(str(item.get("label_zh", ""))) or value
        label_en = clean_text(str(item.get("label_en", ""))) or value
        if not value:
            raise ValidationFailed.for_field("choices", _("Each option needs a value."))
        if value in seen:
            raise ValidationFailed.for_field("choices", _("Option “%(value)s” appears twice.") % {"value": value})
        seen.add(value)
        cleaned.append({"value": value, "label_zh": label_zh, "label_en": label_en})
    return cleaned


@transaction.atomic
def custom_field_save(
    *,
    actor: Actor,
    definition: CustomFieldDefinition | None,
    target: str,
    key: str,
    label_zh: str,
    label_en: str,
    field_type: str,
    choices: Any = None,
    required: bool = False,
    help_text_zh: str = "",
    help_text_en: str = "",
    position: int = 0,
    is_active: bool = True,
) -> CustomFieldDefinition:
    """Create (definition=None) or update a definition. Key, target and type are fixed after creation."""
    require_permission(actor, CUSTOMFIELDS_MANAGE)
    errors: dict[str, list[str]] = {}
    if definition is None:
        if target not in targets():
            errors["target"] = [_("Choose a record type from the list.")]
        if not KEY_PATTERN.match(key or ""):
            errors["key"] = [_("Use lower-case letters, digits and _, starting with a letter.")]
        elif CustomFieldDefinition.objects.filter(target=target, key=key).exists():
            errors["key"] = [_("This key is already used for this record type.")]
        if field_type not in FieldType.values:
            errors["field_type"] = [_("Choose a field type from the list.")]
    else:
        target, key, field_type = definition.target, definition.key, definition.field_type
    if not clean_text(label_zh):
        errors["label_zh"] = [_("Enter a Chinese label.")]
    if not clean_text(label_en):
        errors["label_en"] = [_("Enter an English label.")]
    cleaned_choices: list[dict[str, str]] = []
    if field_type in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        try:
            cleaned_choices = _clean_choices(choices)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    if definition is None:
        definition = CustomFieldDefinition(target=target, key=key, field_type=field_type)
    else:
        definition.bump_version()
    definition.label_zh, definition.label_en = clean_text(label_zh), clean_text(label_en)
    definition.choices = cleaned_choices
    definition.required = bool(required)
    definition.help_text_zh, definition.help_text_en = clean_text(help_text_zh), clean_text(help_text_en)
    definition.position = int(position)
    definition.is_active = bool(is_active)
    definition.save()
    return definition

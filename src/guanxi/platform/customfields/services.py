"""Writes for custom field definitions; a definition is checked completely before it is saved."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.platform.audit.history import attribute_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.text import clean_text
from guanxi.platform.core.versioning import ensure_version
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from guanxi.platform.customfields.registry import targets
from guanxi.platform.identity.permissions import CUSTOMFIELDS_MANAGE
from guanxi.platform.identity.scoping import require_permission

KEY_PATTERN = re.compile(r"^[a-z](?:[a-z0-9]|_(?!_))*(?<!_)$")
KEY_MAX = 50
LABEL_MAX = 100
HELP_MAX = 200
CHOICES_MAX = 200
CHOICE_VALUE_MAX = 50
# Keys that would read as query lookups in filters (custom_fields__<key>__...) are refused.
RESERVED_KEYS = frozenset(
    {
        "exact", "iexact", "contains", "icontains", "in", "gt", "gte", "lt", "lte", "startswith", "istartswith",
        "endswith", "iendswith", "range", "isnull", "regex", "iregex", "contained_by", "has_key", "has_keys",
        "has_any_keys", "key", "keys", "amount", "currency", "pk", "id",
    }
)  # fmt: skip


def _clean_choices(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed.for_field("choices", _("Add at least one option."))
    if len(raw) > CHOICES_MAX:
        raise ValidationFailed.for_field("choices", _("Offer at most %(n)s options.") % {"n": CHOICES_MAX})
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
        if len(value) > CHOICE_VALUE_MAX or "," in value or '"' in value:
            raise ValidationFailed.for_field(
                "choices",
                _("Option “%(value)s”: use at most %(n)s characters and no commas or quotes in a value.")
                % {"value": value[:60], "n": CHOICE_VALUE_MAX},
            )
        if len(label_zh) > LABEL_MAX or len(label_en) > LABEL_MAX:
            raise ValidationFailed.for_field(
                "choices",
                _("Option “%(value)s”: keep its labels to %(n)s characters or fewer.")
                % {"value": value, "n": LABEL_MAX},
            )
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
    version: int | None = None,
) -> CustomFieldDefinition:
    """Create (definition=None) or update a definition. Key, target and type are fixed after creation."""
    require_permission(actor, CUSTOMFIELDS_MANAGE)
    errors: dict[str, list[str]] = {}
    if definition is None:
        key = clean_text(key)
        if target not in targets():
            errors["target"] = [_("Choose a record type from the list.")]
        if not key or len(key) > KEY_MAX or not KEY_PATTERN.match(key):
            errors["key"] = [
                _("Use up to %(n)s lower-case letters, digits and single _, starting with a letter.") % {"n": KEY_MAX}
            ]
        elif key in RESERVED_KEYS:
            errors["key"] = [_("“%(key)s” is reserved; choose another key.") % {"key": key}]
        elif CustomFieldDefinition.objects.filter(target=target, key=key).exists():
            errors["key"] = [_("This key is already used for this record type.")]
        if field_type not in FieldType.values:
            errors["field_type"] = [_("Choose a field type from the list.")]
    else:
        target, key, field_type = definition.target, definition.key, definition.field_type
    label_zh, label_en = clean_text(label_zh), clean_text(label_en)
    help_text_zh, help_text_en = clean_text(help_text_zh), clean_text(help_text_en)
    if not label_zh:
        errors["label_zh"] = [_("Enter a Chinese label.")]
    if not label_en:
        errors["label_en"] = [_("Enter an English label.")]
    for field, value, limit in (
        ("label_zh", label_zh, LABEL_MAX),
        ("label_en", label_en, LABEL_MAX),
        ("help_text_zh", help_text_zh, HELP_MAX),
        ("help_text_en", help_text_en, HELP_MAX),
    ):
        if len(value) > limit:
            errors[field] = [_("Keep it to %(n)s characters or fewer.") % {"n": limit}]
    try:
        position = int(position)
        if not 0 <= position <= 100_000:
            raise ValueError
    except (TypeError, ValueError):
        errors["position"] = [_("Enter a whole number from 0 to 100000.")]
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
        definition = CustomFieldDefinition.objects.select_for_update().get(pk=definition.pk)
        ensure_version(definition, version)
        definition.bump_version()
    definition.label_zh, definition.label_en = label_zh, label_en
    definition.choices = cleaned_choices
    definition.required = bool(required)
    definition.help_text_zh, definition.help_text_en = help_text_zh, help_text_en
    definition.position = position
    definition.is_active = bool(is_active)
    attribute_history(definition, actor)
    definition.save()
    return definition

"""Validation of custom field values on every write, and JSON/display forms of each type.

Stored forms (in the record's `custom_fields` JSON column):
text/url/choice: str; number: str of a Decimal; money: {"amount": "12.50", "currency": "CNY"};
date: "YYYY-MM-DD"; multi_choice: list[str]; boolean: bool; user: int (user id).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.text import clean_text
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType

MAX_TEXT = 2000


def active_definitions(target: str) -> list[CustomFieldDefinition]:
    return list(CustomFieldDefinition.objects.filter(target=target, is_active=True).order_by("position", "id"))


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _clean_decimal(value: Any) -> Decimal:
    text = clean_text(str(value)).replace(",", "") if not isinstance(value, bool) else "x"
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("Enter a number.")) from None
    if not number.is_finite() or abs(number) >= Decimal("1e15"):
        raise ValueError(_("Enter a number smaller than a million billion."))
    return number


def canonical_number(number: Decimal) -> str:
    """One spelling per number ("12.50" and "12.5" are both "12.5"), so equal numbers compare equal."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def clean_value(definition: CustomFieldDefinition, value: Any) -> Any:
    """Return the stored form of `value` for this definition, or raise ValueError with a message."""
    kind = definition.field_type
    if kind == FieldType.TEXT:
        text = clean_text(str(value))
        if len(text) > MAX_TEXT:
            raise ValueError(_("Keep it under %(n)s characters.") % {"n": MAX_TEXT})
        return text
    if kind == FieldType.NUMBER:
        return canonical_number(_clean_decimal(value))
    if kind == FieldType.MONEY:
        if isinstance(value, dict):
            amount_raw, currency = value.get("amount"), value.get("currency")
        else:
            amount_raw, currency = value, None
        amount = _clean_decimal(amount_raw).quantize(Decimal("0.01"))
        currency = clean_text(str(currency or settings.GUANXI_DEFAULT_CURRENCY)).upper()
        if len(currency) != 3 or not currency.isalpha():
            raise ValueError(_("Use a three-letter currency code such as CNY."))
        return {"amount": str(amount), "currency": currency}
    if kind == FieldType.DATE:
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(clean_text(str(value))).isoformat()
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None
    if kind == FieldType.CHOICE:
        allowed = {c["value"] for c in definition.choices}
        text = clean_text(str(value))
        if text not in allowed:
            raise ValueError(_("Choose one of the listed options."))
        return text
    if kind == FieldType.MULTI_CHOICE:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if not isinstance(value, list | tuple):
            raise ValueError(_("Choose options from the list."))
        allowed = {c["value"] for c in definition.choices}
        picked = [clean_text(str(v)) for v in value]
        if any(v not in allowed for v in picked):
            raise ValueError(_("Choose options from the list."))
        return sorted(set(picked), key=picked.index)
    if kind == FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = clean_text(str(value)).lower()
        if text in {"1", "true", "yes", "on", "是", "y"}:
            return True
        if text in {"0", "false", "no", "off", "否", "n"}:
            return False
        raise ValueError(_("Answer yes or no."))
    if kind == FieldType.USER:
        from django.contrib.auth import get_user_model

        try:
            user_id = int(value)
        except (TypeError, ValueError):
            raise ValueError(_("Choose a user.")) from None
        if not get_user_model().objects.filter(pk=user_id, is_active=True).exists():
            raise ValueError(_("Choose an active user."))
        return user_id
    if kind == FieldType.URL:
        text = clean_text(str(value))
        try:
            URLValidator(schemes=["http", "https"])(text)
        except DjangoValidationError:
            raise ValueError(_("Enter a web address starting with http:// or https://.")) from None
        return text
    raise ValueError(_("Unknown field type."))


def clean_custom_values(
    target: str,
    raw: Any,
    *,
    existing: dict[str, Any] | None = None,
    partial: bool = False,
    field_prefix: str = "custom_fields.",
    definitions: list[CustomFieldDefinition] | None = None,
) -> dict[str, Any]:
    """Validate `raw` against the active definitions; returns the full stored dict.

    With `partial`, keys not in `raw` keep their existing values (PATCH). Unknown keys are refused.
    Raises ValidationFailed naming every bad field ("custom_fields.<key>"), or "custom_fields" itself when
    `raw` (as a client sent it) is not an object.
    """
    if raw is not None and not isinstance(raw, Mapping):
        raise ValidationFailed.for_field(field_prefix.rstrip("."), _("Custom fields must be an object of key: value."))
    raw = dict(raw or {})
    definitions = active_definitions(target) if definitions is None else definitions
    by_key = {d.key: d for d in definitions}
    errors: dict[str, list[str]] = {}
    for key in raw:
        if key not in by_key:
            errors[f"{field_prefix}{key}"] = [_("There is no custom field “%(key)s”.") % {"key": key}]
    result: dict[str, Any] = dict(existing or {}) if partial else {}
    if partial:
        for key in list(result):
            if key not in by_key:
                result.pop(key)
    for key, definition in by_key.items():
        if key not in raw:
            if definition.required and _is_empty(result.get(key)) and not partial:
                errors[f"{field_prefix}{key}"] = [_("This field is required.")]
            continue
        value = raw[key]
        if _is_empty(value):
            if definition.required:
                errors[f"{field_prefix}{key}"] = [_("This field is required.")]
            result.pop(key, None)
            continue
        try:
            result[key] = clean_value(definition, value)
        except ValueError as exc:
            errors[f"{field_prefix}{key}"] = [str(exc)]
    for key in [k for k, v in result.items() if v is None]:
        result.pop(key)
    if errors:
        raise ValidationFailed(fields=errors)
    return result


def display_value(definition: CustomFieldDefinition, value: Any, users: dict[int, str] | None = None) -> str:
    """Human form of a stored value, in the active language."""
    if _is_empty(value):
        return ""
    kind = definition.field_type
    if kind == FieldType.MONEY and isinstance(value, dict):
        return f"{value.get('currency', '')} {value.get('amount', '')}"
    if kind == FieldType.BOOLEAN:
        return _("Yes") if value else _("No")
    if kind == FieldType.CHOICE:
        return definition.choice_label(str(value))
    if kind == FieldType.MULTI_CHOICE and isinstance(value, list):
        return ", ".join(definition.choice_label(str(v)) for v in value)
    if kind == FieldType.USER:
        return (users or {}).get(int(value), f"#{value}")
    return str(value)

"""Form fields built from custom field definitions ("cf_<key>"), and reading them back for a service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from guanxi.platform.customfields.values import active_definitions

PREFIX = "cf_"


def _choices(definition: CustomFieldDefinition) -> list[tuple[str, str]]:
    return [(c["value"], definition.choice_label(c["value"])) for c in definition.choices]


def form_field_for(definition: CustomFieldDefinition) -> forms.Field:
    """A Django form field that collects raw input; validation proper happens in the service."""
    common: dict[str, Any] = {"label": definition.label, "required": False, "help_text": definition.help_text}
    kind = definition.field_type
    if kind == FieldType.CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *_choices(definition)], **common)
    if kind == FieldType.MULTI_CHOICE:
        return forms.MultipleChoiceField(choices=_choices(definition), widget=forms.CheckboxSelectMultiple, **common)
    if kind == FieldType.BOOLEAN:
        return forms.NullBooleanField(
            widget=forms.Select(choices=[("", "—"), ("true", _("Yes")), ("false", _("No"))]), **common
        )
    if kind == FieldType.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FieldType.USER:
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        return forms.ChoiceField(choices=[("", "—"), *[(str(u.pk), str(u)) for u in users]], **common)
    if kind in (FieldType.NUMBER, FieldType.MONEY):
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    if kind == FieldType.URL:
        return forms.CharField(widget=forms.URLInput(), **common)
    return forms.CharField(widget=forms.TextInput(), max_length=2000, **common)


def add_custom_fields(form: forms.Form, target: str, current: dict[str, Any] | None = None) -> list[str]:
    """Add a field per active definition to `form`; returns the added field names in order."""
    names = []
    for definition in active_definitions(target):
        name = f"{PREFIX}{definition.key}"
        field = form_field_for(definition)
        if definition.required:
            field.label = f"{definition.label}"
        form.fields[name] = field
        if current and definition.key in current and not form.is_bound:
            value = current[definition.key]
            if definition.field_type == FieldType.MONEY and isinstance(value, dict):
                value = value.get("amount")
            if definition.field_type == FieldType.BOOLEAN:
                value = "true" if value else "false"
            form.initial[name] = value
        names.append(name)
    return names


def custom_values_from_form(form: forms.Form) -> dict[str, Any]:
    """The raw custom values of a submitted form, keyed by definition key, for `clean_custom_values`."""
    values: dict[str, Any] = {}
    for name, value in form.cleaned_data.items():
        if name.startswith(PREFIX):
            values[name[len(PREFIX) :]] = value
    return values

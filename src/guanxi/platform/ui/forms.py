"""Bridging domain validation errors to Django forms, so messages appear next to the right field."""

from __future__ import annotations

from django import forms

from guanxi.platform.core.errors import ValidationFailed


def form_field_name(domain_field: str) -> str:
    """Domain field names to form field names: "custom_fields.size" -> "cf_size", "owner_id" -> "owner"."""
    if domain_field.startswith("custom_fields."):
        return "cf_" + domain_field.split(".", 1)[1]
    if domain_field.endswith("_id"):
        return domain_field[: -len("_id")]
    return domain_field


def add_domain_errors(form: forms.Form, exc: ValidationFailed) -> None:
    """Attach each field error to its form field, or to the form as a whole when no field matches."""
    if not exc.fields:
        form.add_error(None, exc.message)
        return
    for domain_field, messages in exc.fields.items():
        name = form_field_name(domain_field)
        if name not in form.fields:
            name = domain_field if domain_field in form.fields else ""
        for message in messages:
            if name:
                if name in form.errors and message in form.errors[name]:
                    continue
                form.add_error(name, message)
            else:
                form.add_error(None, f"{domain_field}: {message}")

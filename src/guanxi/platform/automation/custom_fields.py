"""Custom fields as rule fields: "custom_fields.<key>", typed after their definition.

Values are stored in the record's JSON column in the forms `customfields.values` describes (numbers as
canonical strings, dates as "YYYY-MM-DD", money as {"amount", "currency"}); `values.normalise` reads them
back into Python values for comparisons.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.platform.automation.registry import FieldKind, RecordField
from guanxi.platform.customfields.models import FieldType
from guanxi.platform.customfields.values import active_definitions

_KINDS = {
    FieldType.TEXT: FieldKind.TEXT,
    FieldType.URL: FieldKind.TEXT,
    FieldType.NUMBER: FieldKind.DECIMAL,
    FieldType.MONEY: FieldKind.DECIMAL,
    FieldType.DATE: FieldKind.DATE,
    FieldType.CHOICE: FieldKind.CHOICE,
    FieldType.MULTI_CHOICE: FieldKind.CHOICE,
    FieldType.BOOLEAN: FieldKind.BOOL,
    FieldType.USER: FieldKind.USER,
}


def custom_record_fields(target: str) -> list[RecordField]:
    """One rule field per active custom field definition of `target` (one query)."""
    fields = []
    for definition in active_definitions(target):
        kind = _KINDS.get(FieldType(definition.field_type))
        if kind is None:
            continue
        lookup = f"custom_fields__{definition.key}"
        if definition.field_type == FieldType.MONEY:
            lookup += "__amount"
        fields.append(
            RecordField(
                path=f"custom_fields.{definition.key}",
                label=definition.label,
                kind=kind,
                lookup=lookup,
                choices=tuple((str(c["value"]), definition.choice_label(str(c["value"]))) for c in definition.choices),
                multiple=definition.field_type == FieldType.MULTI_CHOICE,
                change_key=f"custom_fields.{definition.key}",
                settable=True,
                in_json=True,
                group=_("Custom fields"),
            )
        )
    return fields

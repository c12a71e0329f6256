"""Custom fields as list filters: query parameters `cf.<key>` become JSON lookups on both databases."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from guanxi.platform.customfields.values import clean_value

PARAM_PREFIX = "cf."


def custom_field_filter_q(
    definitions: list[CustomFieldDefinition], params: Mapping[str, Any], *, column: str = "custom_fields"
) -> Q:
    """Equality filter per custom field (contains for multi-choice, icontains for text)."""
    by_key = {d.key: d for d in definitions}
    q = Q()
    for name, raw in params.items():
        if not name.startswith(PARAM_PREFIX) or raw in (None, ""):
            continue
        key = name[len(PARAM_PREFIX) :]
        definition = by_key.get(key)
        if definition is None:
            raise ValidationFailed.for_field(name, _("There is no custom field “%(key)s”.") % {"key": key})
        try:
            if definition.field_type == FieldType.MULTI_CHOICE:
                value = clean_value(definition, [raw])[0]
                # JSON array membership without JSON containment (SQLite has none): match the quoted token.
                # SQLite returns the array as stored, with non-ASCII characters \u-escaped; PostgreSQL does not.
                member = Q(**{f"{column}__{key}__icontains": f'"{value}"'})
                escaped = json.dumps(value)
                if escaped != f'"{value}"':
                    member |= Q(**{f"{column}__{key}__icontains": escaped})
                q &= member
                continue
            value = clean_value(definition, raw)
        except ValueError as exc:
            raise ValidationFailed.for_field(name, str(exc)) from None
        if definition.field_type == FieldType.TEXT:
            q &= Q(**{f"{column}__{key}__icontains": value})
        elif definition.field_type == FieldType.MONEY:
            q &= Q(**{f"{column}__{key}__amount": value["amount"]})
        else:
            q &= Q(**{f"{column}__{key}": value})
    return q

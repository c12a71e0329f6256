"""Merge fields in the texts of actions (a task title, a notification): "Call {name} ({lifecycle_stage})".

A placeholder names a field of the rule's record type by its path ({owner}, {custom_fields.tier}) or one of
{record} (the record's name), {record_id} and {rule}. Values are shown as people read them (choice labels,
user names). "{{" and "}}" write literal braces. Unknown placeholders are refused when the rule is saved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from guanxi.platform.automation.registry import RecordField
from guanxi.platform.automation.values import display, read_value

if TYPE_CHECKING:
    from guanxi.platform.automation.registry import ActionContext

PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
SPECIAL = ("record", "record_id", "rule")


def placeholders(text: str) -> list[str]:
    return [match.group(1).strip() for match in PLACEHOLDER.finditer(text) if match.group(1) is not None]


def merge_text_error(text: str, fields: Mapping[str, RecordField]) -> str | None:
    """A message naming the first unknown placeholder of `text`, or None when every one is known."""
    for name in placeholders(text):
        if name not in fields and name not in SPECIAL:
            return _("Unknown merge field {%(name)s}; use a field of the record such as {record} or {%(example)s}.") % {
                "name": name,
                "example": next(iter(fields), "record_id"),
            }
    stray = PLACEHOLDER.sub("", text)
    if "{" in stray or "}" in stray:
        return _("Close every merge field with }; write {{ or }} for a brace.")
    return None


def merge_text(text: str, context: ActionContext) -> str:
    """`text` with each placeholder replaced by the value of the context's record."""
    fields = context.fields()

    def replace(match: re.Match[str]) -> str:
        whole, name = match.group(0), match.group(1)
        if name is None:
            return whole[0]
        name = name.strip()
        if name == "record_id":
            return str(context.record_id)
        if name == "rule":
            return context.rule_name
        if name == "record":
            return (
                context.record_type.display(context.record) if context.record is not None else f"#{context.record_id}"
            )
        field = fields.get(name)
        if field is None or context.record is None:
            return ""
        value = read_value(context.record, field)
        return "" if value is None else display(field, value)

    return PLACEHOLDER.sub(replace, text)

"""Custom fields in the OpenAPI schema: the JSON Schema of one record type's `custom_fields` object.

`custom_fields_schema(target)` builds it from the active definitions, so an administrator's new field
appears in /api/v1/openapi.json at once. Each property carries the type, format and allowed values, and
a description in both languages (labels, help and the labels of each option).
"""

from __future__ import annotations

from typing import Any

from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from guanxi.platform.customfields.values import MAX_TEXT, active_definitions

_DECIMAL: dict[str, Any] = {"anyOf": [{"type": "number"}, {"type": "string", "format": "decimal"}]}
_TYPE_NOTES = {
    FieldType.NUMBER: "A number; sent back as a decimal string. / 数字，以十进制字符串返回。",
    FieldType.MONEY: "An amount and a three-letter currency code (default CNY). / 金额与三位货币代码（默认 CNY）。",
    FieldType.DATE: "A date as YYYY-MM-DD. / 日期，格式 YYYY-MM-DD。",
    FieldType.MULTI_CHOICE: "Any of the options, without repeats. / 可多选，不重复。",
    FieldType.USER: "The id of an active user. / 在职用户的 ID。",
    FieldType.URL: "A web address starting with http:// or https://. / 以 http:// 或 https:// 开头的网址。",
}


def _choice_values(definition: CustomFieldDefinition) -> list[str]:
    return [str(c.get("value")) for c in definition.choices if isinstance(c, dict)]


def _type_schema(definition: CustomFieldDefinition) -> dict[str, Any]:
    kind = definition.field_type
    choices = _choice_values(definition)
    if kind == FieldType.TEXT:
        return {"type": "string", "maxLength": MAX_TEXT}
    if kind == FieldType.NUMBER:
        return dict(_DECIMAL)
    if kind == FieldType.MONEY:
        return {
            "type": "object",
            "properties": {
                "amount": dict(_DECIMAL),
                "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$", "example": "CNY"},
            },
            "required": ["amount"],
            "additionalProperties": False,
        }
    if kind == FieldType.DATE:
        return {"type": "string", "format": "date"}
    if kind == FieldType.CHOICE:
        return {"type": "string", "enum": choices}
    if kind == FieldType.MULTI_CHOICE:
        return {"type": "array", "items": {"type": "string", "enum": choices}, "uniqueItems": True}
    if kind == FieldType.BOOLEAN:
        return {"type": "boolean"}
    if kind == FieldType.USER:
        return {"type": "integer", "minimum": 1}
    if kind == FieldType.URL:
        return {"type": "string", "format": "uri", "maxLength": MAX_TEXT}
    return {}


def _description(definition: CustomFieldDefinition) -> str:
    lines = [f"{definition.label_en} / {definition.label_zh}"]
    if definition.help_text_en or definition.help_text_zh:
        lines.append(" / ".join(t for t in (definition.help_text_en, definition.help_text_zh) if t))
    note = _TYPE_NOTES.get(FieldType(definition.field_type)) if definition.field_type in FieldType.values else None
    if note:
        lines.append(note)
    if definition.field_type in (FieldType.CHOICE, FieldType.MULTI_CHOICE) and definition.choices:
        options = "; ".join(
            f"`{c.get('value')}`: {c.get('label_en') or c.get('value')} / {c.get('label_zh') or c.get('value')}"
            for c in definition.choices
        )
        lines.append(f"Options / 选项: {options}")
    if definition.required:
        lines.append("Required when a record is created. / 创建记录时必填。")
    return "\n\n".join(lines)


def field_schema(definition: CustomFieldDefinition) -> dict[str, Any]:
    """The JSON Schema of one custom field's value, with both labels and the field type as extensions."""
    schema = _type_schema(definition)
    schema["title"] = definition.label_en or definition.key
    schema["description"] = _description(definition)
    schema["x-label-zh"] = definition.label_zh
    schema["x-label-en"] = definition.label_en
    schema["x-field-type"] = str(definition.field_type)
    if definition.field_type in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        schema["x-enum-labels"] = {
            str(c.get("value")): {"zh": c.get("label_zh", ""), "en": c.get("label_en", "")} for c in definition.choices
        }
    return schema


def custom_fields_schema(target: str) -> dict[str, Any]:
    """JSON Schema of the `custom_fields` object of `target` ("customers.customer") from the active definitions.

    `required` lists the fields a new record must have; whoever publishes a read or patch schema drops it.
    """
    definitions = active_definitions(target)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {d.key: field_schema(d) for d in definitions},
        "additionalProperties": False,
        "description": "Fields an administrator defined for this record type. / 管理员为此类记录定义的自定义字段。",
    }
    required = [d.key for d in definitions if d.required]
    if required:
        schema["required"] = required
    return schema

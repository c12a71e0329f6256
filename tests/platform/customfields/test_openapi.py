"""The JSON Schema of a record type's custom fields, as published in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from django.test import Client

from guanxi.platform.customfields.models import CustomFieldDefinition
from guanxi.platform.customfields.openapi import custom_fields_schema
from tests.platform.customfields.conftest import TARGET


def test_schema_has_one_property_per_active_field_with_type_and_format(every_type: dict[str, Any]) -> None:
    CustomFieldDefinition.objects.filter(key="tier").update(
        required=True, help_text_en="Card level", help_text_zh="卡级"
    )
    CustomFieldDefinition.objects.create(
        target=TARGET, key="gone", label_zh="旧", label_en="Gone", field_type="text", is_active=False
    )
    schema = custom_fields_schema(TARGET)
    props = schema["properties"]
    assert list(props) == list(every_type)
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["tier"]
    assert props["note"]["type"] == "string" and props["note"]["maxLength"] == 2000
    assert props["employees"]["anyOf"] == [{"type": "number"}, {"type": "string", "format": "decimal"}]
    assert props["budget"]["type"] == "object" and props["budget"]["required"] == ["amount"]
    assert props["signed_on"] == {**props["signed_on"], "type": "string", "format": "date"}
    assert props["tier"]["enum"] == ["gold", "silver"]
    assert props["tier"]["x-enum-labels"]["gold"] == {"zh": "金卡", "en": "Gold"}
    assert props["hobbies"]["type"] == "array" and props["hobbies"]["items"]["enum"] == ["golf", "tea", "书法"]
    assert props["hobbies"]["uniqueItems"] is True
    assert props["vip"]["type"] == "boolean"
    assert props["buddy"]["type"] == "integer"
    assert props["homepage"]["format"] == "uri"


def test_descriptions_are_in_both_languages(every_type: dict[str, Any]) -> None:
    CustomFieldDefinition.objects.filter(key="tier").update(
        help_text_en="Card level", help_text_zh="卡级", required=True
    )
    tier = custom_fields_schema(TARGET)["properties"]["tier"]
    assert (tier["title"], tier["x-label-zh"], tier["x-label-en"], tier["x-field-type"]) == (
        "Tier",
        "tier中",
        "Tier",
        "choice",
    )
    assert tier["description"].split("\n\n") == [
        "Tier / tier中",
        "Card level / 卡级",
        "Options / 选项: `gold`: Gold / 金卡; `silver`: Silver / 银卡",
        "Required when a record is created. / 创建记录时必填。",
    ]


def test_a_type_without_fields_gets_an_empty_closed_object(db: None) -> None:
    schema = custom_fields_schema("customers.lead")
    assert schema["properties"] == {} and schema["additionalProperties"] is False and "required" not in schema


def test_a_new_field_appears_in_the_openapi_document(org: Any, every_type: dict[str, Any]) -> None:
    document = Client().get("/api/v1/openapi.json").json()
    published = [
        prop
        for component in document["components"]["schemas"].values()
        for name, prop in component.get("properties", {}).items()
        if name == "custom_fields" and prop.get("x-custom-fields-target") == TARGET
    ]
    assert published  # the customers API marks its custom_fields properties with their record type
    options = [o for p in published for o in ([p, *p.get("anyOf", [])]) if o.get("type") == "object"]
    assert options and all(set(o["properties"]) == set(every_type) for o in options)

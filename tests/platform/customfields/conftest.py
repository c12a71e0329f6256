"""Fixtures for custom field tests: a definition of each type on customers."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType

TARGET = "customers.customer"
TIERS = [
    {"value": "gold", "label_zh": "金卡", "label_en": "Gold"},
    {"value": "silver", "label_zh": "银卡", "label_en": "Silver"},
]
HOBBIES = [
    {"value": "golf", "label_zh": "高尔夫", "label_en": "Golf"},
    {"value": "tea", "label_zh": "茶道", "label_en": "Tea"},
    {"value": "书法", "label_zh": "书法", "label_en": "Calligraphy"},
]


def define(key: str, field_type: str, **extra: Any) -> CustomFieldDefinition:
    return CustomFieldDefinition.objects.create(
        target=TARGET, key=key, label_zh=f"{key}中", label_en=key.title(), field_type=field_type, **extra
    )


@pytest.fixture
def every_type(db: None) -> dict[str, CustomFieldDefinition]:
    return {
        "note": define("note", FieldType.TEXT),
        "employees": define("employees", FieldType.NUMBER),
        "budget": define("budget", FieldType.MONEY),
        "signed_on": define("signed_on", FieldType.DATE),
        "tier": define("tier", FieldType.CHOICE, choices=TIERS),
        "hobbies": define("hobbies", FieldType.MULTI_CHOICE, choices=HOBBIES),
        "vip": define("vip", FieldType.BOOLEAN),
        "buddy": define("buddy", FieldType.USER),
        "homepage": define("homepage", FieldType.URL),
    }

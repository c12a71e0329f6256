"""Custom field definitions: every rule checked before saving; only custom-field managers write them."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.platform.core.errors import PermissionDenied, StaleVersion, ValidationFailed
from guanxi.platform.customfields.models import CustomFieldDefinition
from guanxi.platform.customfields.services import custom_field_save
from tests.platform.customfields.conftest import TARGET, TIERS


def _save(actor: Any, definition: CustomFieldDefinition | None = None, **overrides: Any) -> CustomFieldDefinition:
    values: dict[str, Any] = {
        "target": TARGET,
        "key": "tier",
        "label_zh": "等级",
        "label_en": "Tier",
        "field_type": "choice",
        "choices": TIERS,
    }
    values.update(overrides)
    return custom_field_save(actor=actor, definition=definition, **values)


def test_admin_defines_a_choice_field(org: Any) -> None:
    definition = _save(org.actor("admin"), label_zh=" 等级 ", required=True, position=3)
    assert (definition.key, definition.label_zh, definition.required, definition.position) == ("tier", "等级", True, 3)
    assert definition.choices == TIERS


def test_duplicate_key_for_the_same_record_type_is_refused(org: Any) -> None:
    _save(org.actor("admin"))
    with pytest.raises(ValidationFailed) as failed:
        _save(org.actor("admin"), field_type="text", choices=None)
    assert failed.value.fields == {"key": ["This key is already used for this record type."]}
    # The same key on another record type is fine.
    _save(org.actor("admin"), target="customers.lead")


@pytest.mark.parametrize("key", ["Tier", "1tier", "tier__gold", "tier_", "tier-x", "", "k" * 51])
def test_bad_keys_are_refused(org: Any, key: str) -> None:
    with pytest.raises(ValidationFailed) as failed:
        _save(org.actor("admin"), key=key)
    assert failed.value.fields == {
        "key": ["Use up to 50 lower-case letters, digits and single _, starting with a letter."]
    }


@pytest.mark.parametrize("key", ["contains", "has_key", "amount", "isnull"])
def test_keys_that_read_as_lookups_are_reserved(org: Any, key: str) -> None:
    with pytest.raises(ValidationFailed) as failed:
        _save(org.actor("admin"), key=key)
    assert failed.value.fields == {"key": [f"“{key}” is reserved; choose another key."]}


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        (None, "Add at least one option."),
        ([], "Add at least one option."),
        ("gold,silver", "Add at least one option."),
        (["gold"], "Each option needs a value and labels."),
        ([{"value": " "}], "Each option needs a value."),
        ([{"value": "gold"}, {"value": "gold"}], "Option “gold” appears twice."),
        ([{"value": "a,b"}], "Option “a,b”: use at most 50 characters and no commas or quotes in a value."),
        ([{"value": "gold", "label_en": "G" * 101}], "Option “gold”: keep its labels to 100 characters or fewer."),
    ],
)
def test_bad_choices_are_refused(org: Any, choices: Any, message: str) -> None:
    with pytest.raises(ValidationFailed) as failed:
        _save(org.actor("admin"), field_type="multi_choice", choices=choices)
    assert failed.value.fields == {"choices": [message]}


def test_choice_labels_default_to_the_value(org: Any) -> None:
    definition = _save(org.actor("admin"), choices=[{"value": "A"}])
    assert definition.choices == [{"value": "A", "label_zh": "A", "label_en": "A"}]


def test_every_bad_field_is_named_at_once(org: Any) -> None:
    with pytest.raises(ValidationFailed) as failed:
        _save(
            org.actor("admin"),
            target="nowhere.thing",
            field_type="colour",
            label_zh="",
            label_en="L" * 101,
            help_text_en="h" * 201,
            position=-1,
        )
    assert failed.value.fields == {
        "target": ["Choose a record type from the list."],
        "field_type": ["Choose a field type from the list."],
        "label_zh": ["Enter a Chinese label."],
        "label_en": ["Keep it to 100 characters or fewer."],
        "help_text_en": ["Keep it to 200 characters or fewer."],
        "position": ["Enter a whole number from 0 to 100000."],
    }
    assert CustomFieldDefinition.objects.count() == 0


def test_key_target_and_type_are_fixed_after_creation(org: Any) -> None:
    definition = _save(org.actor("admin"))
    updated = _save(
        org.actor("admin"),
        definition,
        key="other",
        field_type="text",
        target="customers.lead",
        label_en="Level",
        version=1,
    )
    assert (updated.key, updated.field_type, updated.target, updated.label_en, updated.version) == (
        "tier",
        "choice",
        TARGET,
        "Level",
        2,
    )
    with pytest.raises(StaleVersion):
        _save(org.actor("admin"), definition, label_en="Again", version=1)


def test_only_custom_field_managers_define_fields(org: Any) -> None:
    with pytest.raises(PermissionDenied):
        _save(org.actor("manager_north"))

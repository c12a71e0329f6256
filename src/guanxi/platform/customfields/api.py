"""API routes for custom field definitions: read by everyone, written by those who manage custom fields."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Query, Router, Schema, Status

from guanxi.platform.core.api import (
    IF_MATCH,
    UPDATE_ERROR_STATUSES,
    Payload,
    actor_of,
    etag_for,
    expected_version,
    responses,
)
from guanxi.platform.customfields import registry, selectors, services
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType

router = Router(tags=["custom fields"])


class ChoiceOut(Schema):
    value: str
    label_zh: str
    label_en: str


class ChoiceIn(Payload):
    value: str
    label_zh: str = ""
    label_en: str = ""


class CustomFieldOut(Schema):
    id: int
    target: str
    key: str
    field_type: FieldType
    label_zh: str
    label_en: str
    choices: list[ChoiceOut]
    required: bool
    help_text_zh: str
    help_text_en: str
    position: int
    is_active: bool
    version: int


class CustomFieldList(Schema):
    items: list[CustomFieldOut]


def _list_targets(schema: dict[str, Any]) -> None:
    """The record types that take custom fields, as the apps registered them (read when the schema is built)."""
    schema["enum"] = sorted(registry.targets())


class CustomFieldCreate(Payload):
    target: str = Field(
        ..., description='The record type, such as "customers.customer".', json_schema_extra=_list_targets
    )
    key: str = Field(
        ...,
        description="Lower-case letters, digits and single _, starting with a letter; fixed once created.",
        # What services.KEY_PATTERN accepts, written without look-arounds; the service checks it (and the
        # reserved words) with its own message.
        json_schema_extra={"pattern": "^[a-z](_?[a-z0-9])*$", "maxLength": services.KEY_MAX},
    )
    field_type: FieldType
    label_zh: str
    label_en: str
    choices: list[ChoiceIn] = Field(default_factory=list, description="For choice and multi_choice fields.")
    required: bool = False
    help_text_zh: str = ""
    help_text_en: str = ""
    position: int = 0
    is_active: bool = True


class CustomFieldPatch(Payload):
    label_zh: str | None = None
    label_en: str | None = None
    choices: list[ChoiceIn] | None = None
    required: bool | None = None
    help_text_zh: str | None = None
    help_text_en: str | None = None
    position: int | None = None
    is_active: bool | None = None
    version: int | None = Field(None, description="The version you read; or send it in the If-Match header.")


def _list_targets_or_all(schema: dict[str, Any]) -> None:
    schema["enum"] = ["", *sorted(registry.targets())]


class ListQuery(Schema):
    target: str = Field(
        "", description='Only this record type, such as "customers.customer".', json_schema_extra=_list_targets_or_all
    )
    include_inactive: bool = Field(False, description="Also inactive fields (needs the right to manage them).")


def _out(definition: CustomFieldDefinition) -> CustomFieldOut:
    return CustomFieldOut(
        id=definition.pk,
        target=definition.target,
        key=definition.key,
        field_type=FieldType(definition.field_type),
        label_zh=definition.label_zh,
        label_en=definition.label_en,
        choices=[ChoiceOut(**choice) for choice in definition.choices],
        required=definition.required,
        help_text_zh=definition.help_text_zh,
        help_text_en=definition.help_text_en,
        position=definition.position,
        is_active=definition.is_active,
        version=definition.version,
    )


@router.get("/custom-fields", response=responses(CustomFieldList), summary="List custom field definitions")
def list_custom_fields(request: HttpRequest, query: Query[ListQuery]) -> CustomFieldList:
    definitions = selectors.definition_list(
        actor=actor_of(request), target=query.target, include_inactive=query.include_inactive
    )
    return CustomFieldList(items=[_out(d) for d in definitions])


@router.get(
    "/custom-fields/{definition_id}",
    response=responses(CustomFieldOut),
    summary="Get a custom field definition",
    description="The ETag header carries the version.",
)
def get_custom_field(request: HttpRequest, response: HttpResponse, definition_id: int) -> CustomFieldOut:
    definition = selectors.definition_get(actor=actor_of(request), definition_id=definition_id)
    response["ETag"] = etag_for(definition.version)
    return _out(definition)


@router.post(
    "/custom-fields", response=responses(CustomFieldOut, status=201), summary="Create a custom field definition"
)
def create_custom_field(request: HttpRequest, payload: CustomFieldCreate) -> Status[CustomFieldOut]:
    data = payload.model_dump(mode="python")
    definition = services.custom_field_save(
        actor=actor_of(request),
        definition=None,
        target=data["target"],
        key=data["key"],
        label_zh=data["label_zh"],
        label_en=data["label_en"],
        field_type=str(data["field_type"]),
        choices=data["choices"],
        required=data["required"],
        help_text_zh=data["help_text_zh"],
        help_text_en=data["help_text_en"],
        position=data["position"],
        is_active=data["is_active"],
    )
    return Status(201, _out(definition))


@router.patch(
    "/custom-fields/{definition_id}",
    response=responses(CustomFieldOut, errors=UPDATE_ERROR_STATUSES),
    summary="Change a custom field definition",
    description=(
        "Target, key and type are fixed. Send the version you read (If-Match or `version`): 428 without it, "
        "412 when stale."
    ),
)
def update_custom_field(
    request: HttpRequest,
    response: HttpResponse,
    definition_id: int,
    payload: CustomFieldPatch,
    if_match: str | None = IF_MATCH,
) -> CustomFieldOut:
    actor = actor_of(request)
    definition = selectors.definition_get(actor=actor, definition_id=definition_id)
    changes: dict[str, Any] = payload.model_dump(exclude_unset=True, mode="python")
    version = expected_version(request, changes.pop("version", None))
    current: dict[str, Any] = {
        "label_zh": definition.label_zh,
        "label_en": definition.label_en,
        "choices": definition.choices,
        "required": definition.required,
        "help_text_zh": definition.help_text_zh,
        "help_text_en": definition.help_text_en,
        "position": definition.position,
        "is_active": definition.is_active,
    }
    values = {**current, **{k: v for k, v in changes.items() if v is not None}}
    definition = services.custom_field_save(
        actor=actor,
        definition=definition,
        target=definition.target,
        key=definition.key,
        field_type=definition.field_type,
        version=version,
        **values,
    )
    response["ETag"] = etag_for(definition.version)
    return _out(definition)


def mount(api: NinjaAPI) -> None:
    api.add_router("/", router)

"""Reads for custom field definitions, as the settings pages and the API show them."""

from __future__ import annotations

import functools
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from guanxi.platform.audit.history import HistoryEntry, list_change, record_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound, ValidationFailed
from guanxi.platform.customfields.models import CustomFieldDefinition
from guanxi.platform.customfields.registry import targets
from guanxi.platform.identity.permissions import CUSTOMFIELDS_MANAGE
from guanxi.platform.identity.scoping import require_permission


def definition_list(
    *, actor: Actor, target: str = "", include_inactive: bool = False
) -> QuerySet[CustomFieldDefinition]:
    """Definitions in form order. Everyone reads the active ones (forms and the API need them); the
    inactive ones are for those who manage custom fields."""
    if include_inactive:
        require_permission(actor, CUSTOMFIELDS_MANAGE)
    qs = CustomFieldDefinition.objects.all()
    if target:
        if target not in targets():
            raise ValidationFailed.for_field("target", _("Choose a record type from the list."))
        qs = qs.filter(target=target)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("target", "position", "id")


def definition_get(*, actor: Actor, definition_id: int) -> CustomFieldDefinition:
    definition = CustomFieldDefinition.objects.filter(pk=definition_id).first()
    if definition is None:
        raise NotFound()
    return definition


def _choice_text(choice: Any) -> str:
    if not isinstance(choice, dict):
        return str(choice)
    return f"{choice.get('value', '')} ({choice.get('label_zh', '')} / {choice.get('label_en', '')})"


def definition_history(*, actor: Actor, definition: CustomFieldDefinition) -> list[HistoryEntry]:
    """A definition's changes; its options as the ones added and removed ("value (中文 / English)")."""
    require_permission(actor, CUSTOMFIELDS_MANAGE)
    return record_history(definition, formatters={"choices": functools.partial(list_change, item_label=_choice_text)})

"""Writes of workflow rules: create, change, switch on and off, delete — each checked completely first.

A rule runs with the rights of its run-as user: whoever last saved it or switched it on (it starts as the
author). Switching a rule on checks its definition again (a tag or template it uses may have gone since it
was saved) and refuses with the same messages as saving. Date and schedule rules only ever run for
occurrences after the moment they were switched on (`activated_at`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.platform.audit.history import attribute_history
from guanxi.platform.automation.definition import RuleDefinition, clean_definition
from guanxi.platform.automation.engine import rules_changed
from guanxi.platform.automation.models import Rule
from guanxi.platform.automation.permissions import AUTOMATION_MANAGE
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound, ValidationFailed
from guanxi.platform.core.versioning import ensure_version
from guanxi.platform.identity.scoping import require_permission

DEFINITION_FIELDS = ("name", "description", "record_type", "trigger_kind", "trigger_config", "conditions", "actions")


def rule_data(rule: Rule) -> dict[str, Any]:
    """A saved rule's definition in the form rule_create takes."""
    return {name: getattr(rule, name) for name in DEFINITION_FIELDS}


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def _apply(rule: Rule, definition: RuleDefinition) -> None:
    rule.name = definition.name
    rule.description = definition.description
    rule.record_type = definition.record_type.key
    rule.trigger_kind = definition.trigger_kind
    rule.trigger_config = definition.trigger_config
    rule.conditions = definition.conditions
    rule.actions = definition.actions
    rule.listens_to = definition.listens_to


def _switch(rule: Rule, active: bool) -> None:
    if active and not rule.is_active:
        rule.activated_at = timezone.now()
    if not active:
        rule.activated_at = None
    rule.is_active = active


def _locked(rule: Rule) -> Rule:
    locked = Rule.objects.select_for_update().filter(pk=rule.pk).first()
    if locked is None:
        raise NotFound(_("Rule not found."))
    return locked


@transaction.atomic
def rule_create(*, actor: Actor, data: Mapping[str, Any]) -> Rule:
    """Create a rule from a complete definition; it stays off unless `is_active` is true."""
    require_permission(actor, AUTOMATION_MANAGE)
    definition = clean_definition(actor=actor, data=data)
    rule = Rule(created_by=actor.user, run_as=actor.user)
    _apply(rule, definition)
    _switch(rule, _as_bool(data.get("is_active", False)))
    attribute_history(rule, actor)
    rule.save()
    rules_changed()
    return rule


@transaction.atomic
def rule_update(*, actor: Actor, rule: Rule, data: Mapping[str, Any], expected_version: int | None = None) -> Rule:
    """Change the given parts of a rule; the whole definition is checked again and the rule then runs as
    the actor."""
    require_permission(actor, AUTOMATION_MANAGE)
    locked = _locked(rule)
    ensure_version(locked, expected_version)
    unknown = sorted(set(data) - set(DEFINITION_FIELDS) - {"is_active"})
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown field.")] for name in unknown})
    merged = {**rule_data(locked), **{key: value for key, value in data.items() if key != "is_active"}}
    if merged["trigger_kind"] != locked.trigger_kind and "trigger_config" not in data:
        merged["trigger_config"] = {}  # the settings of another kind of trigger mean nothing to this one
    definition = clean_definition(actor=actor, data=merged)
    _apply(locked, definition)
    if "is_active" in data:
        _switch(locked, _as_bool(data["is_active"]))
    locked.run_as = actor.user
    locked.bump_version()
    attribute_history(locked, actor)
    locked.save()
    rules_changed()
    return locked


@transaction.atomic
def rule_activate(*, actor: Actor, rule: Rule, expected_version: int | None = None) -> Rule:
    """Switch a rule on after checking its definition again; from now on it runs as the actor."""
    require_permission(actor, AUTOMATION_MANAGE)
    locked = _locked(rule)
    ensure_version(locked, expected_version)
    try:
        definition = clean_definition(actor=actor, data=rule_data(locked))
    except ValidationFailed as exc:
        raise ValidationFailed(_("This rule cannot be switched on until it is corrected."), fields=exc.fields) from None
    _apply(locked, definition)
    if locked.is_active and locked.run_as_id == actor.user.pk:
        return locked
    _switch(locked, True)
    locked.run_as = actor.user
    locked.bump_version()
    attribute_history(locked, actor, _("Switched on"))
    locked.save()
    rules_changed()
    return locked


@transaction.atomic
def rule_deactivate(*, actor: Actor, rule: Rule, expected_version: int | None = None) -> Rule:
    """Switch a rule off; its definition and run log stay."""
    require_permission(actor, AUTOMATION_MANAGE)
    locked = _locked(rule)
    ensure_version(locked, expected_version)
    if not locked.is_active:
        return locked
    _switch(locked, False)
    locked.bump_version()
    attribute_history(locked, actor, _("Switched off"))
    locked.save()
    rules_changed()
    return locked


@transaction.atomic
def rule_delete(*, actor: Actor, rule: Rule) -> None:
    """Delete a rule with its run log."""
    require_permission(actor, AUTOMATION_MANAGE)
    locked = Rule.objects.filter(pk=rule.pk).first()
    if locked is None:
        return
    attribute_history(locked, actor)
    locked.delete()
    rules_changed()

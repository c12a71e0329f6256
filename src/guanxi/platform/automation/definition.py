"""A rule definition checked as a whole: what rule_create/rule_update store and dry runs test unsaved.

`clean_definition` reads the definition's parts (name, record type, trigger, conditions, actions), checks
each against the registries and reports every problem at once, by path:

    name, record_type, trigger_kind, trigger.<setting>, conditions.<index path>.<field|op|value>,
    actions, actions.<i>.type, actions.<i>.params.<param>

Actions are stored as [{"type": "notify", "params": {...}}]; parameters are checked against their kind
(an active user, an existing team, a known choice, merge fields of the record) and then by the action
type's own `clean` (a template of the chosen channel, for example).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from guanxi.platform.automation.conditions import clean_conditions
from guanxi.platform.automation.merge_fields import merge_text_error
from guanxi.platform.automation.registry import (
    ActionParam,
    ActionType,
    ParamKind,
    RecordField,
    RecordType,
    action_type,
    fields_by_path,
    record_type,
)
from guanxi.platform.automation.triggers import allows_changed, clean_trigger, listens_to
from guanxi.platform.automation.values import parse_scalar
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import DomainError, ValidationFailed
from guanxi.platform.core.text import clean_text
from guanxi.platform.identity.scoping import has_permission

NAME_MAX = 100
DESCRIPTION_MAX = 500
MAX_ACTIONS = 20
TEXT_PARAM_MAX = 200
LONG_TEXT_PARAM_MAX = 2000


@dataclass(frozen=True)
class RuleDefinition:
    """A checked definition; `record_type` is the registered type, `actions` [{"type", "params"}]."""

    name: str
    description: str
    record_type: RecordType
    trigger_kind: str
    trigger_config: dict[str, Any]
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]

    @property
    def listens_to(self) -> list[str]:
        return listens_to(self.trigger_kind, self.trigger_config, self.record_type)

    def as_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "record_type": self.record_type.key,
            "trigger_kind": self.trigger_kind,
            "trigger_config": self.trigger_config,
            "conditions": self.conditions,
            "actions": self.actions,
        }


def _clean_param(spec: ActionParam, raw: Any, rtype: RecordType, fields: Mapping[str, RecordField]) -> Any:
    """One parameter checked against its kind; ValueError with the message for the author."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if spec.required:
            raise ValueError(_("This field is required."))
        return None
    kind = spec.kind
    if kind in (ParamKind.TEXT, ParamKind.MERGE_TEXT, ParamKind.LONG_MERGE_TEXT):
        text = str(raw).strip() if kind == ParamKind.LONG_MERGE_TEXT else clean_text(str(raw))
        limit = LONG_TEXT_PARAM_MAX if kind == ParamKind.LONG_MERGE_TEXT else TEXT_PARAM_MAX
        if len(text) > limit:
            raise ValueError(_("Keep it under %(n)s characters.") % {"n": limit})
        if kind != ParamKind.TEXT:
            error = merge_text_error(text, fields)
            if error:
                raise ValueError(error)
        return text
    if kind == ParamKind.NUMBER:
        try:
            number = int(str(raw).strip())
        except ValueError:
            raise ValueError(_("Enter a whole number.")) from None
        if (spec.minimum is not None and number < spec.minimum) or (spec.maximum is not None and number > spec.maximum):
            raise ValueError(
                _("Enter a number from %(low)s to %(high)s.") % {"low": spec.minimum, "high": spec.maximum}
            )
        return number
    if kind in (ParamKind.CHOICE, ParamKind.FIELD):
        allowed = [value for value, _label in (spec.choices(rtype) if spec.choices else [])]
        text = str(raw).strip()
        if text not in allowed:
            raise ValueError(_("Choose a value from the list."))
        return text
    if kind == ParamKind.USER:
        try:
            user_id = int(str(raw).strip())
        except ValueError:
            raise ValueError(_("Choose a user.")) from None
        if not get_user_model().objects.filter(pk=user_id, is_active=True).exists():
            raise ValueError(_("Choose an active user."))
        return user_id
    if kind == ParamKind.TEAM:
        from guanxi.platform.identity.models import Team

        try:
            team_id = int(str(raw).strip())
        except ValueError:
            raise ValueError(_("Choose a team.")) from None
        if not Team.objects.filter(pk=team_id).exists():
            raise ValueError(_("Choose a team."))
        return team_id
    if kind == ParamKind.BOOL:
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in ("1", "true", "yes", "on")
    return raw


def _clean_action(
    index: int, raw: Any, rtype: RecordType, fields: Mapping[str, RecordField], actor: Actor
) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    prefix = f"actions.{index}"
    if not isinstance(raw, Mapping):
        return None, {prefix: [_('Write an action as {"type": ..., "params": {...}}.')]}
    unknown_keys = sorted(set(raw) - {"type", "params"})
    if unknown_keys:
        return None, {prefix: [_("Unknown keys: %(keys)s.") % {"keys": ", ".join(map(str, unknown_keys))}]}
    spec: ActionType | None = action_type(str(raw.get("type") or ""))
    if spec is None:
        return None, {f"{prefix}.type": [_("Choose an action from the list.")]}
    if not spec.applies_to(rtype):
        return None, {
            f"{prefix}.type": [
                _("“%(action)s” does not apply to %(type)s.") % {"action": spec.label, "type": rtype.label}
            ]
        }
    missing = [code for code in spec.permissions if not has_permission(actor, code)]
    if missing:
        return None, {
            f"{prefix}.type": [
                _("You may not add “%(action)s”: the rule runs with your rights, and you lack %(permissions)s.")
                % {"action": spec.label, "permissions": ", ".join(missing)}
            ]
        }
    params = raw.get("params") or {}
    if not isinstance(params, Mapping):
        return None, {f"{prefix}.params": [_("Send the parameters as an object.")]}
    errors: dict[str, list[str]] = {}
    for name in sorted(set(params) - {p.name for p in spec.params}):
        errors[f"{prefix}.params.{name}"] = [_("Unknown parameter.")]
    cleaned: dict[str, Any] = {}
    value_params: list[ActionParam] = []
    for param in spec.params:
        if not param.shown(dict(params)):
            continue
        if param.kind == ParamKind.FIELD_VALUE:
            value_params.append(param)
            continue
        try:
            value = _clean_param(param, params.get(param.name, param.default), rtype, fields)
        except ValueError as exc:
            errors[f"{prefix}.params.{param.name}"] = [str(exc)]
            continue
        if value is not None:
            cleaned[param.name] = value
    for param in value_params:
        # The value of a "set a field" action is checked against the field chosen in the same action.
        field = spec.chosen_field(rtype, cleaned)
        raw_value = params.get(param.name)
        if field is None:
            continue
        if raw_value in (None, "", []):
            if param.required:
                errors[f"{prefix}.params.{param.name}"] = [_("Enter a value.")]
            else:
                cleaned[param.name] = None
            continue
        try:
            cleaned[param.name] = parse_scalar(field, raw_value)
        except ValueError as exc:
            errors[f"{prefix}.params.{param.name}"] = [str(exc)]
    if errors:
        return None, errors
    try:
        cleaned = spec.clean(rtype, cleaned, actor)
    except ValidationFailed as exc:
        return None, {f"{prefix}.params.{name}": messages for name, messages in exc.fields.items()} or {
            prefix: [exc.message]
        }
    except DomainError as exc:
        return None, {prefix: [exc.message]}
    return {"type": spec.key, "params": cleaned}, {}


def clean_definition(*, actor: Actor, data: Mapping[str, Any]) -> RuleDefinition:
    """Check a complete definition; ValidationFailed names every problem."""
    errors: dict[str, list[str]] = {}
    known = {"name", "description", "record_type", "trigger_kind", "trigger_config", "conditions", "actions"}
    for name in sorted(set(data) - known - {"is_active"}):
        errors[name] = [_("Unknown field.")]
    name = clean_text(str(data.get("name") or ""))
    if not name:
        errors["name"] = [_("Enter a name.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("Keep it under %(n)s characters.") % {"n": NAME_MAX}]
    description = clean_text(str(data.get("description") or ""))
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [_("Keep it under %(n)s characters.") % {"n": DESCRIPTION_MAX}]
    rtype = record_type(str(data.get("record_type") or ""))
    if rtype is None:
        errors["record_type"] = [_("Choose a record type from the list.")]
        raise ValidationFailed(fields=errors)
    fields = fields_by_path(rtype)
    kind = str(data.get("trigger_kind") or "")
    trigger_config, trigger_errors = clean_trigger(kind, data.get("trigger_config"), rtype, fields)
    errors.update(trigger_errors)
    conditions, condition_errors = clean_conditions(
        data.get("conditions"), fields, allow_changed=allows_changed(kind, trigger_config, rtype)
    )
    errors.update(condition_errors)
    raw_actions = data.get("actions")
    actions: list[dict[str, Any]] = []
    if not isinstance(raw_actions, list) or not raw_actions:
        errors["actions"] = [_("Add at least one action.")]
    elif len(raw_actions) > MAX_ACTIONS:
        errors["actions"] = [_("Use at most %(n)s actions in a rule.") % {"n": MAX_ACTIONS}]
    else:
        for index, raw in enumerate(raw_actions):
            cleaned, action_errors = _clean_action(index, raw, rtype, fields, actor)
            errors.update(action_errors)
            if cleaned is not None:
                actions.append(cleaned)
    if errors:
        raise ValidationFailed(fields=errors)
    return RuleDefinition(
        name=name,
        description=description,
        record_type=rtype,
        trigger_kind=kind,
        trigger_config=trigger_config,
        conditions=conditions,
        actions=actions,
    )

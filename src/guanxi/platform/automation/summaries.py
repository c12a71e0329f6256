"""Rules in words, for lists: the trigger ("When lifecycle stage changes to Dormant") and the actions, with the
fields of each record type read once per list rather than once per rule."""

from __future__ import annotations

from guanxi.platform.automation.models import Rule
from guanxi.platform.automation.registry import RecordField, action_type, fields_by_path, record_type
from guanxi.platform.automation.triggers import describe_trigger


class TriggerSummaries:
    """Describes the triggers of many rules, reading each record type's fields (custom fields) once."""

    def __init__(self) -> None:
        self._fields: dict[str, dict[str, RecordField]] = {}

    def fields(self, key: str) -> dict[str, RecordField]:
        if key not in self._fields:
            rtype = record_type(key)
            self._fields[key] = fields_by_path(rtype) if rtype is not None else {}
        return self._fields[key]

    def of(self, rule: Rule) -> str:
        return describe_trigger(rule.trigger_kind, rule.trigger_config, self.fields(rule.record_type))


def action_labels(rule: Rule) -> list[str]:
    labels = []
    for action in rule.actions:
        spec = action_type(str(action.get("type")))
        labels.append(str(spec.label) if spec is not None else str(action.get("type")))
    return labels

"""What changed in a customer save, as the JSON-safe `changes` of the `customer.updated` event.

Personal identifiers never leave as values: a changed ID number is reported as changed with masked values.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Model

from guanxi.customers.models import Customer

TRACKED_FIELDS = (
    "kind", "name", "family_name", "given_name", "organisation_id", "company_name", "job_title", "gender",
    "birthday", "id_number_masked", "uscc", "industry", "company_size", "website", "source", "card_number",
    "lifecycle_stage", "rating", "owner_id", "team_id", "pool_id",
)  # fmt: skip


def json_safe(value: Any) -> Any:
    """A value as JSON carries it: ids for records, ISO 8601 for dates and times, strings for decimals."""
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def customer_snapshot(customer: Customer) -> dict[str, Any]:
    """The tracked values of `customer` now (taken before a change is applied)."""
    snapshot = {name: json_safe(getattr(customer, name)) for name in TRACKED_FIELDS}
    for key, value in (customer.custom_fields or {}).items():
        snapshot[f"custom_fields.{key}"] = json_safe(value)
    return snapshot


def customer_changes(before: dict[str, Any], customer: Customer) -> dict[str, list[Any]]:
    """`{field: [before, after]}` for every tracked field whose value differs; the masked ID number is
    reported as `id_number`."""
    after = customer_snapshot(customer)
    changes: dict[str, list[Any]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            changes["id_number" if name == "id_number_masked" else name] = [old, new]
    return changes

"""Fixtures for workflow rule tests: only the automation subscriber listens, a fresh rule index, helpers to
build rules through the service and customers through the customers services (so events are published)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from guanxi.customers.models import Customer
from guanxi.customers.services.customers import customer_create
from guanxi.platform.automation.engine import handle_event, rule_index
from guanxi.platform.automation.models import Rule
from guanxi.platform.automation.services import rule_create
from guanxi.platform.core.actors import Actor
from guanxi.platform.events import registry as event_registry

CUSTOMER = "customers.customer"


@pytest.fixture(autouse=True)
def automation_only() -> Iterator[None]:
    """Deliver events to the automation subscriber alone, with a rule index built fresh for each test."""
    saved = dict(event_registry._subscribers)
    event_registry._subscribers.clear()
    event_registry.register_subscriber("automation", handle_event)
    rule_index.clear()
    try:
        yield
    finally:
        event_registry._subscribers.clear()
        event_registry._subscribers.update(saved)
        rule_index.clear()


def notify_owner(title: str = "Check {record}") -> dict[str, Any]:
    return {"type": "notify", "params": {"recipient": "owner", "title": title}}


def rule_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Dormant customers",
        "record_type": CUSTOMER,
        "trigger_kind": "field_change",
        "trigger_config": {"field": "lifecycle_stage", "to": "dormant"},
        "conditions": {},
        "actions": [notify_owner()],
        "is_active": True,
    }
    data.update(overrides)
    return data


def make_rule(actor: Actor, **overrides: Any) -> Rule:
    return rule_create(actor=actor, data=rule_data(**overrides))


def make_customer(actor: Actor, capture: Any, **data: Any) -> Customer:
    """A customer created through the service, its events delivered."""
    data.setdefault("name", "王芳")
    with capture(execute=True):
        return customer_create(actor=actor, data=data)

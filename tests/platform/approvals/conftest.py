"""Fixtures of the approvals tests: a test approvable ("tests.gadget") kept in memory, with its own
visibility and an `on_decided` that records every call, and helpers to build processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from guanxi.platform.approvals.definitions import approval_process_save
from guanxi.platform.approvals.models import ApprovalProcess, ApprovalRequest
from guanxi.platform.approvals.registry import ApprovableType, register_approvable, unregister_approvable
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound
from guanxi.platform.events import registry as events
from guanxi.platform.events.registry import Event
from tests.factories import actor

GADGET = "tests.gadget"


@dataclass
class Gadget:
    """A record of the test approvable: visible to its owner and to the users in `viewers`."""

    id: int
    name: str
    owner_id: int
    price: Decimal
    viewers: set[int] = field(default_factory=set)
    status: str = "draft"


@dataclass
class GadgetStore:
    items: dict[int, Gadget] = field(default_factory=dict)
    decided: list[tuple[int, str, int]] = field(default_factory=list)  # (gadget id, status, request id)
    fail_on_decided: bool = False

    def add(self, name: str, owner: Any, price: str = "100.00", viewers: tuple[Any, ...] = ()) -> Gadget:
        gadget = Gadget(
            id=len(self.items) + 1,
            name=name,
            owner_id=owner.pk,
            price=Decimal(price),
            viewers={user.pk for user in viewers},
        )
        self.items[gadget.id] = gadget
        return gadget

    def get_visible(self, who: Actor, object_id: int) -> Gadget:
        gadget = self.items.get(object_id)
        if gadget is None or (who.id != gadget.owner_id and who.id not in gadget.viewers):
            raise NotFound("Gadget not found.")
        return gadget

    def load(self, object_id: int) -> Gadget:
        gadget = self.items.get(object_id)
        if gadget is None:
            raise NotFound("Gadget not found.")
        return gadget

    def on_decided(self, gadget: Gadget, request: ApprovalRequest) -> None:
        if self.fail_on_decided:
            raise RuntimeError("the gadget app refused the decision")
        self.decided.append((gadget.id, request.status, request.pk))
        gadget.status = request.status


@pytest.fixture
def store(db: None) -> Iterator[GadgetStore]:
    """The test approvable, registered for the test and removed afterwards."""
    gadgets = GadgetStore()
    register_approvable(
        ApprovableType(
            key=GADGET,
            label="Gadget",
            get_visible=gadgets.get_visible,
            describe=lambda gadget: f"Gadget {gadget.name}",
            url=lambda gadget: f"/gadgets/{gadget.id}/",
            on_decided=gadgets.on_decided,
            load=gadgets.load,
            summary=lambda gadget: f"price {gadget.price}",
            amount=lambda gadget: (gadget.price, "CNY"),
        )
    )
    yield gadgets
    unregister_approvable(GADGET)


def step(kind: str, **values: Any) -> dict[str, Any]:
    """A step as the service takes it: step("manager"), step("user", user_id=3), step("role", role_id=2)."""
    return {"approver_kind": kind, **values}


def make_process(
    org: Any, steps: list[dict[str, Any]], *, name: str = "特价审批", key: str = GADGET
) -> ApprovalProcess:
    return approval_process_save(
        actor=actor(org.admin), process=None, name=name, approvable_type=key, steps=steps, description=""
    )


@pytest.fixture
def two_steps(org: Any, store: GadgetStore) -> ApprovalProcess:
    """Step 1: the requester's manager; step 2: the administrator by name."""
    return make_process(org, [step("manager", name="经理"), step("user", name="财务", user_id=org.admin.pk)])


@dataclass
class Published:
    events: list[Event] = field(default_factory=list)

    def names(self) -> list[str]:
        return [event.name for event in self.events if event.name.startswith("approval.")]

    def last(self, name: str) -> Event:
        return [event for event in self.events if event.name == name][-1]


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> Published:
    """Events delivered to a test subscriber (wrap writes in django_capture_on_commit_callbacks(execute=True))."""
    seen = Published()
    monkeypatch.setitem(events._subscribers, "tests.approvals", seen.events.append)
    return seen


@pytest.fixture
def client_for(org: Any) -> Callable[[str], Client]:
    def make(name: str) -> Client:
        client = Client()
        client.force_login(getattr(org, name))
        return client

    return make

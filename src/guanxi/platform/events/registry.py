"""The event registry: event types with typed payloads, publishing after commit, and subscribers.

A domain app declares a payload dataclass per event and registers it once from `AppConfig.ready()`:

    @dataclass(frozen=True, kw_only=True)
    class CustomerCreated(EventPayload):
        event_name: ClassVar[str] = "customer.created"
        owner_id: int | None

    register_event_type(CustomerCreated, label=_("Customer created"), record_type="customers.customer")

A service publishes it inside its transaction: `publish(CustomerCreated(record_id=c.pk, owner_id=...))`.
Nothing is delivered unless the transaction commits; delivery happens in a background job
(`deliver_event`), where each subscriber runs on its own so one failing subscriber never stops the
others, and never the write that published the event.

Events caused by an automation rule carry that rule in `chain`, so a rule does not fire again on the
events its own actions caused (loop prevention) and chains stop at `MAX_CHAIN_DEPTH`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise

logger = logging.getLogger(__name__)

MAX_CHAIN_DEPTH = 5


@dataclass(frozen=True, kw_only=True)
class EventPayload:
    """The base of every event payload: the id of the record the event is about, plus typed fields."""

    event_name: ClassVar[str] = ""
    record_id: int

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class EventType:
    name: str
    label: str | Promise
    payload: type[EventPayload]
    record_type: str
    description: str | Promise = ""

    def payload_fields(self) -> list[str]:
        return [field.name for field in dataclasses.fields(self.payload)]


@dataclass(frozen=True)
class Event:
    """One published event as delivered to subscribers (JSON-serialisable through `as_dict`)."""

    id: str
    name: str
    record_type: str
    payload: dict[str, Any]
    occurred_at: str
    actor_id: int | None = None
    chain: tuple[int, ...] = ()

    @property
    def record_id(self) -> int:
        return int(self.payload["record_id"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "record_type": self.record_type,
            "payload": self.payload,
            "occurred_at": self.occurred_at,
            "actor_id": self.actor_id,
            "chain": list(self.chain),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            record_type=str(data["record_type"]),
            payload=dict(data["payload"]),
            occurred_at=str(data["occurred_at"]),
            actor_id=data.get("actor_id"),
            chain=tuple(int(rule_id) for rule_id in data.get("chain", ())),
        )


Subscriber = Callable[[Event], None]

_event_types: dict[str, EventType] = {}
_subscribers: dict[str, Subscriber] = {}
_chain: ContextVar[tuple[int, ...]] = ContextVar("guanxi_event_chain", default=())


def register_event_type(
    payload: type[EventPayload], *, label: str | Promise, record_type: str, description: str | Promise = ""
) -> EventType:
    """Declare an event; registering the same name twice replaces it (apps' ready() may run twice in tests)."""
    if not payload.event_name:
        raise ValueError(f"{payload.__name__} has no event_name")
    event_type = EventType(
        name=payload.event_name, label=label, payload=payload, record_type=record_type, description=description
    )
    _event_types[payload.event_name] = event_type
    return event_type


def event_types() -> list[EventType]:
    return sorted(_event_types.values(), key=lambda event_type: event_type.name)


def event_type(name: str) -> EventType | None:
    return _event_types.get(name)


def event_type_choices() -> list[tuple[str, str]]:
    return [(item.name, f"{item.label} ({item.name})") for item in event_types()]


def register_subscriber(name: str, handler: Subscriber) -> None:
    """Subscribe `handler` to every event; it runs in the worker and must be idempotent per event id."""
    _subscribers[name] = handler


def subscribers() -> dict[str, Subscriber]:
    return dict(_subscribers)


def current_chain() -> tuple[int, ...]:
    """The rules whose actions are running now (empty outside automation)."""
    return _chain.get()


@contextlib.contextmanager
def caused_by_rule(rule_id: int) -> Iterator[tuple[int, ...]]:
    """Mark events published inside the block as caused by `rule_id` (on top of the current chain)."""
    token = _chain.set((*_chain.get(), rule_id))
    try:
        yield _chain.get()
    finally:
        _chain.reset(token)


def build_event(payload: EventPayload, *, actor_id: int | None = None) -> Event:
    registered = _event_types.get(payload.event_name)
    if registered is None or registered.payload is not type(payload):
        raise LookupError(f"event {payload.event_name!r} is not registered with {type(payload).__name__}")
    return Event(
        id=str(uuid.uuid4()),
        name=payload.event_name,
        record_type=registered.record_type,
        payload=payload.as_dict(),
        occurred_at=timezone.now().isoformat(),
        actor_id=actor_id,
        chain=current_chain(),
    )


def publish(payload: EventPayload, *, actor_id: int | None = None) -> Event:
    """Publish an event once the current transaction commits (immediately outside a transaction)."""
    event = build_event(payload, actor_id=actor_id)
    if len(event.chain) > MAX_CHAIN_DEPTH:
        logger.warning(
            "event %s dropped: automation chain %s is deeper than %d", event.name, event.chain, MAX_CHAIN_DEPTH
        )
        return event
    transaction.on_commit(lambda: enqueue_delivery(event), robust=True)
    return event


def enqueue_delivery(event: Event) -> None:
    from guanxi.platform.events.tasks import deliver_event

    deliver_event.enqueue(event.as_dict())


def deliver(event: Event) -> dict[str, str]:
    """Run every subscriber for `event`; returns each subscriber's outcome ("ok" or the error)."""
    outcomes: dict[str, str] = {}
    for name, handler in subscribers().items():
        try:
            handler(event)
        except Exception as error:  # one subscriber's failure must not stop the others
            logger.exception("event subscriber %s failed on %s %s", name, event.name, event.id)
            outcomes[name] = f"{type(error).__name__}: {error}"
        else:
            outcomes[name] = "ok"
    return outcomes

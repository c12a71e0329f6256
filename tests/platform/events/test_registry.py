"""The event registry: typed payloads, delivery after commit only, isolated subscribers, loop chains."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from django.db import transaction

from guanxi.platform.events import registry
from guanxi.platform.events.registry import (
    MAX_CHAIN_DEPTH,
    Event,
    EventPayload,
    caused_by_rule,
    deliver,
    publish,
    register_event_type,
)


@dataclass(frozen=True, kw_only=True)
class ThingHappened(EventPayload):
    event_name: ClassVar[str] = "test.thing_happened"
    colour: str


@dataclass(frozen=True, kw_only=True)
class NeverRegistered(EventPayload):
    event_name: ClassVar[str] = "test.never_registered"


@pytest.fixture(autouse=True)
def thing_event() -> None:
    register_event_type(ThingHappened, label="Thing happened", record_type="test.thing")


pytestmark = pytest.mark.django_db


def test_event_is_delivered_after_commit_with_its_typed_payload(
    delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        publish(ThingHappened(record_id=7, colour="红"), actor_id=3)
        assert delivered == []

    assert len(delivered) == 1
    event = delivered[0]
    assert (event.name, event.record_type, event.record_id, event.actor_id) == (
        "test.thing_happened",
        "test.thing",
        7,
        3,
    )
    assert event.payload == {"record_id": 7, "colour": "红"}
    assert event.chain == ()


def test_nothing_is_delivered_when_the_transaction_rolls_back(
    delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                publish(ThingHappened(record_id=7, colour="red"))
                raise RuntimeError("the write failed")
        except RuntimeError:
            pass

    assert delivered == []


def test_publishing_an_unregistered_payload_is_a_programming_error() -> None:
    with pytest.raises(LookupError, match=r"test\.never_registered"):
        publish(NeverRegistered(record_id=1))


def test_a_failing_subscriber_does_not_stop_the_others() -> None:
    received: list[str] = []

    def broken(event: Event) -> None:
        raise ValueError("boom")

    saved = dict(registry._subscribers)
    registry._subscribers.clear()
    try:
        registry.register_subscriber("a-broken", broken)
        registry.register_subscriber("b-recorder", lambda event: received.append(event.name))
        event = registry.build_event(ThingHappened(record_id=1, colour="blue"))
        outcomes = deliver(event)
    finally:
        registry._subscribers.clear()
        registry._subscribers.update(saved)

    assert received == ["test.thing_happened"]
    assert outcomes == {"a-broken": "ValueError: boom", "b-recorder": "ok"}


def test_events_published_by_a_rule_carry_the_rule_chain(
    delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        with caused_by_rule(11), caused_by_rule(12):
            publish(ThingHappened(record_id=1, colour="green"))
        publish(ThingHappened(record_id=2, colour="green"))

    assert [event.chain for event in delivered] == [(11, 12), ()]


def test_a_chain_deeper_than_the_limit_is_dropped(
    delivered: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        with caused_by_rule(1):
            publish(ThingHappened(record_id=1, colour="white"))
        token = registry._chain.set(tuple(range(1, MAX_CHAIN_DEPTH + 2)))
        try:
            publish(ThingHappened(record_id=2, colour="grey"))
        finally:
            registry._chain.reset(token)

    assert [event.record_id for event in delivered] == [1]


def test_an_event_survives_the_round_trip_through_the_job_queue() -> None:
    event = registry.build_event(ThingHappened(record_id=5, colour="黄"), actor_id=9)

    assert Event.from_dict(event.as_dict()) == event

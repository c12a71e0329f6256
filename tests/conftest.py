"""Fixtures shared by the whole suite: an organisation with teams, users of each role, and actors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import connection

from guanxi.platform.core.actors import Actor
from guanxi.platform.events import registry as event_registry
from guanxi.platform.events.registry import Event
from guanxi.platform.identity.models import Team, User
from tests.factories import TeamFactory, UserFactory, actor, role


@dataclass
class Org:
    """Head office with two sales teams; north has a sub-team. One user per role."""

    hq: Team
    north: Team
    north_sub: Team
    south: Team
    admin: User
    manager_north: User
    rep_north: User
    rep_north_sub: User
    rep_south: User
    marketer: User
    analyst: User
    service: User

    def actor(self, name: str, channel: str = "web") -> Actor:
        return actor(getattr(self, name), channel)


@pytest.fixture
def org(db: None) -> Org:
    hq = TeamFactory(name="总部")
    north = TeamFactory(name="华北销售", parent=hq)
    north_sub = TeamFactory(name="北京组", parent=north)
    south = TeamFactory(name="华南销售", parent=hq)
    manager = UserFactory(username="manager_north", team=north, role=role("sales_manager"))
    north.manager = manager
    north.save()
    return Org(
        hq=hq,
        north=north,
        north_sub=north_sub,
        south=south,
        admin=UserFactory(username="admin", team=hq, role=role("administrator")),
        manager_north=manager,
        rep_north=UserFactory(username="rep_north", team=north),
        rep_north_sub=UserFactory(username="rep_north_sub", team=north_sub),
        rep_south=UserFactory(username="rep_south", team=south),
        marketer=UserFactory(username="marketer", team=hq, role=role("marketer")),
        analyst=UserFactory(username="analyst", team=hq, role=role("analyst")),
        service=UserFactory(username="service", team=hq, role=role("service_agent")),
    )


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def delivered() -> Iterator[list[Event]]:
    """Every event delivered while the test runs (only the recorder subscribes: other subscribers are off)."""
    received: list[Event] = []
    saved = dict(event_registry._subscribers)
    event_registry._subscribers.clear()
    event_registry.register_subscriber("test-recorder", received.append)
    try:
        yield received
    finally:
        event_registry._subscribers.clear()
        event_registry._subscribers.update(saved)

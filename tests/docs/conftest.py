"""Fixtures for the docs tests: the people of docs/api.md, their API tokens, and the day the examples happen."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from guanxi.platform.identity.models import Team, User
from guanxi.platform.identity.services import api_token_create, token_scope_choices
from tests.factories import TeamFactory, UserFactory, actor, role

# The examples are written on 3 June 2025 at 11:00 in Beijing: follow-ups and due times are after it.
EXAMPLES_NOW = dt.datetime(2025, 6, 3, 3, 0, tzinfo=dt.UTC)


@dataclass
class People:
    """李娜 and 王强 sell in the north team, which 赵敏 manages; 陈杰 sells in the south."""

    hq: Team
    north: Team
    south: Team
    li: User
    wang: User
    zhao: User
    chen: User
    admin: User
    analyst: User

    def token(self, username: str) -> str:
        """A token of this user with every scope, as an integration would have."""
        user = User.objects.get(username=username)
        _token, secret = api_token_create(
            actor=actor(user), name="docs examples", scopes=token_scope_choices(), expires_at=None
        )
        return secret


@pytest.fixture
def examples_now(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    monkeypatch.setattr(timezone, "now", lambda: EXAMPLES_NOW)
    return EXAMPLES_NOW


@pytest.fixture
def people(db: None, examples_now: dt.datetime) -> People:
    hq = TeamFactory(name="总部")
    north = TeamFactory(name="华北销售", parent=hq)
    south = TeamFactory(name="华南销售", parent=hq)
    zhao = UserFactory(username="zhao.min", display_name="赵敏", team=north, role=role("sales_manager"))
    north.manager = zhao
    north.save()
    return People(
        hq=hq,
        north=north,
        south=south,
        li=UserFactory(username="li.na", display_name="李娜", team=north),
        wang=UserFactory(username="wang.qiang", display_name="王强", team=north),
        zhao=zhao,
        chen=UserFactory(username="chen.jie", display_name="陈杰", team=south),
        admin=UserFactory(username="admin", display_name="管理员", team=hq, role=role("administrator")),
        analyst=UserFactory(username="analyst", display_name="数据分析", team=hq, role=role("analyst")),
    )

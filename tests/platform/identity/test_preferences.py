"""A token user's language and time zone apply to their API calls, as on their own pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from guanxi.customers.models import Task
from guanxi.platform.identity.preferences import user_time_zone
from guanxi.platform.identity.services import api_token_create
from tests.factories import actor


@pytest.fixture
def client_of(org: Any) -> Iterator[Any]:
    def make(username: str) -> Client:
        user = getattr(org, username)
        _token, secret = api_token_create(
            actor=actor(user), name="t", scopes=["activities:read", "activities:write"], expires_at=None
        )
        return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    yield make
    translation.activate("en")  # a request may leave the user's language active in this thread
    timezone.deactivate()


def test_a_time_without_offset_is_read_in_the_token_users_time_zone(org: Any, client_of: Any) -> None:
    org.rep_north.time_zone = "Europe/Berlin"
    org.rep_north.save()
    response = client_of("rep_north").post(
        "/api/v1/tasks", {"title": "Call back", "due_at": "2030-01-15T09:00:00"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert Task.objects.get().due_at == dt.datetime(2030, 1, 15, 8, 0, tzinfo=dt.UTC)


def test_the_token_users_language_wins_over_accept_language(org: Any, client_of: Any) -> None:
    org.rep_north.language = "zh-hans"
    org.rep_north.save()
    response = client_of("rep_north").get("/api/v1/tasks", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "zh-hans"


def test_without_a_language_setting_accept_language_decides(org: Any, client_of: Any) -> None:
    response = client_of("rep_north").get("/api/v1/tasks", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response["Content-Language"] == "zh-hans"
    response = client_of("rep_north").get("/api/v1/tasks", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "en"


def test_user_time_zone_falls_back_to_the_company_time_zone(org: Any, settings: Any) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"
    assert str(user_time_zone(org.rep_north)) == "Asia/Shanghai"
    org.rep_north.time_zone = "Not/AZone"
    assert str(user_time_zone(org.rep_north)) == "Asia/Shanghai"
    org.rep_north.time_zone = "America/New_York"
    assert str(user_time_zone(org.rep_north)) == "America/New_York"

"""Fixtures for the customer API tests: clients that call /api/v1/ with an API token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from guanxi.platform.identity.models import User
from guanxi.platform.identity.services import api_token_create
from tests.factories import actor

API = "/api/v1"
READ_WRITE = ["customers:read", "customers:write", "admin:read"]


class TokenClient:
    """Calls the API with `Authorization: Bearer <token>`; JSON in, the Django response out."""

    def __init__(self, token: str) -> None:
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    # `extra` is WSGI environ, as in Django's test client: HTTP_IF_MATCH='"3"'.
    def get(self, path: str, params: dict[str, Any] | None = None, **extra: str) -> Any:
        return self.client.get(f"{API}{path}", params or {}, **extra)

    def post(self, path: str, body: Any, **extra: str) -> Any:
        return self.client.post(f"{API}{path}", body, content_type="application/json", **extra)

    def patch(self, path: str, body: Any, **extra: str) -> Any:
        return self.client.patch(f"{API}{path}", body, content_type="application/json", **extra)

    def delete(self, path: str, **extra: str) -> Any:
        return self.client.delete(f"{API}{path}", **extra)


def token_for(user: User, scopes: list[str]) -> str:
    _token, secret = api_token_create(actor=actor(user), name="tests", scopes=scopes, expires_at=None)
    return secret


@pytest.fixture
def api_as(org: Any) -> Callable[..., TokenClient]:
    """`api_as("rep_north")` or `api_as("analyst", scopes=["customers:read"])`."""

    def make(username: str, scopes: list[str] | None = None) -> TokenClient:
        return TokenClient(token_for(getattr(org, username), scopes or READ_WRITE))

    return make

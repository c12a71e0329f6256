"""Fixtures of the customer page tests: a signed-in test client per user of the `org` fixture."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from guanxi.platform.identity.models import User


@pytest.fixture
def client_for(org: object) -> Callable[[str], Client]:
    """`client_for("rep_north")`: a client signed in as that user of the org fixture."""

    def make(name: str) -> Client:
        user: User = getattr(org, name)
        client = Client()
        client.force_login(user)
        return client

    return make

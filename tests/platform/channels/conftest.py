"""Fixtures of the channels tests: customers with contact points, a quiet contact policy, clean backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from guanxi.customers.models import Customer
from guanxi.customers.models.choices import Consent, ContactKind
from guanxi.platform.channels.backends import memory
from guanxi.platform.channels.models import ContactPolicy
from tests.factories import ContactPointFactory, CustomerFactory

CUSTOMER = "customers.customer"


@pytest.fixture(autouse=True)
def _clean_channels(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty outbox and token cache; with a database, a policy without quiet hours so that tests do not depend
    on the time of day they run at (quiet-hour tests set their own window)."""
    memory.reset()
    cache.clear()
    if "db" in request.fixturenames or "org" in request.fixturenames:
        request.getfixturevalue("db")
        ContactPolicy.objects.update_or_create(pk=1, defaults={"quiet_hours_enabled": False})
    yield
    memory.reset()


def make_customer(
    owner: Any,
    *,
    name: str = "张伟",
    email: str | None = "zhang.wei@example.com",
    phone: str | None = None,
    wechat: str | None = None,
    consent: str = Consent.GRANTED,
    **fields: Any,
) -> Customer:
    customer = CustomerFactory(owner=owner, name=name, **fields)
    for kind, value in ((ContactKind.EMAIL, email), (ContactKind.PHONE, phone), (ContactKind.WECHAT, wechat)):
        if value:
            ContactPointFactory(
                customer=customer,
                kind=kind,
                value=value,
                search_key=value.lstrip("+")[::-1] if kind == ContactKind.PHONE else value.lower(),
                consent=consent,
                is_primary=True,
            )
    return customer


def set_policy(**values: Any) -> ContactPolicy:
    ContactPolicy.objects.filter(pk=1).update(**values)
    return ContactPolicy.objects.get(pk=1)

"""Test data for the public pool and handover tests: pools and customers waiting in them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from guanxi.customers.models import Customer, Pool
from tests.factories import CustomerFactory, PoolFactory


def make_pool(**fields: Any) -> Pool:
    return PoolFactory(**fields)


def pool_customer(pool: Pool, *, team: Any = None, days_in_pool: int = 1, **fields: Any) -> Customer:
    """An unowned customer waiting in `pool` for `days_in_pool` days."""
    return CustomerFactory(
        owner=None,
        team=team,
        pool=pool,
        pool_entered_at=timezone.now() - dt.timedelta(days=days_in_pool),
        **fields,
    )


def owned_customer(owner: Any, *, owned_days: int, last_contact_days: int | None = None,
                   last_deal_days: int | None = None, **fields: Any) -> Customer:  # fmt: skip
    """A customer owned by `owner` for `owned_days`, last contacted / last deal so many days ago (None: never)."""
    now = timezone.now()
    return CustomerFactory(
        owner=owner,
        team=owner.team,
        owner_since=now - dt.timedelta(days=owned_days),
        last_contact_at=None if last_contact_days is None else now - dt.timedelta(days=last_contact_days),
        last_deal_at=None if last_deal_days is None else now - dt.timedelta(days=last_deal_days),
        **fields,
    )

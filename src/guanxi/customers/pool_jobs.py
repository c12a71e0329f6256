"""The public pool's background job: the automatic return of neglected customers, run by the worker."""

from __future__ import annotations

from django_tasks import task

from guanxi.customers.services.pool import pool_auto_return

PERIODIC_NAME = "customers.pool_auto_return"


@task()
def pool_auto_return_task() -> int:
    """Return customers with no follow-up for N days or no deal for M days to their pool (idempotent)."""
    return pool_auto_return()


def register_pool_jobs() -> None:
    """Run the automatic return at a quarter past every hour; called from `registrations.register_all()`."""
    from guanxi.platform.core.jobs import register_periodic

    register_periodic(pool_auto_return_task, name=PERIODIC_NAME, minute="15", hour="*")

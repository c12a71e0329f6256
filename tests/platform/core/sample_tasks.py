"""Django tasks used by the job tests: module level, so huey finds them by path."""

from __future__ import annotations

from typing import Any

from django_tasks import task

CALLS: list[Any] = []


@task()
def remember(value: str, *, times: int = 1) -> str:
    CALLS.extend([value] * times)
    return value.upper()


@task()
def tick() -> str:
    CALLS.append("tick")
    return "tick"

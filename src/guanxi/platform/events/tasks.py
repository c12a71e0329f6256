"""The background job that delivers a published event to its subscribers."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from guanxi.platform.events.registry import Event, deliver


@task()
def deliver_event(event: dict[str, Any]) -> dict[str, str]:
    return deliver(Event.from_dict(event))

"""Background jobs of the channels app (Django tasks API): one delivery attempt, and the retry run."""

from __future__ import annotations

from django_tasks import task

from guanxi.platform.channels.services.delivery import message_deliver, messages_retry_due


@task()
def deliver_message(message_id: int, claim: str = "") -> str:
    """One delivery attempt of a queued message (enqueued after the sending transaction commits)."""
    return message_deliver(message_id, claim=claim)


@task()
def retry_due_messages() -> int:
    """Hand due retries and deferred messages to delivery (idempotent; runs every minute)."""
    return messages_retry_due()

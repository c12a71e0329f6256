"""Background jobs of the inbox, defined with the Django tasks API and run by the worker."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from guanxi.platform.inbox.imap import imap_poll_mailbox
from guanxi.platform.inbox.services import inbound_process_stale


@task()
def imap_poll() -> dict[str, Any]:
    """Store new mail from the configured IMAP folder (idempotent; every two minutes when configured)."""
    return imap_poll_mailbox().as_dict()


@task()
def file_waiting_messages() -> int:
    """File messages stored but never filed (a worker died in between); idempotent, every five minutes."""
    return inbound_process_stale()

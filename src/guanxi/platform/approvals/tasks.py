"""Background jobs of approvals, defined with the Django tasks API and run by the worker."""

from __future__ import annotations

from django_tasks import task

from guanxi.platform.approvals.services import approvals_handle_timeouts


@task()
def handle_approval_timeouts() -> dict[str, int]:
    """Remind and escalate steps past their timeout (idempotent; runs every five minutes)."""
    run = approvals_handle_timeouts()
    return {"reminded": run.reminded, "escalated": run.escalated}

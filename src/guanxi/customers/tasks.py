"""Background jobs of the customers app, defined with the Django tasks API and run by the worker."""

from __future__ import annotations

from django_tasks import task

from guanxi.customers.services.tasks import tasks_publish_overdue, tasks_send_due_reminders


@task()
def send_task_reminders() -> int:
    """Notify assignees of tasks whose reminder time has come (idempotent; runs every minute)."""
    return tasks_send_due_reminders()


@task()
def publish_overdue_tasks() -> int:
    """Announce tasks that have become overdue (`task.overdue`), each once (idempotent; every five minutes)."""
    return tasks_publish_overdue()

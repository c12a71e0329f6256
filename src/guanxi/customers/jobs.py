"""Periodic jobs of the customers app, registered with the platform scheduler (`guanxi worker`)."""

from __future__ import annotations


def register_jobs() -> None:
    """Register the customers app's periodic jobs; called once from `registrations.register_all()`."""
    from guanxi.customers.tasks import publish_overdue_tasks, send_task_reminders
    from guanxi.platform.core.jobs import register_periodic

    register_periodic(send_task_reminders, name="customers.task_reminders", minute="*")
    register_periodic(publish_overdue_tasks, name="customers.tasks_overdue", minute="*/5")

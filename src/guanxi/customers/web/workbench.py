"""Workbench panels of the customers app (tasks due, follow-ups, recent customers, new leads)."""


def register() -> None:
    """Registered by the timeline work: my tasks today/overdue, my follow-ups, recent customers, new leads."""

"""Background jobs of notifications (Django tasks API, run by the worker): the email of one notification,
the email of one daily digest, and the hourly run that assembles the digests that are due."""

from __future__ import annotations

from django_tasks import task

from guanxi.platform.notifications import services


@task()
def send_notification_email(
    *, recipient_id: int, kind: str, title: str, body: str = "", url: str = "", notification_id: int | None = None
) -> bool:
    """Email one notification (enqueued by notification_send after its transaction commits)."""
    return services.notification_email_send(
        recipient_id=recipient_id, kind=kind, title=title, body=body, url=url, notification_id=notification_id
    )


@task()
def send_digest_email(*, digest_id: int) -> bool:
    """Email one daily digest; a digest already sent is not sent again."""
    return services.digest_send(digest_id=digest_id)


@task()
def send_daily_digests() -> int:
    """Assemble and send the daily digests whose hour has come in their user's time zone (hourly, idempotent)."""
    return services.notifications_send_daily_digests()

"""Sending and reading notifications."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from guanxi.platform.core.actors import Actor
from guanxi.platform.notifications.models import Notification


def notification_send(*, recipient_id: int, kind: str, title: str, body: str = "", url: str = "") -> Notification:
    return Notification.objects.create(
        recipient_id=recipient_id, kind=kind, title=title[:200], body=body, url=url[:300]
    )


def notification_mark_all_read(*, actor: Actor) -> int:
    return Notification.objects.filter(recipient=actor.user, read_at__isnull=True).update(read_at=timezone.now())


def notification_list(*, actor: Actor) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=actor.user)


def notification_unread_count(*, actor: Actor) -> int:
    return Notification.objects.filter(recipient=actor.user, read_at__isnull=True).count()

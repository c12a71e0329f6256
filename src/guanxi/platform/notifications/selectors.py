"""Reads of notifications: a user's own only (anyone else's answer 404), and their preferences per type."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound
from guanxi.platform.core.pagination import Page, keyset_paginate
from guanxi.platform.notifications.models import (
    DEFAULT_DIGEST_HOUR,
    Notification,
    NotificationPreference,
    NotificationSettings,
)
from guanxi.platform.notifications.registry import NotificationType, notification_types
from guanxi.platform.notifications.scopes import require_token_scope

LIST_SORT = "-created_at"
PANEL_SIZE = 10


def notification_list(*, actor: Actor, unread_only: bool = False) -> QuerySet[Notification]:
    """The actor's own notifications, newest first."""
    require_token_scope(actor, write=False)
    qs = Notification.objects.filter(recipient_id=actor.user.pk)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


def notification_page(
    *, actor: Actor, unread_only: bool = False, cursor: str | None = None, limit: int = 50
) -> Page[Notification]:
    """One page of the actor's notifications, newest first, after `cursor` (keyset: one query a page)."""
    return keyset_paginate(
        notification_list(actor=actor, unread_only=unread_only), sort=LIST_SORT, cursor=cursor, page_size=limit
    )


def notification_latest(*, actor: Actor, limit: int = PANEL_SIZE) -> list[Notification]:
    """The newest notifications for the bell's panel."""
    return list(notification_list(actor=actor).order_by("-created_at", "-id")[:limit])


def notification_unread_count(*, actor: Actor) -> int:
    return notification_list(actor=actor, unread_only=True).count()


def notification_get(*, actor: Actor, notification_id: int) -> Notification:
    """One of the actor's own notifications; NotFound for anyone else's, as for one that does not exist."""
    found = notification_list(actor=actor).filter(pk=notification_id).first()
    if found is None:
        raise NotFound(_("Notification not found."))
    return found


@dataclass(frozen=True)
class TypeChoice:
    """A user's effective choice for one notification type; `customised` when it is their own, not the
    type's default."""

    type: NotificationType
    in_app: bool
    email: bool
    digest: bool
    customised: bool

    @property
    def kind(self) -> str:
        return self.type.code


@dataclass(frozen=True)
class NotificationPreferences:
    """All of a user's notification preferences: the daily digest and the choice for each registered type."""

    digest_enabled: bool
    digest_hour: int
    time_zone: str
    has_email: bool
    types: list[TypeChoice]


def notification_preferences(*, actor: Actor) -> NotificationPreferences:
    """The actor's preferences for every registered type (defaults where they chose nothing); two queries."""
    require_token_scope(actor, write=False)
    user = actor.user
    rows = {p.kind: p for p in NotificationPreference.objects.filter(user_id=user.pk)}
    own = NotificationSettings.objects.filter(user_id=user.pk).first()
    choices = []
    for spec in notification_types():
        row = rows.get(spec.code)
        choices.append(
            TypeChoice(
                type=spec,
                in_app=row.in_app if row else spec.default_in_app,
                email=row.email if row else spec.default_email,
                digest=row.digest if row else spec.default_digest,
                customised=row is not None,
            )
        )
    return NotificationPreferences(
        digest_enabled=own.digest_enabled if own else False,
        digest_hour=own.digest_hour if own else DEFAULT_DIGEST_HOUR,
        time_zone=user.time_zone or settings.TIME_ZONE,
        has_email=bool(user.email),
        types=choices,
    )

"""API routes of notifications (mounted under /api/v1/): a user's own notifications and their preferences.

Nobody sees anyone else's notifications: another user's id answers 404, like one that does not exist. API
tokens need the "notifications" scope (read to list, write to mark read and to change preferences).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, NinjaAPI, Query, Router, Schema

from guanxi.platform.core.api import PageQuery, Payload, RecordId, actor_of, page_out, responses
from guanxi.platform.notifications import selectors, services
from guanxi.platform.notifications.links import local_path
from guanxi.platform.notifications.models import Notification
from guanxi.platform.notifications.registry import notification_types
from guanxi.platform.notifications.selectors import NotificationPreferences

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str = Field(description="A path inside guanxi, or empty.")
    read: bool
    read_at: datetime | None
    created_at: datetime


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None


class NotificationListQuery(PageQuery):
    unread: bool = Field(False, description="Only unread notifications.")


class UnreadCountOut(Schema):
    count: int


class MarkedOut(Schema):
    marked: int = Field(description="How many notifications were marked read.")


class DigestOut(Schema):
    enabled: bool
    hour: int = Field(description="The hour (0-23) the digest is sent, in the user's time zone.")
    time_zone: str


class TypePreferenceOut(Schema):
    kind: str
    label: str
    description: str
    in_app: bool
    email: bool
    digest: bool
    default_in_app: bool
    default_email: bool
    default_digest: bool
    customised: bool = Field(description="True when the user chose for this type; false: the type's defaults.")


class PreferencesOut(Schema):
    has_email: bool = Field(description="Emails and the digest need an email address on the account.")
    digest: DigestOut
    types: list[TypePreferenceOut]


class DigestIn(Payload):
    enabled: bool | None = None
    hour: int | None = Field(None, ge=0, le=23)


def _list_kinds(schema: dict[str, Any]) -> None:
    """The notification types the apps registered (read when the schema is built)."""
    schema["enum"] = [spec.code for spec in notification_types()]


class TypePreferenceIn(Payload):
    kind: str = Field(
        description="A registered notification type, such as task_reminder.", json_schema_extra=_list_kinds
    )
    in_app: bool | None = None
    email: bool | None = None
    digest: bool | None = None


class PreferencesIn(Payload):
    digest: DigestIn | None = None
    types: list[TypePreferenceIn] = Field(
        default_factory=list,
        max_length=200,
        description="Types left out keep their current choice; a type listed twice: the later entry wins.",
    )


def _out(notification: Notification) -> NotificationOut:
    return NotificationOut(
        id=notification.pk,
        kind=notification.kind,
        title=notification.title,
        body=notification.body,
        url=local_path(notification.url) or "",
        read=notification.read_at is not None,
        read_at=notification.read_at,
        created_at=notification.created_at,
    )


def _preferences_out(prefs: NotificationPreferences) -> PreferencesOut:
    return PreferencesOut(
        has_email=prefs.has_email,
        digest=DigestOut(enabled=prefs.digest_enabled, hour=prefs.digest_hour, time_zone=prefs.time_zone),
        types=[
            TypePreferenceOut(
                kind=choice.kind,
                label=str(choice.type.label),
                description=str(choice.type.description),
                in_app=choice.in_app,
                email=choice.email,
                digest=choice.digest,
                default_in_app=choice.type.default_in_app,
                default_email=choice.type.default_email,
                default_digest=choice.type.default_digest,
                customised=choice.customised,
            )
            for choice in prefs.types
        ],
    )


@router.get("/notifications", response=responses(NotificationPage), summary="List your notifications")
def list_notifications(request: HttpRequest, query: Query[NotificationListQuery]) -> NotificationPage:
    page = selectors.notification_page(
        actor=actor_of(request), unread_only=query.unread, cursor=query.cursor, limit=query.limit
    )
    return page_out(NotificationPage, page, _out)


@router.get(
    "/notifications/unread-count", response=responses(UnreadCountOut), summary="Count your unread notifications"
)
def unread_count(request: HttpRequest) -> UnreadCountOut:
    return UnreadCountOut(count=selectors.notification_unread_count(actor=actor_of(request)))


@router.post("/notifications/read-all", response=responses(MarkedOut), summary="Mark all your notifications read")
def read_all(request: HttpRequest) -> MarkedOut:
    return MarkedOut(marked=services.notification_mark_all_read(actor=actor_of(request)))


@router.post(
    "/notifications/{notification_id}/read", response=responses(NotificationOut), summary="Mark a notification read"
)
def read_one(request: HttpRequest, notification_id: RecordId) -> NotificationOut:
    return _out(services.notification_mark_read(actor=actor_of(request), notification_id=notification_id))


@router.get("/notification-preferences", response=responses(PreferencesOut), summary="Your notification preferences")
def get_preferences(request: HttpRequest) -> PreferencesOut:
    return _preferences_out(selectors.notification_preferences(actor=actor_of(request)))


@router.put(
    "/notification-preferences", response=responses(PreferencesOut), summary="Change your notification preferences"
)
def put_preferences(request: HttpRequest, payload: PreferencesIn) -> PreferencesOut:
    digest = payload.digest or DigestIn(enabled=None, hour=None)
    prefs = services.notification_preferences_save(
        actor=actor_of(request),
        types=[item.model_dump() for item in payload.types],
        digest_enabled=digest.enabled,
        digest_hour=digest.hour,
    )
    return _preferences_out(prefs)


def mount(api: NinjaAPI) -> None:
    api.add_router("/", router)

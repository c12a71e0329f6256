"""Writes of notifications: sending (honouring each user's preferences), reading, preferences, daily digests.

`notification_send` is what apps call. For the recipient's choice for that kind (their preference row, else
the type's registered defaults) it stores the in-app row, queues an email (a background job enqueued after
the transaction commits) and keeps the item for the daily digest. Inactive users get nothing.

The daily digest runs hourly (`notifications.daily_digest`): for each user whose digest hour has come in their
time zone, it claims the day with a conditional UPDATE of `NotificationSettings.last_digest_on`, moves their
waiting items into one `Digest` and queues its email; `digest_send` claims the digest itself before sending.
So two workers, a rerun or a retried job never send the same day or the same email twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.identity.models import User
from guanxi.platform.identity.preferences import user_time_zone
from guanxi.platform.notifications import emails
from guanxi.platform.notifications.models import (
    Digest,
    DigestItem,
    Notification,
    NotificationPreference,
    NotificationSettings,
)
from guanxi.platform.notifications.registry import KIND_MAX_LENGTH, is_known_type, notification_types, type_or_default
from guanxi.platform.notifications.scopes import require_token_scope
from guanxi.platform.notifications.selectors import NotificationPreferences, notification_get, notification_preferences

logger = logging.getLogger(__name__)

TITLE_MAX = 200
URL_MAX = 300
CHANNELS = ("in_app", "email", "digest")
DIGEST_RETENTION = dt.timedelta(days=30)
DIGEST_MAX_ATTEMPTS = 3
DIGEST_RETRY_AFTER = dt.timedelta(hours=1)


# Sending -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Delivery:
    """Where one notification goes for its recipient."""

    in_app: bool
    email: bool
    digest: bool


def _delivery(recipient_id: int, kind: str) -> _Delivery | None:
    """The recipient's effective choice for `kind` in one query; None for an inactive or unknown user."""
    spec = type_or_default(kind)
    preference = NotificationPreference.objects.filter(user_id=OuterRef("pk"), kind=kind)
    own = NotificationSettings.objects.filter(user_id=OuterRef("pk"))
    row = (
        User.objects.filter(pk=recipient_id, is_active=True)
        .annotate(
            pref_in_app=Subquery(preference.values("in_app")[:1]),
            pref_email=Subquery(preference.values("email")[:1]),
            pref_digest=Subquery(preference.values("digest")[:1]),
            digest_enabled=Subquery(own.values("digest_enabled")[:1]),
        )
        .values("email", "pref_in_app", "pref_email", "pref_digest", "digest_enabled")
        .first()
    )
    if row is None:
        return None

    def chosen(value: Any, default: bool) -> bool:
        return default if value is None else bool(value)

    has_email = bool(row["email"])
    return _Delivery(
        in_app=chosen(row["pref_in_app"], spec.default_in_app),
        email=has_email and chosen(row["pref_email"], spec.default_email),
        # The digest is an email too: without an address (or with the digest off) nothing waits for it.
        digest=has_email and bool(row["digest_enabled"]) and chosen(row["pref_digest"], spec.default_digest),
    )


@transaction.atomic
def notification_send(
    *, recipient_id: int, kind: str, title: str, body: str = "", url: str = ""
) -> Notification | None:
    """Notify one user as their preferences for `kind` say; returns the in-app row, or None when they turned
    the app off for this kind (or are inactive). The email, when chosen, goes after the commit."""
    kind, title, body, url = str(kind)[:KIND_MAX_LENGTH], str(title)[:TITLE_MAX], str(body), str(url)[:URL_MAX]
    delivery = _delivery(recipient_id, kind)
    if delivery is None:
        return None
    notification = None
    if delivery.in_app:
        notification = Notification.objects.create(
            recipient_id=recipient_id, kind=kind, title=title, body=body, url=url
        )
    if delivery.digest:
        DigestItem.objects.create(
            recipient_id=recipient_id, notification=notification, kind=kind, title=title, body=body, url=url
        )
    if delivery.email:
        from guanxi.platform.notifications.tasks import send_notification_email

        transaction.on_commit(
            partial(
                send_notification_email.enqueue,
                recipient_id=recipient_id,
                kind=kind,
                title=title,
                body=body,
                url=url,
                notification_id=notification.pk if notification is not None else None,
            )
        )
    return notification


def notification_email_send(
    *, recipient_id: int, kind: str, title: str, body: str = "", url: str = "", notification_id: int | None = None
) -> bool:
    """Email one notification now (the background job's body); False when the recipient cannot get it."""
    return emails.notification_email_deliver(
        recipient_id=recipient_id, kind=kind, title=title, body=body, url=url, notification_id=notification_id
    )


# Reading -----------------------------------------------------------------------------------------------------


@transaction.atomic
def notification_mark_read(*, actor: Actor, notification_id: int) -> Notification:
    """Mark one of the actor's notifications read (a read one keeps its first read time)."""
    require_token_scope(actor, write=True)
    notification = notification_get(actor=actor, notification_id=notification_id)
    if notification.read_at is None:
        now = timezone.now()
        if Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now):
            notification.read_at = now
        else:
            notification.refresh_from_db(fields=["read_at"])
    return notification


def notification_mark_all_read(*, actor: Actor) -> int:
    """Mark all the actor's unread notifications read; returns how many."""
    require_token_scope(actor, write=True)
    return Notification.objects.filter(recipient_id=actor.user.pk, read_at__isnull=True).update(read_at=timezone.now())


# Preferences -------------------------------------------------------------------------------------------------


def _clean_type_choices(types: Sequence[Mapping[str, Any]]) -> tuple[dict[str, dict[str, bool]], dict[str, list[str]]]:
    cleaned: dict[str, dict[str, bool]] = {}
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(types):
        where = f"types[{index}]"
        kind = item.get("kind")
        if not isinstance(kind, str) or not is_known_type(kind):
            known = ", ".join(spec.code for spec in notification_types())
            errors[f"{where}.kind"] = [
                _("Unknown notification type “%(kind)s”. Choose one of: %(types)s.") % {"kind": kind, "types": known}
            ]
            continue
        flags = cleaned.setdefault(kind, {})  # a type listed twice: the later entry wins
        for channel in CHANNELS:
            value = item.get(channel)
            if value is None:
                continue
            if not isinstance(value, bool):
                errors[f"{where}.{channel}"] = [_("Enter true or false.")]
            else:
                flags[channel] = value
    return cleaned, errors


@transaction.atomic
def notification_preferences_save(
    *,
    actor: Actor,
    types: Sequence[Mapping[str, Any]] = (),
    digest_enabled: bool | None = None,
    digest_hour: int | None = None,
) -> NotificationPreferences:
    """Save the actor's choices: for each listed type any of in_app/email/digest (others keep theirs), and the
    daily digest switch and hour (0-23, in their time zone). All or nothing; returns the new preferences."""
    require_token_scope(actor, write=True)
    cleaned, errors = _clean_type_choices(types)
    if digest_enabled is not None and not isinstance(digest_enabled, bool):
        errors["digest.enabled"] = [_("Enter true or false.")]
    if digest_hour is not None and (
        isinstance(digest_hour, bool) or not isinstance(digest_hour, int) or not 0 <= digest_hour <= 23
    ):
        errors["digest.hour"] = [_("Choose an hour from 0 to 23.")]
    if errors:
        raise ValidationFailed(fields=errors)

    user_id = actor.user.pk
    # One save at a time per user (two tabs, a double click): the first rows of a type are created only once.
    list(User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True))
    existing = {p.kind: p for p in NotificationPreference.objects.filter(user_id=user_id)}
    for kind, flags in cleaned.items():
        row = existing.get(kind)
        if row is None:
            spec = type_or_default(kind)
            NotificationPreference.objects.create(
                user_id=user_id,
                kind=kind,
                in_app=flags.get("in_app", spec.default_in_app),
                email=flags.get("email", spec.default_email),
                digest=flags.get("digest", spec.default_digest),
            )
        elif any(getattr(row, channel) != value for channel, value in flags.items()):
            for channel, value in flags.items():
                setattr(row, channel, value)
            row.bump_version()
            row.save()

    if digest_enabled is not None or digest_hour is not None:
        own, _created = NotificationSettings.objects.get_or_create(user_id=user_id)
        was_enabled = own.digest_enabled
        if digest_enabled is not None:
            own.digest_enabled = digest_enabled
        if digest_hour is not None:
            own.digest_hour = digest_hour
        own.bump_version()
        own.save()
        if was_enabled and not own.digest_enabled:
            # Switched off: what waited for the next digest is dropped, not sent months later.
            DigestItem.objects.filter(recipient_id=user_id, digest__isnull=True).delete()
    return notification_preferences(actor=actor)


# Daily digest ------------------------------------------------------------------------------------------------


def _due_local_date(now: dt.datetime, user: User, hour: int, last: dt.date | None) -> dt.date | None:
    """The user's local date when their digest hour has come today and today is not claimed yet."""
    local = now.astimezone(user_time_zone(user))
    if local.hour < hour or (last is not None and last >= local.date()):
        return None
    return local.date()


def _claim_and_collect(user_id: int, local_date: dt.date, now: dt.datetime) -> Digest | None:
    """Claim the user's day and move their waiting items into one digest; None when the day was already
    claimed (another worker, a rerun) or nothing waited."""
    claimed = (
        NotificationSettings.objects.filter(user_id=user_id, digest_enabled=True)
        .filter(Q(last_digest_on__isnull=True) | Q(last_digest_on__lt=local_date))
        .update(last_digest_on=local_date)
    )
    if not claimed:
        return None
    waiting = DigestItem.objects.filter(recipient_id=user_id, digest__isnull=True)
    if not waiting.exists():
        return None
    digest = Digest.objects.create(recipient_id=user_id, local_date=local_date, created_at=now)
    digest.item_count = waiting.update(digest=digest)
    digest.save(update_fields=["item_count"])
    return digest


def notifications_send_daily_digests(*, now: dt.datetime | None = None) -> int:
    """Assemble the daily digest of every user whose digest hour has come in their time zone today and who
    has not had today's; queue one email each. Returns how many digests were assembled.

    Idempotent and safe with several workers: each user's day is claimed with one conditional UPDATE, in the
    same transaction that collects their items, so a day goes out at most once. A run missed at the hour
    (the worker was down) catches up later the same day.
    """
    from guanxi.platform.notifications.tasks import send_digest_email

    now = now or timezone.now()
    utc_today = now.astimezone(dt.UTC).date()
    # Every time zone's today is within a day of UTC's, so this is a superset of the users who are due.
    candidates = (
        NotificationSettings.objects.filter(digest_enabled=True, user__is_active=True)
        .exclude(user__email="")
        .filter(Q(last_digest_on__isnull=True) | Q(last_digest_on__lte=utc_today))
        .select_related("user")
        .only("user_id", "digest_hour", "last_digest_on", "user__time_zone")
        .order_by("user_id")
    )
    assembled = 0
    for own in list(candidates):
        local_date = _due_local_date(now, own.user, own.digest_hour, own.last_digest_on)
        if local_date is None:
            continue
        with transaction.atomic():
            digest = _claim_and_collect(own.user_id, local_date, now)
            if digest is not None:
                transaction.on_commit(partial(send_digest_email.enqueue, digest_id=digest.pk))
                assembled += 1
    # Digests whose email failed are tried again, a few times, an hour or more later.
    for digest_id in Digest.objects.filter(
        sent_at__isnull=True, attempts__gt=0, attempts__lt=DIGEST_MAX_ATTEMPTS, created_at__lte=now - DIGEST_RETRY_AFTER
    ).values_list("pk", flat=True):
        send_digest_email.enqueue(digest_id=digest_id)
    Digest.objects.filter(created_at__lt=now - DIGEST_RETENTION).delete()
    return assembled


def digest_send(*, digest_id: int) -> bool:
    """Email one digest. It is claimed first (`sent_at` NULL -> now), so a rerun or a second worker does not
    send it again; when sending fails the claim is released for a later try and the error raised."""
    claimed = Digest.objects.filter(pk=digest_id, sent_at__isnull=True, attempts__lt=DIGEST_MAX_ATTEMPTS).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    digest = Digest.objects.get(pk=digest_id)
    try:
        return emails.digest_email_deliver(digest=digest)
    except Exception:
        Digest.objects.filter(pk=digest_id).update(sent_at=None)
        logger.exception("daily digest %s could not be sent", digest_id)
        raise

"""Notifications addressed to one user, each user's choices per notification type, and the daily digest.

- `Notification`: the in-app row shown by the bell and the notifications page.
- `NotificationPreference`: a user's choice for one type (in the app, by email, in the daily digest); without
  a row the type's registered defaults apply.
- `NotificationSettings`: a user's daily digest switch and hour, and the day the last digest was claimed for.
- `DigestItem`: what goes into the user's next daily digest (kept apart from `Notification`, so a type shown
  only in the digest still reaches it); `Digest`: one day's digest of one user, sent once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.platform.core.models import TimestampedModel
from guanxi.platform.notifications.registry import KIND_MAX_LENGTH

DEFAULT_DIGEST_HOUR = 8


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("type"), max_length=KIND_MAX_LENGTH)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox"),
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_recent"),
        ]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(TimestampedModel):
    """One user's choice for one notification type."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(_("type"), max_length=KIND_MAX_LENGTH)
    in_app = models.BooleanField(_("in the app"), default=True)
    email = models.BooleanField(_("by email"), default=False)
    digest = models.BooleanField(_("in the daily digest"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


class NotificationSettings(TimestampedModel):
    """A user's daily digest: on or off, the hour (in their time zone) and the last day one was claimed for."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="notification_settings"
    )
    digest_enabled = models.BooleanField(_("daily digest"), default=False)
    digest_hour = models.PositiveSmallIntegerField(_("digest hour"), default=DEFAULT_DIGEST_HOUR)
    # The recipient's local date of the last digest claimed; the hourly job claims a day with a conditional
    # UPDATE (NULL or an earlier day -> today), so two workers or a rerun never send a day twice.
    last_digest_on = models.DateField(_("last digest"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(digest_hour__lte=23), name="notification_digest_hour_range")
        ]
        indexes = [
            models.Index(
                fields=["last_digest_on"], name="notification_digest_due", condition=models.Q(digest_enabled=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}"


class Digest(models.Model):
    """One user's daily digest for one of their days; `sent_at` is set by the job that sends it, `attempts`
    counts its tries (a failed email is tried again by the next hourly runs, a few times)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests")
    local_date = models.DateField(_("day"))
    item_count = models.PositiveIntegerField(_("items"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("daily digest")
        verbose_name_plural = _("daily digests")
        constraints = [models.UniqueConstraint(fields=["recipient", "local_date"], name="notification_digest_day")]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.local_date}"


class DigestItem(models.Model):
    """A notification waiting for the recipient's next daily digest (`digest` NULL), or one that went out."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, null=True, blank=True, related_name="items")
    notification = models.ForeignKey(Notification, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(_("type"), max_length=KIND_MAX_LENGTH)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("digest item")
        verbose_name_plural = _("digest items")
        indexes = [models.Index(fields=["recipient", "digest"], name="notification_digest_pending")]

    def __str__(self) -> str:
        return self.title

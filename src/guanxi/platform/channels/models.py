"""Outbound messages (email, SMS, WeChat), the templates they are written from, the contact policy every
marketing message is checked against, and the suppression list of addresses that must not get marketing.

A message belongs to a record of a registered record type ("customers.customer") by `record_type` and
`record_id`: the platform cannot point a foreign key at a domain app. Its state machine:

    queued --(sent by the provider)--> sent --(delivery report)--> delivered | failed
      |  \\--(retryable error, attempts left)--> queued again at next_attempt_at (exponential backoff)
      |   \\--(permanent error or no attempts left)--> failed
      \\--(policy)--> held, with a reason code and its parameters (rendered in the reader's language)
    sent --(email bounce)--> bounced
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from guanxi.platform.audit.history import ChangeHistory
from guanxi.platform.core.models import TimestampedModel


class MessageChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")


class MessagePurpose(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    TRANSACTIONAL = "transactional", _("Transactional")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    HELD = "held", _("Held")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    BOUNCED = "bounced", _("Bounced")


class HeldReason(models.TextChoices):
    """Why the contact policy held a message back (status held) or deferred it (status queued)."""

    NO_CONSENT = "no_consent", _("No consent")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    BLOCKED = "blocked", _("Address blocked")
    FREQUENCY_CAP = "frequency_cap", _("Frequency cap")
    QUIET_HOURS = "quiet_hours", _("Quiet hours")


class SuppressionReason(models.TextChoices):
    """Unsubscribed addresses get no marketing; bounced and blocked ones get nothing at all."""

    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    BOUNCED = "bounced", _("Bounced")
    BLOCKED = "blocked", _("Blocked by an administrator")


class ConsentState(models.TextChoices):
    """Consent of a contact point for a channel, as a recipient source reports it."""

    UNKNOWN = "unknown", _("Not asked")
    GRANTED = "granted", _("Granted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class MessageTemplate(TimestampedModel):
    """A message text in Chinese and English with merge fields ({{ name }}), checked when it is saved.

    SMS providers in China and WeChat template messages send only pre-approved provider templates: for those
    `provider_template_id` names the approved template and `provider_params` maps each of its parameters to a
    merge text ({"name": "{{ name }}"}); the Chinese/English body is what the message log shows.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    channel = models.CharField(_("channel"), max_length=10, choices=MessageChannel.choices)
    purpose = models.CharField(_("purpose"), max_length=16, choices=MessagePurpose.choices)
    record_type = models.CharField(_("record type"), max_length=64)
    subject_zh = models.CharField(_("subject (Chinese)"), max_length=300, blank=True)
    body_zh = models.TextField(_("text (Chinese)"), blank=True)
    subject_en = models.CharField(_("subject (English)"), max_length=300, blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    provider_template_id = models.CharField(_("provider template ID"), max_length=100, blank=True)
    provider_params = models.JSONField(_("provider template parameters"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = ChangeHistory()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        indexes = [models.Index(fields=["channel", "is_active", "name"], name="msgtemplate_channel")]

    def __str__(self) -> str:
        return self.name


class OutboundMessage(models.Model):
    channel = models.CharField(_("channel"), max_length=10, choices=MessageChannel.choices)
    purpose = models.CharField(_("purpose"), max_length=16, choices=MessagePurpose.choices)
    status = models.CharField(_("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    to_address = models.CharField(_("to"), max_length=300)
    record_type = models.CharField(_("record type"), max_length=64)
    record_id = models.BigIntegerField(_("record"))
    template = models.ForeignKey(
        MessageTemplate, verbose_name=_("template"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    language = models.CharField(_("language"), max_length=10)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"), blank=True)
    provider_template_id = models.CharField(_("provider template ID"), max_length=100, blank=True)
    provider_data = models.JSONField(_("provider template data"), default=dict, blank=True)
    provider = models.CharField(_("provider"), max_length=30, blank=True)
    provider_message_id = models.CharField(_("provider message ID"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error_code = models.CharField(_("error code"), max_length=100, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    held_reason = models.CharField(_("held reason"), max_length=20, choices=HeldReason.choices, blank=True)
    held_params = models.JSONField(_("held reason details"), default=dict, blank=True)
    # A delivery attempt owns the row while claim_token is set and claimed_until is in the future; a worker
    # that died mid-attempt loses its claim when claimed_until passes and the retry job takes the row over.
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("bounced at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            models.Index(fields=["record_type", "record_id", "-id"], name="message_record"),
            models.Index(fields=["record_type", "record_id", "channel", "created_at"], name="message_cap"),
            models.Index(fields=["channel", "-id"], name="message_channel"),
            models.Index(fields=["status", "-id"], name="message_status"),
            models.Index(fields=["purpose", "-id"], name="message_purpose"),
            models.Index(fields=["provider", "provider_message_id"], name="message_provider_id"),
            models.Index(fields=["next_attempt_at"], condition=Q(status="queued"), name="message_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.to_address}"

    @property
    def held_reason_text(self) -> str:
        """The reason a message was held or deferred, in the active language, with its details."""
        return held_reason_text(self.held_reason, self.held_params)

    @property
    def is_deferred(self) -> bool:
        return self.status == MessageStatus.QUEUED and self.held_reason == HeldReason.QUIET_HOURS


def _local_time(value: Any) -> str:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


def held_reason_text(code: str, params: dict[str, Any]) -> str:
    """Render a held reason code and its parameters (stored as data) as a sentence in the active language."""
    channel = MessageChannel(params["channel"]).label if params.get("channel") in MessageChannel.values else ""
    if code == HeldReason.NO_CONSENT:
        consent = params.get("consent") or ConsentState.UNKNOWN
        consent_label = ConsentState(consent).label if consent in ConsentState.values else consent
        return _gettext(
            "Marketing needs consent for %(channel)s on this contact point; its consent is “%(consent)s”."
        ) % {"channel": channel, "consent": consent_label}
    if code == HeldReason.UNSUBSCRIBED:
        return _gettext("The address unsubscribed (%(source)s) and gets no marketing messages.") % {
            "source": params.get("source") or "—"
        }
    if code == HeldReason.BLOCKED:
        reason = params.get("reason", "")
        reason_label = SuppressionReason(reason).label if reason in SuppressionReason.values else reason
        return _gettext("The address is blocked for every message: %(reason)s.") % {"reason": reason_label}
    if code == HeldReason.FREQUENCY_CAP:
        return _gettext(
            "Frequency cap: %(count)s of at most %(limit)s marketing messages by %(channel)s in the last %(days)s days."
        ) % {"count": params.get("count"), "limit": params.get("limit"), "channel": channel, "days": params.get("days")}
    if code == HeldReason.QUIET_HOURS:
        return _gettext("Deferred by quiet hours until %(until)s.") % {"until": _local_time(params.get("until"))}
    return ""


def default_time_zone() -> str:
    return str(settings.TIME_ZONE)


def all_channels() -> list[str]:
    return list(MessageChannel.values)


class ContactPolicy(TimestampedModel):
    """The one contact policy row (pk 1): frequency caps per record and channel, and quiet hours."""

    caps_enabled = models.BooleanField(_("frequency caps on"), default=True)
    email_cap_count = models.PositiveSmallIntegerField(_("emails at most"), null=True, blank=True, default=3)
    email_cap_days = models.PositiveSmallIntegerField(_("email period (days)"), default=7)
    sms_cap_count = models.PositiveSmallIntegerField(_("SMS at most"), null=True, blank=True, default=1)
    sms_cap_days = models.PositiveSmallIntegerField(_("SMS period (days)"), default=7)
    wechat_cap_count = models.PositiveSmallIntegerField(_("WeChat messages at most"), null=True, blank=True, default=2)
    wechat_cap_days = models.PositiveSmallIntegerField(_("WeChat period (days)"), default=7)
    quiet_hours_enabled = models.BooleanField(_("quiet hours on"), default=True)
    quiet_start = models.TimeField(_("quiet hours start"), default=dt.time(21, 0))
    quiet_end = models.TimeField(_("quiet hours end"), default=dt.time(8, 0))
    quiet_time_zone = models.CharField(_("time zone of the quiet hours"), max_length=64, default=default_time_zone)
    quiet_channels = models.JSONField(_("channels with quiet hours"), default=all_channels, blank=True)

    history = ChangeHistory()

    class Meta:
        verbose_name = _("contact policy")
        verbose_name_plural = _("contact policy")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="contactpolicy_single_row")]

    def __str__(self) -> str:
        return str(_("Contact policy"))

    def cap_for(self, channel: str) -> tuple[int | None, int]:
        """(at most N marketing messages, per D days) for `channel`; N None means no cap."""
        count: int | None = getattr(self, f"{channel}_cap_count", None)
        days: int = getattr(self, f"{channel}_cap_days", 7)
        return (count if self.caps_enabled else None), days


class Suppression(models.Model):
    """An address that must not get marketing (unsubscribed) or anything (bounced, blocked).

    Kept by channel and normalised address, so an address that unsubscribed stays unsubscribed when it is
    entered again on another record or re-created with consent.
    """

    channel = models.CharField(_("channel"), max_length=10, choices=MessageChannel.choices)
    address = models.CharField(_("address"), max_length=300)
    reason = models.CharField(_("reason"), max_length=16, choices=SuppressionReason.choices)
    source = models.CharField(_("source"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        constraints = [models.UniqueConstraint(fields=["channel", "address"], name="suppression_unique_address")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.address}"


def is_chinese(language: str | None = None) -> bool:
    return (language if language is not None else (get_language() or "")).startswith("zh")

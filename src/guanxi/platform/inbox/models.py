"""Inbound messages (email, SMS, WeChat) as received, and where each was filed; the IMAP poller's position."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.platform.core.models import TimestampedModel


class InboundChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")


class InboundProvider(models.TextChoices):
    EMAIL_WEBHOOK = "webhook", _("Email webhook")
    IMAP = "imap", _("IMAP mailbox")
    ALIYUN = "aliyun", _("Aliyun SMS")
    TENCENT = "tencent", _("Tencent Cloud SMS")
    WECHAT_MP = "wechat_mp", _("WeChat Official Account")


class MatchStatus(models.TextChoices):
    PENDING = "pending", _("Being filed")
    MATCHED = "matched", _("Matched")
    LEAD_CREATED = "lead_created", _("Lead created")
    UNMATCHED = "unmatched", _("Unmatched")
    IGNORED = "ignored", _("Ignored")
    ERROR = "error", _("Failed")


class MatchReason(models.TextChoices):
    """Why a message ended as it did, shown translated next to its status."""

    NONE = "", _("No remark")
    AMBIGUOUS = "ambiguous", _("Several records have this address; the most recently contacted one was chosen.")
    UNREADABLE_SENDER = "unreadable_sender", _("The sender's address could not be read.")
    NO_MATCH = "no_match", _("No customer or lead has this address.")
    UNSUBSCRIBE_UNKNOWN = (
        "unsubscribe_unknown",
        _("An unsubscribe request from an unknown sender: no lead was created."),
    )
    AUTOMATED_UNKNOWN = "automated_unknown", _("An automatic reply from an unknown sender: no lead was created.")
    BOUNCE = "bounce", _("A delivery failure report: the bounce was recorded on the message that failed.")
    BOUNCE_NOT_RECORDED = (
        "bounce_not_recorded",
        _("A delivery failure report; no sent message could be marked as bounced."),
    )
    DELIVERY_REPORT = "delivery_report", _("A delivery status report that reports no failure.")
    FILED_BY_HAND = "filed_by_hand", _("Filed by hand.")


# Messages nobody has filed on a record: only those who manage the inbox see them.
UNFILED_STATUSES = (MatchStatus.PENDING, MatchStatus.UNMATCHED, MatchStatus.IGNORED, MatchStatus.ERROR)


class InboundMessage(TimestampedModel):
    channel = models.CharField(_("channel"), max_length=10, choices=InboundChannel.choices)
    provider = models.CharField(_("received through"), max_length=20, choices=InboundProvider.choices)
    provider_message_id = models.CharField(_("provider message id"), max_length=255)
    from_address = models.CharField(_("sender address"), max_length=320, blank=True)
    from_address_valid = models.BooleanField(default=False)
    from_name = models.CharField(_("sender name"), max_length=200, blank=True)
    to_address = models.CharField(_("recipient address"), max_length=320, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body_text = models.TextField(_("text"), blank=True)
    received_at = models.DateTimeField(_("received at"))
    metadata = models.JSONField(_("headers and provider data"), default=dict, blank=True)
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    automated = models.BooleanField(_("automatic message"), default=False)
    match_status = models.CharField(
        _("status"), max_length=16, choices=MatchStatus.choices, default=MatchStatus.PENDING
    )
    match_reason = models.CharField(
        _("remark"), max_length=32, choices=MatchReason.choices, blank=True, default=MatchReason.NONE
    )
    other_candidates = models.JSONField(_("other records with this address"), default=list, blank=True)
    record_type = models.CharField(_("record type"), max_length=50, blank=True)
    record_id = models.BigIntegerField(_("record"), null=True, blank=True)
    timeline_type = models.CharField(max_length=50, blank=True)
    timeline_id = models.BigIntegerField(null=True, blank=True)
    unsubscribe_requested = models.BooleanField(_("unsubscribe requested"), default=False)
    unsubscribed_count = models.PositiveIntegerField(_("contact points unsubscribed"), null=True, blank=True)
    bounce_of = models.CharField(_("bounce of message"), max_length=255, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider", "provider_message_id"], name="inbound_unique_provider_message"
            ),
            models.CheckConstraint(
                condition=Q(record_type="", record_id__isnull=True) | (~Q(record_type="") & Q(record_id__isnull=False)),
                name="inbound_record_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="inbound_received"),
            models.Index(fields=["match_status", "-received_at"], name="inbound_status_received"),
            models.Index(fields=["channel", "-received_at"], name="inbound_channel_received"),
            models.Index(fields=["record_type", "record_id"], name="inbound_record"),
            models.Index(fields=["channel", "provider_message_id"], name="inbound_channel_message"),
        ]

    def __str__(self) -> str:
        return self.subject or self.from_address or str(self.pk)

    @property
    def is_filed(self) -> bool:
        return bool(self.record_type)


class ImapCursor(models.Model):
    """How far the poller has read one IMAP folder: the folder's UIDVALIDITY and the last UID stored.

    `claimed_until` is the lease of the worker polling it now, so two workers never poll one folder at once.
    """

    mailbox = models.CharField(max_length=300, unique=True)  # "user@host/INBOX"
    uid_validity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("IMAP position")
        verbose_name_plural = _("IMAP positions")

    def __str__(self) -> str:
        return self.mailbox

"""Webhook subscriptions (where to send which events, signed with which secret) and the delivery log.

A `WebhookDelivery` is one event on its way to one subscription; each HTTP try is a `WebhookAttempt`, so the
log shows every response code. The signing secret is stored encrypted (`platform.core.cn_ids.pii_encrypt`,
keyed by GUANXI_PII_KEY) and shown in full only in the answer that creates or rotates it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.platform.audit.history import ChangeHistory
from guanxi.platform.core.models import TimestampedModel

ALL_EVENTS = "*"
PING_EVENT = "webhook.ping"


class DisabledReason(models.TextChoices):
    MANUAL = "manual", _("Switched off by a user")
    FAILURES = "failures", _("Too many consecutive failed deliveries")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RETRYING = "retrying", _("Retrying")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


class AttemptError(models.TextChoices):
    """Why an attempt did not succeed (empty when it did); the technical detail is kept next to it."""

    HTTP_STATUS = "http_status", _("The endpoint answered with an error status")
    REDIRECT = "redirect", _("The endpoint answered with a redirect (not followed)")
    TIMEOUT = "timeout", _("The endpoint did not answer in time")
    CONNECTION = "connection", _("The endpoint could not be reached")
    BLOCKED_ADDRESS = "blocked_address", _("The address is not allowed (private or reserved network)")
    INVALID_URL = "invalid_url", _("The address is not allowed")
    SUBSCRIPTION_DISABLED = "subscription_disabled", _("Not sent: the subscription is switched off")


class WebhookSubscription(TimestampedModel):
    name = models.CharField(_("name"), max_length=100)
    url = models.CharField(_("URL"), max_length=500)
    event_types = models.JSONField(
        _("event types"), default=list, help_text=_('Registered event names, or ["*"] for every event.')
    )
    secret_encrypted = models.TextField(_("secret (encrypted)"))
    secret_hint = models.CharField(_("secret (last characters)"), max_length=8)
    secret_rotated_at = models.DateTimeField(_("secret rotated at"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    consecutive_failures = models.PositiveIntegerField(_("consecutive failed deliveries"), default=0)
    disabled_reason = models.CharField(
        _("why it is switched off"), max_length=20, choices=DisabledReason.choices, blank=True
    )
    disabled_at = models.DateTimeField(_("switched off at"), null=True, blank=True)

    # The secret never goes into the history table; the counter changes through UPDATEs only.
    history = ChangeHistory(excluded_fields=["secret_encrypted", "consecutive_failures"])

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        indexes = [models.Index(fields=["is_active"], name="webhooks_sub_active")]

    def __str__(self) -> str:
        return self.name

    @property
    def all_events(self) -> bool:
        return ALL_EVENTS in self.event_types

    def accepts(self, event_name: str) -> bool:
        return self.all_events or event_name in self.event_types

    @property
    def masked_secret(self) -> str:
        return f"whsec_••••••••{self.secret_hint}"


class WebhookDelivery(models.Model):
    """One event (or ping, or workflow call) to one subscription, with its current state and last outcome."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("subscription")
    )
    event_id = models.CharField(_("event id"), max_length=64)
    event_name = models.CharField(_("event"), max_length=100)
    record_type = models.CharField(_("record type"), max_length=64, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("maximum attempts"))
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # The worker that claimed the next attempt (a conditional UPDATE sets it); cleared when it has run.
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    last_response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    response_body = models.TextField(_("response body (start)"), blank=True)
    error_kind = models.CharField(_("error"), max_length=24, choices=AttemptError.choices, blank=True)
    error = models.TextField(_("error detail"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    first_attempted_at = models.DateTimeField(_("first attempt at"), null=True, blank=True)
    last_attempted_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    manual = models.BooleanField(_("sent by hand"), default=False)
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="redeliveries",
        verbose_name=_("redelivery of"),
    )
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            # One delivery per event and subscription however often the event reaches the subscriber;
            # redeliveries and pings are sent by hand and may repeat an event.
            models.UniqueConstraint(
                fields=["subscription", "event_id"], condition=Q(manual=False), name="webhooks_delivery_once"
            ),
        ]
        indexes = [
            models.Index(fields=["subscription", "-id"], name="webhooks_dlv_sub"),
            models.Index(fields=["status", "-id"], name="webhooks_dlv_status"),
            models.Index(fields=["event_name", "-id"], name="webhooks_dlv_event"),
            # The retry job: open deliveries by due time.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "retrying"]),
                name="webhooks_dlv_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_name} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery and what came back."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery")
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    url = models.CharField(_("URL"), max_length=500)
    request_headers = models.JSONField(_("request headers"), default=dict)
    started_at = models.DateTimeField(_("started at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    response_body = models.TextField(_("response body (start)"), blank=True)
    error_kind = models.CharField(_("error"), max_length=24, choices=AttemptError.choices, blank=True)
    error = models.TextField(_("error detail"), blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhooks_attempt_once")]

    def __str__(self) -> str:
        return f"{self.delivery_id}/{self.number}"

    @property
    def succeeded(self) -> bool:
        return not self.error_kind

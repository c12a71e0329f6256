"""Interaction (跟进记录): one contact with a customer or lead on any channel, on the timeline."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from guanxi.customers.models.choices import Channel, Direction, Outcome
from guanxi.customers.models.customer import Customer
from guanxi.customers.models.lead import Lead
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.models import TimestampedModel
from guanxi.platform.identity.scoping import ScopedQuerySet


class InteractionQuerySet(ScopedQuerySet):
    pass


class Interaction(TimestampedModel):
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="interactions"
    )
    lead = models.ForeignKey(
        "customers.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="interactions"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.OUTBOUND)
    occurred_at = models.DateTimeField(_("time"))
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("details"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True, default="")
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = InteractionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | Q(lead__isnull=False), name="interaction_has_subject"
            )
        ]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="interaction_customer_time"),
            models.Index(fields=["lead", "-occurred_at"], name="interaction_lead_time"),
            models.Index(fields=["user", "-occurred_at"], name="interaction_user_time"),
        ]

    def __str__(self) -> str:
        return self.subject or self.get_channel_display()

    @classmethod
    def visibility_q(cls, actor: Actor | Any) -> Q:
        return (Q(customer__isnull=False) & Customer.visibility_q(actor, prefix="customer__")) | (
            Q(lead__isnull=False) & Lead.visibility_q(actor, prefix="lead__")
        )

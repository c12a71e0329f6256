"""Lead (线索): an unqualified prospect, captured by a form, import or the API, converted into a customer."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from guanxi.customers.models.choices import LeadStatus, Source
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.models import TimestampedModel
from guanxi.platform.identity.scoping import ScopedQuerySet, ownership_q


class LeadQuerySet(ScopedQuerySet):
    pass


class Lead(TimestampedModel):
    name = models.CharField(_("name"), max_length=200, db_index=True)
    name_pinyin = models.CharField(max_length=400, blank=True, editable=False, db_index=True)
    name_initials = models.CharField(max_length=100, blank=True, editable=False, db_index=True)
    company_name = models.CharField(_("company"), max_length=200, blank=True, db_index=True)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_search_key = models.CharField(max_length=40, blank=True, editable=False, db_index=True)
    email = models.CharField(_("email"), max_length=254, blank=True, db_index=True)
    wechat = models.CharField(_("WeChat ID"), max_length=100, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW)
    description = models.TextField(_("description"), blank=True)
    disqualified_reason = models.CharField(_("reason not qualified"), max_length=300, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    team = models.ForeignKey(
        "identity.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    converted_customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_contact = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = LeadQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["name_pinyin", "name_initials", "phone_search_key"])

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["owner", "-id"], name="lead_owner_id"),
            models.Index(fields=["team", "-id"], name="lead_team_id"),
            models.Index(fields=["status", "-id"], name="lead_status_id"),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def visibility_q(cls, actor: Actor | Any, prefix: str = "") -> Q:
        return ownership_q(actor, "leads", owner_field=f"{prefix}owner", team_field=f"{prefix}team")

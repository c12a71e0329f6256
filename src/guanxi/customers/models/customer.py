"""Customer (a person or an organisation) and its contact points (phones, emails, WeChat IDs, addresses)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from guanxi.customers.models.choices import (
    CompanySize,
    Consent,
    ContactKind,
    CustomerKind,
    Gender,
    LifecycleStage,
    Source,
)
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.models import TimestampedModel
from guanxi.platform.identity.scoping import ScopedQuerySet, has_permission, ownership_q


class CustomerQuerySet(ScopedQuerySet):
    pass


class Customer(TimestampedModel):
    kind = models.CharField(_("kind"), max_length=16, choices=CustomerKind.choices, default=CustomerKind.PERSON)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    family_name = models.CharField(_("family name"), max_length=100, blank=True)
    given_name = models.CharField(_("given name"), max_length=100, blank=True, db_index=True)
    name_pinyin = models.CharField(max_length=400, blank=True, editable=False, db_index=True)
    name_initials = models.CharField(max_length=100, blank=True, editable=False, db_index=True)
    organisation = models.ForeignKey(
        "self",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="people",
        limit_choices_to={"kind": CustomerKind.ORGANISATION},
    )
    company_name = models.CharField(_("company"), max_length=200, blank=True, db_index=True)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True, default="")
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    id_number_masked = models.CharField(_("ID number"), max_length=32, blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_number_encrypted = models.TextField(blank=True, editable=False)
    uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True, db_index=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    company_size = models.CharField(_("company size"), max_length=10, choices=CompanySize.choices, blank=True)
    website = models.URLField(_("website"), blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    card_number = models.CharField(_("membership card number"), max_length=64, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_customers",
    )
    team = models.ForeignKey(
        "identity.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner_since = models.DateTimeField(_("owned since"), null=True, blank=True)
    pool = models.ForeignKey(
        "customers.Pool",
        verbose_name=_("pool"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
    )
    pool_entered_at = models.DateTimeField(_("in the pool since"), null=True, blank=True)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.PROSPECT
    )
    rating = models.PositiveSmallIntegerField(_("star rating"), default=0, validators=[MaxValueValidator(5)])
    # Soft data (软数据), recorded by front-line staff.
    family_members = models.JSONField(_("family members"), default=list, blank=True)
    preferences = models.TextField(_("preferences"), blank=True)
    special_needs = models.TextField(_("special needs"), blank=True)
    interests = models.TextField(_("interests"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    next_follow_up_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)
    last_deal_at = models.DateTimeField(_("last deal"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CustomerQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["id_number_encrypted", "id_number_hash", "name_pinyin", "name_initials"]
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                fields=["card_number"], condition=~Q(card_number=""), name="customer_unique_card_number"
            ),
            models.CheckConstraint(condition=Q(rating__lte=5), name="customer_rating_0_5"),
        ]
        indexes = [
            models.Index(fields=["owner", "-id"], name="customer_owner_id"),
            models.Index(fields=["team", "-id"], name="customer_team_id"),
            models.Index(fields=["card_number"], name="customer_card"),
            models.Index(fields=["pool", "-pool_entered_at"], name="customer_pool"),
            models.Index(fields=["last_contact_at"], name="customer_last_contact"),
            models.Index(fields=["lifecycle_stage"], name="customer_stage"),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def visibility_q(cls, actor: Actor | Any, prefix: str = "") -> Q:
        """Own / team / all by the actor's scope, plus pool customers for those who may see the pool."""
        q = ownership_q(actor, "customers", owner_field=f"{prefix}owner", team_field=f"{prefix}team")
        if q and has_permission(actor, "pool.view"):
            from guanxi.customers.models.pool import Pool, pool_usable_q

            # A subquery rather than a join, so callers may still lock rows with select_for_update().
            usable_pools = Pool.objects.filter(pool_usable_q(actor)).values("pk")
            q |= Q(**{f"{prefix}owner__isnull": True, f"{prefix}pool_id__in": usable_pools})
        return q

    @property
    def is_organisation(self) -> bool:
        return self.kind == CustomerKind.ORGANISATION

    @property
    def in_pool(self) -> bool:
        return self.owner_id is None and self.pool_id is not None


class ContactPointQuerySet(ScopedQuerySet):
    pass


class ContactPoint(TimestampedModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(_("type"), max_length=10, choices=ContactKind.choices)
    value = models.CharField(_("value"), max_length=300)
    raw_value = models.CharField(_("as entered"), max_length=300, blank=True)
    search_key = models.CharField(max_length=300, blank=True, editable=False, db_index=True)
    label = models.CharField(_("label"), max_length=50, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    verified = models.BooleanField(_("verified"), default=False)
    consent = models.CharField(_("consent"), max_length=10, choices=Consent.choices, default=Consent.UNKNOWN)
    consent_updated_at = models.DateTimeField(_("consent updated"), null=True, blank=True)
    consent_source = models.CharField(_("consent source"), max_length=100, blank=True)
    address = models.JSONField(_("address parts"), default=dict, blank=True)

    objects = ContactPointQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["search_key"])

    class Meta:
        ordering = ["kind", "-is_primary", "id"]
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind", "value"], name="contactpoint_unique_value"),
            models.UniqueConstraint(
                fields=["customer", "kind"], condition=Q(is_primary=True), name="contactpoint_one_primary"
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "value"], name="contactpoint_value"),
        ]

    def __str__(self) -> str:
        return self.value

    @classmethod
    def visibility_q(cls, actor: Actor | Any) -> Q:
        return Customer.visibility_q(actor, prefix="customer__")

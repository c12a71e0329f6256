"""The public pool (公海): pools with their rules, the history of every move, and handovers (客户交接)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from guanxi.customers.models.choices import PoolAction
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.models import TimestampedModel
from guanxi.platform.identity.permissions import DataScope
from guanxi.platform.identity.scoping import data_scope, team_subtree_ids


class Pool(TimestampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    team = models.ForeignKey(
        "identity.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Customers of this team and its sub-teams return to this pool; empty for the whole company."),
    )
    max_owned_per_rep = models.PositiveIntegerField(
        _("most customers a rep may own"),
        null=True,
        blank=True,
        help_text=_("Claims stop at this many; empty for no limit."),
    )
    max_claims_per_day = models.PositiveIntegerField(_("most claims per rep per day"), null=True, blank=True)
    cooldown_days = models.PositiveIntegerField(
        _("cool-down days"),
        default=0,
        help_text=_("The previous owner may not claim a customer back for this many days."),
    )
    return_after_days_without_follow_up = models.PositiveIntegerField(
        _("return after days without follow-up"), null=True, blank=True
    )
    return_after_days_without_deal = models.PositiveIntegerField(
        _("return after days without a deal"), null=True, blank=True
    )
    is_default = models.BooleanField(_("default pool"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("public pool")
        verbose_name_plural = _("public pools")
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True), name="pool_one_default")
        ]

    def __str__(self) -> str:
        return self.name


class PoolEvent(models.Model):
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="pool_events")
    pool = models.ForeignKey(Pool, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    action = models.CharField(_("action"), max_length=16, choices=PoolAction.choices)
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    occurred_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("pool event")
        verbose_name_plural = _("pool history")
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="poolevent_customer"),
            models.Index(fields=["to_user", "action", "occurred_at"], name="poolevent_claims"),
            models.Index(fields=["from_user", "action", "occurred_at"], name="poolevent_returns"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} #{self.customer_id}"


class Handover(models.Model):
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_pool = models.ForeignKey(Pool, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    customers_moved = models.PositiveIntegerField(default=0)
    leads_moved = models.PositiveIntegerField(default=0)
    tasks_moved = models.PositiveIntegerField(default=0)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")

    def __str__(self) -> str:
        return f"#{self.from_user_id} -> #{self.to_user_id or self.to_pool_id}"


def team_ancestor_ids(user: Any) -> list[int]:
    """The user's main team and every team above it, read from the materialised path ("/1/4/9/")."""
    team = user.team if user.team_id else None
    if team is None:
        return []
    return [int(part) for part in team.path.strip("/").split("/") if part.isdigit()]


def pool_usable_q(actor: Actor | Any, prefix: str = "") -> Q:
    """Pools an actor may see and claim from: company-wide pools, pools of the actor's team or a team above
    it, and (for managers) pools of the teams they look after; everything for company-wide scopes."""
    scope = data_scope(actor, "customers")
    if scope == DataScope.ALL:
        return Q()
    user = actor.user if isinstance(actor, Actor) else actor
    team_ids = set(team_ancestor_ids(user))
    if scope == DataScope.TEAM:
        team_ids.update(team_subtree_ids(user))
    return Q(**{f"{prefix}team__isnull": True}) | Q(**{f"{prefix}team_id__in": sorted(team_ids)})

"""Reading the public pool (公海): pools, the customers in them, a rep's claim allowance, a customer's pool
history, which pool a team's customers return to, and handovers (客户交接) with their preview counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers.models import Customer, Handover, Lead, Pool, PoolEvent, Task
from guanxi.customers.models.choices import CustomerKind, LeadStatus, LifecycleStage, PoolAction, Source, TaskStatus
from guanxi.customers.models.pool import pool_usable_q, team_ancestor_ids
from guanxi.customers.permissions import HANDOVER_RUN, POOL_MANAGE, POOL_VIEW
from guanxi.platform.audit.history import HistoryEntry, record_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.platform.core.filters import FilterParams, day_range_q
from guanxi.platform.identity.models import Team, User
from guanxi.platform.identity.permissions import DataScope
from guanxi.platform.identity.preferences import user_time_zone
from guanxi.platform.identity.scoping import data_scope, has_permission, require_permission, team_subtree_ids

# Moves that take a customer away from a user; the pool's cool-down applies to that user afterwards.
LOSS_ACTIONS = (PoolAction.RETURNED, PoolAction.AUTO_RETURNED, PoolAction.HANDED_OVER, PoolAction.ASSIGNED)

POOL_CUSTOMER_SORTS = ("-pool_entered_at", "pool_entered_at", "name", "-name", "-last_contact_at", "-id")


# --- which pools an actor may use -------------------------------------------------------------------


def pool_is_usable_by(actor: Actor, pool: Pool) -> bool:
    """The same rule as `pool_usable_q`, for one pool already in memory."""
    scope = data_scope(actor, "customers")
    if scope == DataScope.ALL or pool.team_id is None:
        return True
    if pool.team_id in team_ancestor_ids(actor.user):
        return True
    return scope == DataScope.TEAM and pool.team_id in team_subtree_ids(actor.user)


# --- which pool a customer returns to ----------------------------------------------------------------


@dataclass(frozen=True)
class PoolAssignment:
    """For every team, the pool its customers return to: the nearest active pool whose team is the team
    itself or above it; otherwise the fallback (the default pool, else a company-wide pool)."""

    by_team: dict[int, Pool]
    fallback: Pool | None

    def pool_for(self, team_id: int | None) -> Pool | None:
        if team_id is None:
            return self.fallback
        return self.by_team.get(team_id, self.fallback)


def pool_assignment() -> PoolAssignment:
    """Two small queries (pools, teams); the mapping is computed in memory."""
    pools = list(Pool.objects.filter(is_active=True).select_related("team").order_by("-is_default", "id"))
    fallback = next((p for p in pools if p.is_default), None) or next((p for p in pools if p.team_id is None), None)
    team_pools: dict[int, Pool] = {}
    for pool in pools:
        if pool.team_id is not None:
            team_pools.setdefault(pool.team_id, pool)  # default first, then oldest
    by_team: dict[int, Pool] = {}
    if team_pools:
        for team_id, path in Team.objects.values_list("pk", "path"):
            ancestors = [int(part) for part in path.strip("/").split("/") if part.isdigit()]
            nearest = next((team_pools[a] for a in reversed(ancestors) if a in team_pools), None)
            if nearest is not None:
                by_team[team_id] = nearest
    return PoolAssignment(by_team=by_team, fallback=fallback)


def pool_for_team(team_id: int | None) -> Pool | None:
    """The pool customers of `team_id` go back to, or None when there is no pool at all."""
    if team_id is not None:
        path = Team.objects.filter(pk=team_id).values_list("path", flat=True).first() or ""
        ancestors = [int(part) for part in path.strip("/").split("/") if part.isdigit()]
        candidates = {
            pool.team_id: pool
            for pool in reversed(
                list(Pool.objects.filter(is_active=True, team_id__in=ancestors).order_by("-is_default", "id"))
            )
        }
        for ancestor in reversed(ancestors):
            if ancestor in candidates:
                return candidates[ancestor]
    return (
        Pool.objects.filter(is_active=True, is_default=True).first()
        or Pool.objects.filter(is_active=True, team__isnull=True).order_by("id").first()
    )


# --- pools -------------------------------------------------------------------------------------------


def pool_list(*, actor: Actor) -> QuerySet[Pool]:
    """Pool managers see every pool (also closed ones); others see the active pools they may use.
    Each pool carries `customer_count`, the customers waiting in it."""
    if has_permission(actor, POOL_MANAGE):
        qs = Pool.objects.all()
    else:
        require_permission(actor, POOL_VIEW)
        qs = Pool.objects.filter(is_active=True).filter(pool_usable_q(actor))
    return (
        qs.select_related("team")
        .annotate(customer_count=Count("customers", filter=Q(customers__owner__isnull=True)))
        .order_by("name")
    )


def pools_usable(*, actor: Actor) -> QuerySet[Pool]:
    """The active pools the actor may claim from (the pool page's filter and allowance), even for managers."""
    require_permission(actor, POOL_VIEW)
    return Pool.objects.filter(is_active=True).filter(pool_usable_q(actor)).select_related("team").order_by("name")


def pool_get(*, actor: Actor, pool_id: int) -> Pool:
    pool = pool_list(actor=actor).filter(pk=pool_id).first()
    if pool is None:
        raise NotFound(_("Pool not found."))
    return pool


def pool_change_history(*, actor: Actor, pool: Pool) -> list[HistoryEntry]:
    """Who changed the pool's rules (limits, cool-down, automatic return, team, default), and when."""
    require_permission(actor, POOL_MANAGE)
    return record_history(pool)


# --- customers in the pool ---------------------------------------------------------------------------


@dataclass
class PoolCustomerFilters:
    """Filters of the pool page and of GET /pool/customers."""

    q: str = ""
    pool_id: int | None = None
    kind: str = ""
    source: str = ""
    stage: str = ""
    entered_from: dt.date | None = None
    entered_to: dt.date | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> PoolCustomerFilters:
        """Parse query parameters; bad values raise ValidationFailed naming every bad parameter."""
        read = FilterParams(params)
        filters = cls(
            q=read.text("q"),
            pool_id=read.integer("pool_id"),
            kind=read.choice("kind", CustomerKind),
            source=read.choice("source", Source),
            stage=read.choice("stage", LifecycleStage),
            entered_from=read.date("entered_from"),
            entered_to=read.date("entered_to"),
        )
        read.check()
        return filters


def pool_customers(
    *,
    actor: Actor,
    pool_id: int | None = None,
    filters: PoolCustomerFilters | None = None,
    sort: str = "-pool_entered_at",
) -> QuerySet[Customer]:
    """Unowned customers waiting in the active pools the actor may use, in one query per page.

    Each row carries `previous_owner_name` (who had it last) and `my_last_loss_at` (when the actor last
    gave it up, for the cool-down)."""
    require_permission(actor, POOL_VIEW)
    if sort not in POOL_CUSTOMER_SORTS:
        raise ValidationFailed.for_field("sort", _("Choose a sort order from the list."))
    f = filters or PoolCustomerFilters()
    qs = (
        Customer.objects.visible_to(actor)
        .filter(owner__isnull=True, pool__isnull=False, pool__is_active=True)
        .filter(pool_usable_q(actor, prefix="pool__"))
    )
    chosen_pool = pool_id if pool_id is not None else f.pool_id
    if chosen_pool is not None:
        qs = qs.filter(pool_id=chosen_pool)
    if f.q:
        from guanxi.customers.selectors.search import customer_search_q

        qs = qs.filter(customer_search_q(f.q))
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.stage:
        qs = qs.filter(lifecycle_stage=f.stage)
    qs = qs.filter(day_range_q("pool_entered_at", f.entered_from, f.entered_to))
    last_owner = (
        PoolEvent.objects.filter(customer=OuterRef("pk"), from_user__isnull=False)
        .order_by("-occurred_at", "-id")
        .annotate(
            owner_name=Coalesce(
                NullIf(F("from_user__display_name"), Value("")), F("from_user__username"), output_field=CharField()
            )
        )
        .values("owner_name")[:1]
    )
    my_loss = (
        PoolEvent.objects.filter(customer=OuterRef("pk"), from_user=actor.user.pk, action__in=LOSS_ACTIONS)
        .order_by("-occurred_at", "-id")
        .values("occurred_at")[:1]
    )
    return qs.select_related("pool", "team").annotate(
        previous_owner_name=Subquery(last_owner, output_field=CharField()), my_last_loss_at=Subquery(my_loss)
    )


def claimable_from(customer: Customer) -> dt.datetime | None:
    """When the actor's cool-down on a row of `pool_customers` ends, or None when they may claim it now."""
    lost_at = getattr(customer, "my_last_loss_at", None)
    pool = customer.pool
    if lost_at is None or pool is None or not pool.cooldown_days:
        return None
    until: dt.datetime = lost_at + dt.timedelta(days=pool.cooldown_days)
    return until if until > timezone.now() else None


def claim_cooldown_until(*, actor: Actor, customer: Customer) -> dt.datetime | None:
    """When the actor's cool-down on one pool customer ends, or None when it does not apply."""
    pool = customer.pool
    if pool is None or not pool.cooldown_days:
        return None
    lost_at = (
        PoolEvent.objects.filter(customer_id=customer.pk, from_user=actor.user.pk, action__in=LOSS_ACTIONS)
        .order_by("-occurred_at", "-id")
        .values_list("occurred_at", flat=True)
        .first()
    )
    if lost_at is None:
        return None
    until: dt.datetime = lost_at + dt.timedelta(days=pool.cooldown_days)
    return until if until > timezone.now() else None


# --- claim allowance ---------------------------------------------------------------------------------


def local_day_start(user: User, now: dt.datetime | None = None) -> dt.datetime:
    """Midnight of today in the user's time zone, as an aware datetime."""
    local = (now or timezone.now()).astimezone(user_time_zone(user))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def claims_today(user: User, now: dt.datetime | None = None) -> int:
    return PoolEvent.objects.filter(
        to_user=user.pk, action=PoolAction.CLAIMED, occurred_at__gte=local_day_start(user, now)
    ).count()


@dataclass(frozen=True)
class ClaimAllowance:
    """How many more customers the actor may claim from one pool now (None: no limit)."""

    pool: Pool
    owned: int
    claims_today: int

    @property
    def remaining(self) -> int | None:
        left: list[int] = []
        if self.pool.max_owned_per_rep is not None:
            left.append(self.pool.max_owned_per_rep - self.owned)
        if self.pool.max_claims_per_day is not None:
            left.append(self.pool.max_claims_per_day - self.claims_today)
        return max(0, min(left)) if left else None


def pool_claim_allowances(*, actor: Actor, pools: Iterable[Pool]) -> list[ClaimAllowance]:
    """The actor's remaining claims per pool, in two queries whatever the number of pools."""
    owned = Customer.objects.filter(owner=actor.user.pk).count()
    today = claims_today(actor.user)
    return [ClaimAllowance(pool=pool, owned=owned, claims_today=today) for pool in pools]


# --- a customer's pool history -----------------------------------------------------------------------


def customer_pool_history(*, actor: Actor, customer: Customer) -> QuerySet[PoolEvent]:
    """Every move of one customer the actor may see: claims, returns, assignments and handovers."""
    if not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists():
        raise NotFound(_("Customer not found."))
    return (
        PoolEvent.objects.filter(customer_id=customer.pk)
        .select_related("pool", "from_user", "to_user", "actor")
        .order_by("-occurred_at", "-id")
    )


# --- handovers ---------------------------------------------------------------------------------------


def handover_source_user(*, actor: Actor, from_user_id: int) -> User:
    """The user whose customers the actor wants to hand over: administrators may pick anyone, managers the
    users of the teams they look after."""
    require_permission(actor, HANDOVER_RUN)
    user = User.objects.filter(pk=from_user_id).first()
    if user is None:
        raise ValidationFailed.for_field("from_user_id", _("Choose a user."))
    scope = data_scope(actor, "customers")
    if scope == DataScope.ALL:
        return user
    if scope == DataScope.TEAM and user.team_id is not None and user.team_id in team_subtree_ids(actor.user):
        return user
    raise PermissionDenied(_("You may hand over only the customers of users in the teams you manage."))


def handover_candidates(*, actor: Actor) -> QuerySet[User]:
    """Users whose customers the actor may hand over."""
    require_permission(actor, HANDOVER_RUN)
    qs = User.objects.select_related("team").order_by("username")
    scope = data_scope(actor, "customers")
    if scope == DataScope.ALL:
        return qs
    if scope == DataScope.TEAM:
        return qs.filter(team_id__in=team_subtree_ids(actor.user))
    return qs.none()


@dataclass(frozen=True)
class HandoverCounts:
    customers: int
    open_tasks: int
    leads: int


def handover_preview(*, actor: Actor, from_user_id: int) -> HandoverCounts:
    """What a handover of this user would move, shown before the actor confirms."""
    user = handover_source_user(actor=actor, from_user_id=from_user_id)
    return HandoverCounts(
        customers=Customer.objects.filter(owner=user.pk).count(),
        open_tasks=Task.objects.filter(assignee=user.pk, status=TaskStatus.OPEN).count(),
        leads=Lead.objects.filter(owner=user.pk).exclude(status=LeadStatus.CONVERTED).count(),
    )


def handover_list(*, actor: Actor) -> QuerySet[Handover]:
    """Past handovers: all of them for administrators, those touching their teams for managers."""
    require_permission(actor, HANDOVER_RUN)
    qs = Handover.objects.select_related("from_user", "to_user", "to_pool", "actor").order_by("-created_at", "-id")
    scope = data_scope(actor, "customers")
    if scope == DataScope.ALL:
        return qs
    mine = Q(actor=actor.user.pk)
    if scope == DataScope.TEAM:
        teams = team_subtree_ids(actor.user)
        mine |= Q(from_user__team_id__in=teams) | Q(to_user__team_id__in=teams)
    return qs.filter(mine)

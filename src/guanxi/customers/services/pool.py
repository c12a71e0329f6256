"""Writes of the public pool (公海): pool settings, claims, returns by hand and in bulk, the periodic automatic
return, and the history of every move (PoolEvent)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from guanxi.customers.events import CustomerOwnerChanged, CustomerUpdated, PoolClaimed, PoolReturned
from guanxi.customers.models import Customer, Pool, PoolEvent
from guanxi.customers.models.choices import PoolAction
from guanxi.customers.permissions import CUSTOMERS_ASSIGN, POOL_CLAIM, POOL_MANAGE, POOL_RETURN
from guanxi.customers.selectors.pool import (
    LOSS_ACTIONS,
    claims_today,
    pool_assignment,
    pool_for_team,
    pool_is_usable_by,
)
from guanxi.customers.services.change_tracking import customer_snapshot
from guanxi.customers.services.customers import publish_customer_changes
from guanxi.platform.audit.history import attribute_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from guanxi.platform.core.text import clean_text
from guanxi.platform.core.versioning import ensure_version
from guanxi.platform.events.registry import publish
from guanxi.platform.identity.models import Team, User
from guanxi.platform.identity.preferences import user_time_zone
from guanxi.platform.identity.scoping import has_permission, require_permission
from guanxi.platform.notifications.services import notification_send

MAX_REASON = 300
BATCH_SIZE = 1000
BULK_LIMIT = 1000


class AlreadyClaimed(Conflict):
    code = "already_claimed"


class PoolClaimLimitReached(Conflict):
    code = "pool_claim_limit"


class PoolCooldown(Conflict):
    code = "pool_cooldown"


class NoPoolAvailable(Conflict):
    code = "no_pool"


def publish_returned(
    *, customer_id: int, pool_id: int, from_owner_id: int | None, reason: str, automatic: bool, actor: Actor | None
) -> None:
    """The events of one customer going back to the pool: `pool.returned`, and the owner and pool changes."""
    actor_id = actor.id if actor is not None else None
    publish(
        PoolReturned(
            record_id=customer_id, pool_id=pool_id, from_owner_id=from_owner_id, reason=reason, automatic=automatic
        ),
        actor_id=actor_id,
    )
    changes = {"owner_id": [from_owner_id, None], "pool_id": [None, pool_id]}
    publish(CustomerUpdated(record_id=customer_id, changes=changes), actor_id=actor_id)
    publish(
        CustomerOwnerChanged(record_id=customer_id, from_owner_id=from_owner_id, to_owner_id=None, team_id=None),
        actor_id=actor_id,
    )


# --- history -----------------------------------------------------------------------------------------


def record_pool_event(
    *,
    customer: Customer,
    pool: Pool | None,
    action: str,
    from_user_id: int | None,
    to_user_id: int | None,
    actor: Actor | None,
    reason: str,
) -> PoolEvent:
    """One line of a customer's ownership history; `actor` is None for the system (the periodic worker)."""
    return PoolEvent.objects.create(
        customer=customer,
        pool=pool,
        action=action,
        from_user_id=from_user_id,
        to_user_id=to_user_id,
        actor=actor.user if actor is not None else None,
        reason=(reason or "")[:MAX_REASON],
    )


def _history_for(customer_ids: Sequence[int], *, actor: Actor | None, reason: str) -> None:
    """Change-history rows for customers moved by set-based updates (which bypass simple-history)."""
    for start in range(0, len(customer_ids), BATCH_SIZE):
        chunk = list(Customer.objects.filter(pk__in=customer_ids[start : start + BATCH_SIZE]))
        Customer.history.bulk_history_create(  # type: ignore[attr-defined]
            chunk, update=True, default_user=actor.user if actor else None, default_change_reason=reason[:100]
        )


def _clean_reason(value: Any, *, required: bool = True) -> str:
    reason = clean_text(value)
    if required and not reason:
        raise ValidationFailed.for_field("reason", _("Say why."))
    if len(reason) > MAX_REASON:
        raise ValidationFailed.for_field("reason", _("Keep it under %(n)s characters.") % {"n": MAX_REASON})
    return reason


# --- pool settings -----------------------------------------------------------------------------------

POOL_FIELDS = frozenset(
    {
        "name", "description", "team_id", "max_owned_per_rep", "max_claims_per_day", "cooldown_days",
        "return_after_days_without_follow_up", "return_after_days_without_deal", "is_default", "is_active",
    }
)  # fmt: skip
_OPTIONAL_COUNTS = {
    "max_owned_per_rep": 100_000,
    "max_claims_per_day": 10_000,
    "return_after_days_without_follow_up": 3650,
    "return_after_days_without_deal": 3650,
}


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "on", "yes")


def _clean_pool_fields(data: Mapping[str, Any], instance: Pool | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {name: [_("Unknown field.")] for name in sorted(set(data) - POOL_FIELDS)}
    cleaned: dict[str, Any] = {}
    if "name" in data or instance is None:
        name = clean_text(data.get("name"))
        if not name:
            errors["name"] = [_("Enter a name.")]
        elif len(name) > 100:
            errors["name"] = [_("Keep it under %(n)s characters.") % {"n": 100}]
        else:
            clash = Pool.objects.filter(name=name)
            if instance is not None:
                clash = clash.exclude(pk=instance.pk)
            if clash.exists():
                errors["name"] = [_("Another pool has this name.")]
            cleaned["name"] = name
    if "description" in data:
        description = clean_text(data["description"])
        if len(description) > 300:
            errors["description"] = [_("Keep it under %(n)s characters.") % {"n": 300}]
        cleaned["description"] = description
    if "team_id" in data:
        raw = data["team_id"]
        if raw in (None, ""):
            cleaned["team_id"] = None
        else:
            try:
                team_id = int(raw)
            except (TypeError, ValueError):
                team_id = 0
            if not Team.objects.filter(pk=team_id).exists():
                errors["team_id"] = [_("Choose a team.")]
            cleaned["team_id"] = team_id
    for field, ceiling in _OPTIONAL_COUNTS.items():
        if field not in data:
            continue
        raw = data[field]
        if raw in (None, ""):
            cleaned[field] = None
            continue
        try:
            number = int(raw)
        except (TypeError, ValueError):
            errors[field] = [_("Enter a whole number, or leave it empty for no limit.")]
            continue
        if not 1 <= number <= ceiling:
            errors[field] = [_("Enter a number from 1 to %(n)s, or leave it empty.") % {"n": ceiling}]
            continue
        cleaned[field] = number
    if "cooldown_days" in data:
        raw = data["cooldown_days"]
        try:
            days = int(raw) if raw not in (None, "") else 0
        except (TypeError, ValueError):
            days = -1
        if not 0 <= days <= 365:
            errors["cooldown_days"] = [_("Enter a number of days from 0 to 365.")]
        cleaned["cooldown_days"] = days
    for flag in ("is_default", "is_active"):
        if flag in data:
            cleaned[flag] = _as_bool(data[flag])
    is_default = cleaned.get("is_default", instance.is_default if instance else False)
    is_active = cleaned.get("is_active", instance.is_active if instance else True)
    if is_default and not is_active:
        errors["is_active"] = [_("The default pool must stay active.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


@transaction.atomic
def pool_save(
    *, actor: Actor, data: Mapping[str, Any], pool: Pool | None = None, expected_version: int | None = None
) -> Pool:
    """Create a pool (`pool` None) or change the given fields of one. Making a pool the default takes the
    flag from the previous default: there is only ever one."""
    require_permission(actor, POOL_MANAGE)
    locked: Pool
    if pool is None:
        locked = Pool()
    else:
        found = Pool.objects.select_for_update().filter(pk=pool.pk).first()
        if found is None:
            raise NotFound(_("Pool not found."))
        ensure_version(found, expected_version)
        locked = found
        locked.bump_version()
    cleaned = _clean_pool_fields(data, None if pool is None else locked)
    for field, value in cleaned.items():
        setattr(locked, field, value)
    if locked.is_default:
        # Saved one by one (there is at most one), so the previous default's history shows the move too.
        for previous in Pool.objects.select_for_update().filter(is_default=True).exclude(pk=locked.pk):
            previous.is_default = False
            previous.bump_version()
            attribute_history(previous, actor)
            previous.save()
    attribute_history(locked, actor)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError:
        raise ValidationFailed.for_field("name", _("Another pool has this name.")) from None
    return locked


# --- claim -------------------------------------------------------------------------------------------


def _local_text(moment: dt.datetime, user: User) -> str:
    return date_format(moment.astimezone(user_time_zone(user)), "Y-m-d H:i")


def _check_claim_rules(actor: Actor, customer: Customer, pool: Pool, now: dt.datetime) -> None:
    user = actor.user
    if pool.max_owned_per_rep is not None:
        owned = Customer.objects.filter(owner=user.pk).count()
        if owned >= pool.max_owned_per_rep:
            raise PoolClaimLimitReached(
                _(
                    "You already own %(owned)s customers and the pool “%(pool)s” allows at most %(limit)s per rep. "
                    "Return or hand over some customers before claiming more."
                )
                % {"owned": owned, "pool": pool.name, "limit": pool.max_owned_per_rep}
            )
    if pool.max_claims_per_day is not None:
        today = claims_today(user, now)
        if today >= pool.max_claims_per_day:
            raise PoolClaimLimitReached(
                _(
                    "You have claimed %(count)s customers today and the pool “%(pool)s” allows %(limit)s a day. "
                    "Try again tomorrow."
                )
                % {"count": today, "pool": pool.name, "limit": pool.max_claims_per_day}
            )
    if pool.cooldown_days:
        lost_at = (
            PoolEvent.objects.filter(customer_id=customer.pk, from_user=user.pk, action__in=LOSS_ACTIONS)
            .order_by("-occurred_at", "-id")
            .values_list("occurred_at", flat=True)
            .first()
        )
        if lost_at is not None and lost_at + dt.timedelta(days=pool.cooldown_days) > now:
            until = lost_at + dt.timedelta(days=pool.cooldown_days)
            raise PoolCooldown(
                _("You gave up this customer on %(lost)s; you may claim it again from %(until)s.")
                % {"lost": _local_text(lost_at, user), "until": _local_text(until, user)}
            )


def _missing_claim_error(actor: Actor, customer_id: int) -> Conflict | NotFound:
    """The customer is not visible: a rep who saw it in the pool a moment ago learns it was claimed (409);
    anyone else gets 404, so no one learns about customers they could never see."""
    last = (
        PoolEvent.objects.filter(customer_id=customer_id)
        .select_related("pool", "pool__team")
        .order_by("-occurred_at", "-id")
        .first()
    )
    if (
        last is not None
        and last.action == PoolAction.CLAIMED
        and last.pool is not None
        and pool_is_usable_by(actor, last.pool)
    ):
        return AlreadyClaimed(_("Someone else has just claimed this customer."))
    return NotFound(_("Customer not found."))


@transaction.atomic
def customer_claim_from_pool(*, actor: Actor, customer_id: int) -> Customer:
    """Take an unowned customer from the pool. Of two simultaneous claims exactly one wins: the owner is
    set by a conditional UPDATE (only while the customer has no owner); the other gets AlreadyClaimed."""
    require_permission(actor, POOL_CLAIM)
    now = timezone.now()
    user = actor.user
    # Serialise this rep's own claims (two tabs) so the limits cannot be passed by racing.
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    customer = Customer.objects.visible_to(actor).select_related("pool", "pool__team").filter(pk=customer_id).first()
    if customer is None:
        raise _missing_claim_error(actor, customer_id)
    if customer.owner_id is not None:
        if customer.owner_id == user.pk:
            raise Conflict(_("You already own this customer."))
        raise AlreadyClaimed(_("Someone else has just claimed this customer."))
    pool = customer.pool
    if pool is None:
        raise Conflict(_("This customer is not in the public pool."))
    if not pool.is_active:
        raise Conflict(_("The pool “%(pool)s” is closed; no one may claim from it.") % {"pool": pool.name})
    if not pool_is_usable_by(actor, pool):
        raise PermissionDenied(
            _("The pool “%(pool)s” belongs to the team %(team)s; only its members may claim from it.")
            % {"pool": pool.name, "team": pool.team}
        )
    _check_claim_rules(actor, customer, pool, now)
    claimed = Customer.objects.filter(pk=customer.pk, owner__isnull=True, pool_id=pool.pk).update(
        owner=user.pk,
        team=user.team_id,
        owner_since=now,
        pool=None,
        pool_entered_at=None,
        version=F("version") + 1,
        updated_at=now,
    )
    if claimed != 1:
        raise AlreadyClaimed(_("Someone else has just claimed this customer."))
    record_pool_event(
        customer=customer, pool=pool, action=PoolAction.CLAIMED, from_user_id=None, to_user_id=user.pk,
        actor=actor, reason="",
    )  # fmt: skip
    before = customer_snapshot(customer)
    customer.refresh_from_db()
    Customer.history.bulk_history_create(  # type: ignore[attr-defined]
        [customer], update=True, default_user=user, default_change_reason=_("Claimed from the pool")
    )
    publish(PoolClaimed(record_id=customer.pk, pool_id=pool.pk, owner_id=user.pk), actor_id=actor.id)
    publish_customer_changes(actor=actor, before=before, customer=customer)
    return customer


# --- return by hand ----------------------------------------------------------------------------------


def _no_pool_error() -> NoPoolAvailable:
    return NoPoolAvailable(
        _("There is no public pool for this customer's team and no default pool. Ask an administrator to create one.")
    )


@transaction.atomic
def customer_return_to_pool(*, actor: Actor, customer: Customer, reason: str) -> Customer:
    """The owner (or someone who may assign customers) gives a customer back, saying why. It goes to the
    pool of its team (the nearest pool above it) or else the default pool."""
    reason = _clean_reason(reason)
    locked = Customer.objects.visible_to(actor).select_for_update().filter(pk=customer.pk).first()
    if locked is None:
        raise NotFound(_("Customer not found."))
    if locked.owner_id is None:
        raise Conflict(
            _("This customer is already in the pool.") if locked.pool_id else _("This customer has no owner.")
        )
    if locked.owner_id == actor.user.pk:
        if not (has_permission(actor, POOL_RETURN) or has_permission(actor, CUSTOMERS_ASSIGN)):
            raise PermissionDenied()
    elif not has_permission(actor, CUSTOMERS_ASSIGN):
        raise PermissionDenied(_("Only the owner or a manager may return this customer to the pool."))
    pool = pool_for_team(locked.team_id)
    if pool is None:
        raise _no_pool_error()
    previous_owner = locked.owner_id
    before = customer_snapshot(locked)
    locked.owner = None
    locked.owner_since = None
    locked.pool = pool
    locked.pool_entered_at = timezone.now()
    locked.bump_version()
    attribute_history(locked, actor, reason[:100])
    locked.save()
    record_pool_event(
        customer=locked, pool=pool, action=PoolAction.RETURNED, from_user_id=previous_owner, to_user_id=None,
        actor=actor, reason=reason,
    )  # fmt: skip
    publish(
        PoolReturned(
            record_id=locked.pk, pool_id=pool.pk, from_owner_id=previous_owner, reason=reason, automatic=False
        ),
        actor_id=actor.id,
    )
    publish_customer_changes(actor=actor, before=before, customer=locked)
    return locked


@transaction.atomic
def customers_return_to_pool_bulk(*, actor: Actor, customer_ids: Sequence[int], reason: str) -> int:
    """Bulk action of the customer list: return the visible, owned customers among `customer_ids` (the
    actor's own ones only, unless the actor may assign customers). Nothing moves if one has no pool."""
    reason = _clean_reason(reason)
    may_assign = has_permission(actor, CUSTOMERS_ASSIGN)
    if not may_assign:
        require_permission(actor, POOL_RETURN)
    qs = Customer.objects.visible_to(actor).filter(pk__in=list(customer_ids)[:BULK_LIMIT], owner__isnull=False)
    if not may_assign:
        qs = qs.filter(owner=actor.user.pk)
    rows = list(qs.select_for_update().values_list("pk", "owner_id", "team_id"))
    if not rows:
        return 0
    assignment = pool_assignment()
    groups: dict[int, list[tuple[int, int]]] = defaultdict(list)
    pools: dict[int, Pool] = {}
    for pk, owner_id, team_id in rows:
        pool = assignment.pool_for(team_id)
        if pool is None:
            raise _no_pool_error()
        pools[pool.pk] = pool
        groups[pool.pk].append((pk, owner_id))
    now = timezone.now()
    for pool_id, members in groups.items():
        Customer.objects.filter(pk__in=[pk for pk, _owner in members]).update(
            owner=None, owner_since=None, pool=pool_id, pool_entered_at=now, version=F("version") + 1, updated_at=now
        )
        PoolEvent.objects.bulk_create(
            [
                PoolEvent(
                    customer_id=pk,
                    pool=pools[pool_id],
                    action=PoolAction.RETURNED,
                    from_user_id=owner_id,
                    actor=actor.user,
                    reason=reason,
                )
                for pk, owner_id in members
            ],
            batch_size=BATCH_SIZE,
        )
        for pk, owner_id in members:
            publish_returned(
                customer_id=pk, pool_id=pool_id, from_owner_id=owner_id, reason=reason, automatic=False, actor=actor
            )
    _history_for([pk for pk, _owner, _team in rows], actor=actor, reason=reason)
    return len(rows)


# --- automatic return (periodic) ---------------------------------------------------------------------


def _auto_return_rule(
    pool: Pool, team_q: Q, *, field: str, days: int, reason: str, now: dt.datetime, moved_by_owner: dict[int, int]
) -> int:
    """Move, in batches, the owned customers under `team_q` owned for more than `days` days whose `field`
    (last contact or last deal) is older than that or empty. Set-based: one SELECT, one UPDATE and one
    INSERT per batch of customers."""
    cutoff = now - dt.timedelta(days=days)
    candidates = (
        Customer.objects.filter(team_q, owner__isnull=False)
        .annotate(owned_from=Coalesce("owner_since", "created_at"))
        .filter(owned_from__lt=cutoff)
        .filter(Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": cutoff}))
        .order_by("pk")
    )
    moved = 0
    while True:
        with transaction.atomic():
            batch = list(candidates.select_for_update(skip_locked=True).values_list("pk", "owner_id")[:BATCH_SIZE])
            if not batch:
                break
            ids = [pk for pk, _owner in batch]
            updated = Customer.objects.filter(pk__in=ids, owner__isnull=False).update(
                owner=None,
                owner_since=None,
                pool=pool.pk,
                pool_entered_at=now,
                version=F("version") + 1,
                updated_at=timezone.now(),
            )
            PoolEvent.objects.bulk_create(
                [
                    PoolEvent(
                        customer_id=pk, pool=pool, action=PoolAction.AUTO_RETURNED, from_user_id=owner_id, reason=reason
                    )
                    for pk, owner_id in batch
                ],
                batch_size=BATCH_SIZE,
            )
            for pk, owner_id in batch:
                publish_returned(
                    customer_id=pk, pool_id=pool.pk, from_owner_id=owner_id, reason=reason, automatic=True, actor=None
                )
        for _pk, owner_id in batch:
            moved_by_owner[owner_id] = moved_by_owner.get(owner_id, 0) + 1
        moved += updated
        if len(batch) < BATCH_SIZE or updated == 0:
            break
    return moved


def pool_auto_return(now: dt.datetime | None = None) -> int:
    """Return to their pool the customers whose owner has not followed up for N days or closed a deal for M
    days (N and M set per pool). Run by the periodic worker; idempotent: a second run at the same time finds
    nothing left to move. Returns the number of customers moved."""
    now = now or timezone.now()
    assignment = pool_assignment()
    pools = {pool.pk: pool for pool in assignment.by_team.values()}
    if assignment.fallback is not None:
        pools[assignment.fallback.pk] = assignment.fallback
    moved_by_owner: dict[int, int] = {}
    total = 0
    for pool in pools.values():
        n_days, m_days = pool.return_after_days_without_follow_up, pool.return_after_days_without_deal
        if n_days is None and m_days is None:
            continue
        team_ids = [team_id for team_id, target in assignment.by_team.items() if target.pk == pool.pk]
        team_q = Q(team_id__in=team_ids)
        if assignment.fallback is not None and pool.pk == assignment.fallback.pk:
            team_q |= Q(team__isnull=True) | ~Q(team_id__in=list(assignment.by_team))
        if n_days is not None:
            total += _auto_return_rule(
                pool, team_q, field="last_contact_at", days=n_days, now=now, moved_by_owner=moved_by_owner,
                reason=_("No follow-up for %(n)s days") % {"n": n_days},
            )  # fmt: skip
        if m_days is not None:
            total += _auto_return_rule(
                pool, team_q, field="last_deal_at", days=m_days, now=now, moved_by_owner=moved_by_owner,
                reason=_("No deal for %(n)s days") % {"n": m_days},
            )  # fmt: skip
    for owner_id, count in moved_by_owner.items():
        notification_send(
            recipient_id=owner_id,
            kind="customers.pool_auto_return",
            title=_("%(n)s of your customers went back to the public pool") % {"n": count},
            body=_("They had no follow-up or no deal for longer than their pool allows."),
        )
    return total

"""Handover (客户交接): move everything a user owns — customers, open tasks, open leads — to another user or to
a pool in one action, with history, an audit row (Handover) and notifications. The customer never leaves
with the rep."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Model
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers.events import CustomerOwnerChanged, CustomerUpdated
from guanxi.customers.models import Customer, Handover, Lead, Pool, PoolEvent, Task
from guanxi.customers.models.choices import LeadStatus, PoolAction, TaskStatus
from guanxi.customers.selectors.pool import HandoverCounts, handover_preview, handover_source_user
from guanxi.customers.services.pool import BATCH_SIZE, MAX_REASON
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.text import clean_text
from guanxi.platform.events.registry import publish
from guanxi.platform.identity.models import User
from guanxi.platform.notifications.services import notification_send

NOTIFICATION_KIND = "customers.handover"


def _as_id(value: Any, field: str, errors: dict[str, list[str]], message: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        errors[field] = [message]
        return None


def _history_rows(model: type[Model], ids: Sequence[int], *, actor: Actor, reason: str) -> None:
    """Change-history rows for records moved by set-based updates (which bypass simple-history)."""
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = list(model._default_manager.filter(pk__in=ids[start : start + BATCH_SIZE]))
        model.history.bulk_history_create(  # type: ignore[attr-defined]
            chunk, update=True, default_user=actor.user, default_change_reason=reason[:100]
        )


def _url(name: str, query: str = "") -> str:
    try:
        return reverse(name) + query
    except NoReverseMatch:
        return ""


@dataclass(frozen=True)
class HandoverPlan:
    """A validated handover: who gives, who (or which pool) receives, why, and what would move."""

    from_user: User
    to_user: User | None
    to_pool: Pool | None
    reason: str
    counts: HandoverCounts

    @property
    def target_label(self) -> str:
        if self.to_user is not None:
            return str(self.to_user)
        return _("the pool “%(pool)s”") % {"pool": self.to_pool}


def handover_check(
    *, actor: Actor, from_user_id: Any, to_user_id: Any = None, to_pool_id: Any = None, reason: Any
) -> HandoverPlan:
    """Validate a handover and count what it would move, writing nothing (the confirmation step)."""
    errors: dict[str, list[str]] = {}
    source_id = _as_id(from_user_id, "from_user_id", errors, _("Choose a user."))
    if source_id is None:
        errors.setdefault("from_user_id", [_("Choose a user.")])
        raise ValidationFailed(fields=errors)
    from_user = handover_source_user(actor=actor, from_user_id=source_id)
    target_user_id = _as_id(to_user_id, "to_user_id", errors, _("Choose an active user."))
    target_pool_id = _as_id(to_pool_id, "to_pool_id", errors, _("Choose an active pool."))
    to_user: User | None = None
    to_pool: Pool | None = None
    if not errors:
        if (target_user_id is None) == (target_pool_id is None):
            errors["to_user_id"] = [_("Choose either a user or a pool to hand over to.")]
        elif target_user_id is not None:
            to_user = User.objects.filter(pk=target_user_id).first()
            if to_user is None or not to_user.is_active:
                errors["to_user_id"] = [_("Choose an active user.")]
            elif to_user.pk == from_user.pk:
                errors["to_user_id"] = [_("Choose someone other than the user handing over.")]
        elif target_pool_id is not None:
            to_pool = Pool.objects.filter(pk=target_pool_id, is_active=True).first()
            if to_pool is None:
                errors["to_pool_id"] = [_("Choose an active pool.")]
    cleaned_reason = clean_text(reason)
    if not cleaned_reason:
        errors["reason"] = [_("Say why.")]
    elif len(cleaned_reason) > MAX_REASON:
        errors["reason"] = [_("Keep it under %(n)s characters.") % {"n": MAX_REASON}]
    if errors:
        raise ValidationFailed(fields=errors)
    counts = handover_preview(actor=actor, from_user_id=from_user.pk)
    return HandoverPlan(from_user=from_user, to_user=to_user, to_pool=to_pool, reason=cleaned_reason, counts=counts)


def _publish_customer_moves(
    *, actor: Actor, customer_ids: Sequence[int], from_user: Any, to_user: Any, to_pool: Any, reason: str
) -> None:
    """One set of ownership events per customer handed over (to a user, or into a pool)."""
    from guanxi.customers.services.pool import publish_returned

    for pk in customer_ids:
        if to_pool is not None:
            publish_returned(
                customer_id=pk, pool_id=to_pool.pk, from_owner_id=from_user.pk, reason=reason, automatic=False,
                actor=actor,
            )  # fmt: skip
            continue
        changes = {"owner_id": [from_user.pk, to_user.pk]}
        if from_user.team_id != to_user.team_id:
            changes["team_id"] = [from_user.team_id, to_user.team_id]
        publish(CustomerUpdated(record_id=pk, changes=changes), actor_id=actor.id)
        publish(
            CustomerOwnerChanged(
                record_id=pk, from_owner_id=from_user.pk, to_owner_id=to_user.pk, team_id=to_user.team_id
            ),
            actor_id=actor.id,
        )


@transaction.atomic
def handover_run(
    *,
    actor: Actor,
    from_user_id: Any,
    to_user_id: Any = None,
    to_pool_id: Any = None,
    reason: Any,
) -> Handover:
    """Hand over every customer, open task and unconverted lead of `from_user` to `to_user`, or put the
    customers into `to_pool` (its tasks and leads then go to the actor, who shares them out)."""
    plan = handover_check(
        actor=actor, from_user_id=from_user_id, to_user_id=to_user_id, to_pool_id=to_pool_id, reason=reason
    )
    from_user, to_user, to_pool, cleaned_reason = plan.from_user, plan.to_user, plan.to_pool, plan.reason

    now = timezone.now()
    history_reason = _("Handover: %(reason)s") % {"reason": cleaned_reason}
    # Whoever receives the work: the new owner, or the actor when the customers go to the pool.
    receiver = to_user if to_user is not None else actor.user

    customer_ids = list(
        Customer.objects.select_for_update().filter(owner=from_user.pk).order_by("pk").values_list("pk", flat=True)
    )
    if to_user is not None:
        Customer.objects.filter(pk__in=customer_ids).update(
            owner=to_user.pk, team=to_user.team_id, owner_since=now, version=F("version") + 1, updated_at=now
        )
    else:
        Customer.objects.filter(pk__in=customer_ids).update(
            owner=None, owner_since=None, pool=to_pool, pool_entered_at=now, version=F("version") + 1, updated_at=now
        )
    PoolEvent.objects.bulk_create(
        [
            PoolEvent(
                customer_id=pk,
                pool=to_pool,
                action=PoolAction.HANDED_OVER,
                from_user_id=from_user.pk,
                to_user_id=to_user.pk if to_user else None,
                actor=actor.user,
                reason=cleaned_reason,
            )
            for pk in customer_ids
        ],
        batch_size=BATCH_SIZE,
    )
    _history_rows(Customer, customer_ids, actor=actor, reason=history_reason)
    _publish_customer_moves(
        actor=actor,
        customer_ids=customer_ids,
        from_user=from_user,
        to_user=to_user,
        to_pool=to_pool,
        reason=cleaned_reason,
    )

    task_ids = list(
        Task.objects.select_for_update()
        .filter(assignee=from_user.pk, status=TaskStatus.OPEN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Task.objects.filter(pk__in=task_ids).update(assignee=receiver.pk, version=F("version") + 1, updated_at=now)
    _history_rows(Task, task_ids, actor=actor, reason=history_reason)

    lead_ids = list(
        Lead.objects.select_for_update()
        .filter(owner=from_user.pk)
        .exclude(status=LeadStatus.CONVERTED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Lead.objects.filter(pk__in=lead_ids).update(
        owner=receiver.pk, team=receiver.team_id, version=F("version") + 1, updated_at=now
    )
    _history_rows(Lead, lead_ids, actor=actor, reason=history_reason)

    handover = Handover.objects.create(
        from_user=from_user,
        to_user=to_user,
        to_pool=to_pool,
        customers_moved=len(customer_ids),
        tasks_moved=len(task_ids),
        leads_moved=len(lead_ids),
        reason=cleaned_reason,
        actor=actor.user,
    )
    counts = {"customers": len(customer_ids), "tasks": len(task_ids), "leads": len(lead_ids)}
    target = plan.target_label
    notification_send(
        recipient_id=from_user.pk,
        kind=NOTIFICATION_KIND,
        title=_("Your customers were handed over to %(target)s") % {"target": target},
        body=_(
            "%(customers)s customers, %(tasks)s open tasks and %(leads)s leads were handed over by %(actor)s. "
            "Reason: %(reason)s"
        )
        % {**counts, "actor": actor.user, "reason": cleaned_reason},
    )
    if to_user is not None:
        notification_send(
            recipient_id=to_user.pk,
            kind=NOTIFICATION_KIND,
            title=_("You received %(customers)s customers from %(user)s") % {**counts, "user": from_user},
            body=_(
                "%(customers)s customers, %(tasks)s open tasks and %(leads)s leads are now yours. Reason: %(reason)s"
            )
            % {**counts, "reason": cleaned_reason},
            url=_url("customers:customer_list", "?owner=me"),
        )
    return handover

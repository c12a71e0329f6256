"""Logging, editing and deleting interactions (跟进记录) on a customer's or a lead's timeline.

Logging keeps the customer's `last_contact_at` current, moves a new lead to "contacted", and may plan the
next follow-up as a task in the same transaction; editing or deleting recomputes `last_contact_at` from
the remaining interactions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers.events import InteractionLogged
from guanxi.customers.models import Customer, Interaction, Lead
from guanxi.customers.models.choices import Channel, Direction, Outcome, TaskKind
from guanxi.customers.permissions import ACTIVITIES_ADD, CUSTOMERS_CHANGE, LEADS_CHANGE
from guanxi.customers.services.common import FieldCleaner, clean_choice, clean_line, clean_long_text
from guanxi.customers.services.customers import customer_record_contact
from guanxi.customers.services.leads import lead_mark_contacted
from guanxi.customers.services.tasks import TITLE_MAX, clean_datetime, task_insert
from guanxi.platform.audit.history import attribute_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.platform.core.text import clean_text
from guanxi.platform.core.versioning import ensure_version
from guanxi.platform.events.registry import publish
from guanxi.platform.identity.scoping import has_permission, require_permission

SUBJECT_MAX = 200
BODY_MAX = 10000
MAX_DURATION_SECONDS = 24 * 3600
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
EDITABLE_FIELDS = frozenset({"channel", "direction", "occurred_at", "subject", "body", "outcome", "duration_seconds"})


def _clean_occurred_at(value: Any) -> dt.datetime:
    when = clean_datetime(value, "occurred_at") or timezone.now()
    if when > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationFailed.for_field("occurred_at", _("An interaction cannot be in the future."))
    return when


def _clean_duration(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed.for_field("duration_seconds", _("Enter the duration in whole seconds.")) from None
    if not 0 <= seconds <= MAX_DURATION_SECONDS:
        raise ValidationFailed.for_field("duration_seconds", _("Enter a duration between 0 seconds and 24 hours."))
    return seconds


def _clean_fields(data: Mapping[str, Any], *, creating: bool) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Clean every present field; return the cleaned values and every error found."""
    allowed = EDITABLE_FIELDS | ({"next_follow_up"} if creating else set())
    fields = FieldCleaner(data, allowed=allowed)
    run, cleaned, errors = fields.run, fields.cleaned, fields.errors

    run("channel", lambda v: clean_choice(v, Channel, "channel", allow_blank=False))
    run("direction", lambda v: clean_choice(v, Direction, "direction", allow_blank=False))
    run("occurred_at", _clean_occurred_at)
    run("subject", lambda v: clean_line(v, "subject", SUBJECT_MAX))
    run("body", lambda v: clean_long_text(v, "body", BODY_MAX))
    run("outcome", lambda v: clean_choice(v, Outcome, "outcome"))
    run("duration_seconds", _clean_duration)
    return cleaned, errors


def _clean_next_follow_up(value: Any, errors: dict[str, list[str]]) -> dict[str, Any] | None:
    """{"due_at": ..., "title": ...} -> cleaned values, or None when no follow-up is planned."""
    if value in (None, "", {}):
        return None
    if not isinstance(value, Mapping):
        errors["next_follow_up"] = [_("Give the follow-up a due time and a title.")]
        return None
    unknown = set(value) - {"due_at", "title"}
    for name in sorted(unknown):
        errors[f"next_follow_up.{name}"] = [_("Unknown field.")]
    due_at = None
    try:
        due_at = clean_datetime(value.get("due_at"), "next_follow_up.due_at")
    except ValidationFailed as exc:
        errors.update(exc.fields)
    else:
        if due_at is None:
            errors["next_follow_up.due_at"] = [_("Choose when to follow up.")]
        elif due_at <= timezone.now():
            errors["next_follow_up.due_at"] = [_("Choose a time in the future.")]
    title = clean_text(value.get("title"))
    if len(title) > TITLE_MAX:
        errors["next_follow_up.title"] = [_("Keep it under %(n)s characters.") % {"n": TITLE_MAX}]
    return {"due_at": due_at, "title": title}


def _ensure_visible(actor: Actor, customer: Customer | None, lead: Lead | None) -> None:
    if customer is not None and not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists():
        raise NotFound(_("Customer not found."))
    if lead is not None and not Lead.objects.visible_to(actor).filter(pk=lead.pk).exists():
        raise NotFound(_("Lead not found."))


def _follow_up_assignee(actor: Actor, customer: Customer | None, lead: Lead | None) -> Any:
    """The owner of the customer or lead plans the follow-up; the actor when there is no active owner."""
    subject = customer or lead
    owner = subject.owner if subject is not None else None
    if owner is not None and owner.is_active:
        return owner
    return actor.user


@transaction.atomic
def interaction_log(
    *, actor: Actor, customer: Customer | None = None, lead: Lead | None = None, data: Mapping[str, Any]
) -> Interaction:
    """Record one contact with a customer or a lead; optionally plan the next follow-up as a task.

    A lead still "new" becomes "contacted".
    """
    require_permission(actor, ACTIVITIES_ADD)
    if (customer is None) == (lead is None):
        raise ValidationFailed.for_field("customer_id", _("Give exactly one of customer_id and lead_id."))
    _ensure_visible(actor, customer, lead)
    data = dict(data)
    data.setdefault("channel", "")
    cleaned, errors = _clean_fields(data, creating=True)
    follow_up = _clean_next_follow_up(data.get("next_follow_up"), errors)
    if errors:
        raise ValidationFailed(fields=errors)
    cleaned.pop("next_follow_up", None)
    cleaned.setdefault("occurred_at", timezone.now())
    interaction = Interaction(customer=customer, lead=lead, user=actor.user, **cleaned)
    attribute_history(interaction, actor)
    interaction.save()
    publish(
        InteractionLogged(
            record_id=interaction.pk,
            customer_id=interaction.customer_id,
            lead_id=interaction.lead_id,
            channel=interaction.channel,
            direction=interaction.direction,
            user_id=interaction.user_id,
            occurred_at=interaction.occurred_at.isoformat(),
        ),
        actor_id=actor.id,
    )
    if customer is not None:
        customer_record_contact(customer_id=customer.pk, when=interaction.occurred_at)
    if lead is not None:
        lead_mark_contacted(actor=actor, lead=lead)
    if follow_up is not None:
        subject = customer or lead
        name = subject.name if subject is not None else ""
        task_insert(
            actor=actor,
            cleaned={
                "title": follow_up["title"] or (_("Follow up with %(name)s") % {"name": name})[:TITLE_MAX],
                "kind": TaskKind.FOLLOW_UP,
                "due_at": follow_up["due_at"],
                "assignee_id": _follow_up_assignee(actor, customer, lead),
                "customer": customer,
                "lead": lead,
            },
        )
    return interaction


def _lock_for_change(actor: Actor, interaction: Interaction) -> Interaction:
    """The interaction row, locked, if the actor may change it (its author, or an editor of the record)."""
    locked = (
        Interaction.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("customer", "lead", "user")
        .filter(pk=interaction.pk)
        .first()
    )
    if locked is None:
        raise NotFound(_("Interaction not found."))
    is_author = locked.user_id == actor.user.pk and has_permission(actor, ACTIVITIES_ADD)
    may_edit_record = has_permission(actor, CUSTOMERS_CHANGE if locked.customer_id else LEADS_CHANGE)
    if not (is_author or may_edit_record):
        raise PermissionDenied(_("Only the author or someone who may edit the record may change this interaction."))
    return locked


def customer_refresh_last_contact(*, customer_id: int) -> None:
    """Set `last_contact_at` to the time of the customer's latest remaining interaction (one UPDATE)."""
    latest = Interaction.objects.filter(customer=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    Customer.objects.filter(pk=customer_id).update(last_contact_at=Subquery(latest))


@transaction.atomic
def interaction_update(
    *, actor: Actor, interaction: Interaction, data: Mapping[str, Any], expected_version: int | None = None
) -> Interaction:
    """Change the given fields; `expected_version` guards against overwriting someone else's edit."""
    locked = _lock_for_change(actor, interaction)
    ensure_version(locked, expected_version)
    cleaned, errors = _clean_fields(data, creating=False)
    if errors:
        raise ValidationFailed(fields=errors)
    time_changed = "occurred_at" in cleaned and cleaned["occurred_at"] != locked.occurred_at
    for field, value in cleaned.items():
        setattr(locked, field, value)
    locked.bump_version()
    attribute_history(locked, actor)
    locked.save()
    if time_changed and locked.customer_id is not None:
        customer_refresh_last_contact(customer_id=locked.customer_id)
    return locked


@transaction.atomic
def interaction_delete(*, actor: Actor, interaction: Interaction) -> None:
    """Delete the interaction and recompute the customer's last contact time."""
    locked = _lock_for_change(actor, interaction)
    customer_id = locked.customer_id
    attribute_history(locked, actor)
    locked.delete()
    if customer_id is not None:
        customer_refresh_last_contact(customer_id=customer_id)

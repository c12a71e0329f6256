"""Writes for messages that arrive by themselves (email, SMS, WeChat) rather than being logged by a user.

No user is at the keyboard when the inbox files a message, so these services take no actor and check no
permission; the inbox's entry points authenticate the provider, and `guanxi.customers.inbox` decides which
record gets the message. The interaction is inbound and has no author (the timeline shows "System").
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from guanxi.customers.events import InteractionLogged, LeadCreated
from guanxi.customers.models import Customer, Interaction, Lead
from guanxi.customers.models.choices import Channel, Direction, LeadStatus, Source
from guanxi.customers.services.customers import customer_record_contact
from guanxi.customers.services.interactions import BODY_MAX, SUBJECT_MAX, customer_refresh_last_contact
from guanxi.platform.audit.history import attribute_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.phones import reversed_digits
from guanxi.platform.core.pinyin import full_pinyin, pinyin_initials
from guanxi.platform.core.text import clean_text
from guanxi.platform.events.registry import publish
from guanxi.platform.identity.models import User

INBOUND_CHANNELS = frozenset({Channel.EMAIL, Channel.SMS, Channel.WECHAT})
LEAD_NAME_MAX = 200


def _limited(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@transaction.atomic
def interaction_record_inbound(
    *,
    customer: Customer | None = None,
    lead: Lead | None = None,
    channel: str,
    subject: str,
    body: str,
    occurred_at: dt.datetime,
    actor: Actor | None = None,
) -> Interaction:
    """Put a message the customer or lead sent on their timeline; keeps the customer's last contact current.

    The text is kept as the sender wrote it (the inbox has already removed control characters), only cut to
    the interaction's limits.

    `actor` is the user who filed it by hand, if any (recorded in the history, not as the author).
    """
    if (customer is None) == (lead is None):
        raise ValueError("give exactly one of customer and lead")
    if channel not in INBOUND_CHANNELS:
        raise ValueError(f"{channel!r} is not an inbound message channel")
    interaction = Interaction(
        customer=customer,
        lead=lead,
        channel=channel,
        direction=Direction.INBOUND,
        occurred_at=occurred_at,
        subject=_limited(" ".join(subject.split()), SUBJECT_MAX),
        body=_limited(body.strip(), BODY_MAX),
        user=None,
    )
    attribute_history(interaction, actor)
    interaction.save()
    if customer is not None:
        customer_record_contact(customer_id=customer.pk, when=occurred_at)
    publish(
        InteractionLogged(
            record_id=interaction.pk,
            customer_id=interaction.customer_id,
            lead_id=interaction.lead_id,
            channel=interaction.channel,
            direction=interaction.direction,
            user_id=None,
            occurred_at=interaction.occurred_at.isoformat(),
        ),
        actor_id=actor.id if actor is not None else None,
    )
    return interaction


@transaction.atomic
def interaction_remove_inbound(*, interaction_id: int, actor: Actor | None = None) -> None:
    """Take a message's interaction off a timeline (when a user files the message on another record).

    Only an inbound interaction without an author is removed; one a user has taken over is left alone.
    """
    interaction = (
        Interaction.objects.select_for_update()
        .filter(pk=interaction_id, direction=Direction.INBOUND, user__isnull=True)
        .first()
    )
    if interaction is None:
        return
    customer_id = interaction.customer_id
    attribute_history(interaction, actor)
    interaction.delete()
    if customer_id is not None:
        customer_refresh_last_contact(customer_id=customer_id)


def inbound_lead_owner() -> User | None:
    """The active user named by GUANXI_INBOX_LEAD_OWNER (user name or email) who receives leads created from
    unknown senders; None leaves them unassigned for a manager to distribute."""
    wanted = clean_text(getattr(settings, "GUANXI_INBOX_LEAD_OWNER", ""))
    if not wanted:
        return None
    users = get_user_model().objects.filter(is_active=True)
    return users.filter(Q(username=wanted) | Q(email__iexact=wanted)).order_by("id").first()


@transaction.atomic
def lead_capture_inbound(*, name: str, phone: str = "", email: str = "", wechat: str = "") -> Lead:
    """A new lead for someone unknown who wrote in. `phone`, `email` and `wechat` come normalised (E.164,
    lower case, open id) from the inbox; the name is the sender's name or address."""
    lead_name = _limited(clean_text(name), LEAD_NAME_MAX) or phone or email or wechat
    owner = inbound_lead_owner()
    lead = Lead(
        name=lead_name,
        phone=phone,
        email=email,
        wechat=wechat[:100],
        source=Source.OTHER,
        status=LeadStatus.NEW,
        owner=owner,
        team_id=owner.team_id if owner is not None else None,
    )
    lead.phone_search_key = reversed_digits(phone) if phone else ""
    lead.name_pinyin = full_pinyin(lead.name)[:400]
    lead.name_initials = pinyin_initials(lead.name)[:100]
    attribute_history(lead, None)
    lead.save()
    publish(LeadCreated(record_id=lead.pk, name=lead.name, source=lead.source, owner_id=lead.owner_id))
    return lead

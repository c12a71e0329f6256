"""Reads of inbound messages, scoped: a user sees the messages filed on records they may see; those who
manage the inbox also see the ones nobody was matched to (unmatched, ignored, failed, waiting)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Substr

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound
from guanxi.platform.core.filters import FilterParams, day_range_q
from guanxi.platform.core.masking import mask_email, mask_phone, mask_text
from guanxi.platform.identity.scoping import can_see_personal_data, has_permission, require_permission
from guanxi.platform.inbox.models import UNFILED_STATUSES, InboundChannel, InboundMessage, MatchStatus
from guanxi.platform.inbox.permissions import INBOX_MANAGE, INBOX_VIEW
from guanxi.platform.inbox.registry import RecordLink, record_type_labels, sender_handlers

LIST_SORT = "-received_at"
PREVIEW_CHARS = 140
# What a list row needs (and the text's first PREVIEW_CHARS as `body_start`); the whole text, headers and
# attachments are read on the detail page only.
LIST_FIELDS = (
    "id", "channel", "provider", "from_address", "from_address_valid", "from_name", "subject", "received_at",
    "match_status", "match_reason", "record_type", "record_id", "other_candidates", "unsubscribe_requested",
    "version", "created_at", "to_address", "automated", "provider_message_id", "attempts",
)  # fmt: skip


def inbound_visibility_q(actor: Actor) -> Q:
    """Messages filed on a record the actor may see, plus the unfiled ones for inbox managers."""
    q = Q(pk__in=[])
    for handler in sender_handlers():
        for record_type in handler.record_types:
            q |= Q(record_type=record_type, record_id__in=handler.visible_ids(actor, record_type))
    if has_permission(actor, INBOX_MANAGE):
        q |= Q(match_status__in=UNFILED_STATUSES)
    return q


def inbound_message_queryset(*, actor: Actor) -> QuerySet[InboundMessage]:
    """Every inbound message the actor may see: the base of every read."""
    require_permission(actor, INBOX_VIEW)
    return InboundMessage.objects.filter(inbound_visibility_q(actor))


@dataclass(frozen=True)
class InboundFilters:
    channel: str = ""
    status: str = ""
    received_from: dt.date | None = None
    received_to: dt.date | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> InboundFilters:
        """Filters from query parameters; ValidationFailed names every bad one."""
        read = FilterParams(params)
        filters = cls(
            channel=read.choice("channel", InboundChannel),
            status=read.choice("status", MatchStatus),
            received_from=read.date("received_from"),
            received_to=read.date("received_to"),
        )
        read.check()
        return filters

    @property
    def active(self) -> bool:
        return bool(self.channel or self.status or self.received_from or self.received_to)


def inbound_message_list(*, actor: Actor, filters: InboundFilters | None = None) -> QuerySet[InboundMessage]:
    """The inbox, newest first once paginated by `LIST_SORT`; only the columns a list row shows."""
    f = filters or InboundFilters()
    qs = (
        inbound_message_queryset(actor=actor)
        .only(*LIST_FIELDS)
        .annotate(body_start=Substr("body_text", 1, PREVIEW_CHARS))
    )
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.status:
        qs = qs.filter(match_status=f.status)
    if f.received_from or f.received_to:
        qs = qs.filter(day_range_q("received_at", f.received_from, f.received_to))
    return qs


def inbound_message_get(*, actor: Actor, message_id: int) -> InboundMessage:
    message = inbound_message_queryset(actor=actor).select_related("filed_by").filter(pk=message_id).first()
    if message is None:
        raise NotFound()
    return message


def record_links(messages: Iterable[InboundMessage]) -> dict[tuple[str, int], RecordLink]:
    """The name and page of the record each message is filed on: one query per record type."""
    wanted: dict[str, set[int]] = {}
    for message in messages:
        if message.record_type and message.record_id is not None:
            wanted.setdefault(message.record_type, set()).add(message.record_id)
    links: dict[tuple[str, int], RecordLink] = {}
    for handler in sender_handlers():
        for record_type in handler.record_types:
            ids = wanted.get(record_type)
            if ids:
                for record_id, link in handler.describe(record_type, sorted(ids)).items():
                    links[(record_type, record_id)] = link
    return links


def record_type_label(record_type: str) -> str:
    return str(record_type_labels().get(record_type, record_type))


def shown_sender(actor: Actor, message: InboundMessage, *, unmasked: bool | None = None) -> str:
    """The sender's address as this actor may see it (masked without the personal data permission)."""
    if unmasked is None:
        unmasked = can_see_personal_data(actor)
    address = message.from_address
    if unmasked or not address:
        return address
    if message.channel == InboundChannel.EMAIL:
        return mask_email(address)
    if message.channel == InboundChannel.SMS:
        return mask_phone(address)
    return mask_text(address)


def preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"

"""Sender handlers: how a domain app recognises the sender of an inbound message and files it.

The inbox knows no domain model. A domain app (customers) registers one handler that, given an inbound
message, finds the record whose contact details match the sender and attaches the message to that
record's timeline, creates a lead for an unknown sender, files a message on a record a user chose, and
tells the inbox which of its records an actor may see:

    register_sender_handler(
        "customers",
        record_types={"customers.customer": _("Customer"), "customers.lead": _("Lead")},
        search_kinds={"customer": "customers.customer", "lead": "customers.lead"},
        find_and_attach=..., create_lead=..., attach_to=..., detach=..., visible_ids=..., describe=...,
    )

Every callback runs inside the inbox's transaction for that message: raising rolls the whole message's
processing back, and the inbox records the error on the message (which is never lost).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.functional import Promise

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound


@dataclass(frozen=True)
class InboundEnvelope:
    """What a handler is told about one stored inbound message (addresses already normalised)."""

    message_id: int  # the InboundMessage id
    channel: str  # "email", "sms" or "wechat"
    from_address: str  # email lower-cased, phone E.164, WeChat open id
    from_name: str
    subject: str
    body: str
    received_at: dt.datetime


@dataclass(frozen=True)
class SenderAttached:
    """Where a message was filed: the record and the timeline entry made for it."""

    record_type: str  # "customers.customer"
    record_id: int
    timeline_type: str = ""  # "customers.interaction"
    timeline_id: int | None = None
    lead_created: bool = False
    # Other records that share the sender's address (the message went to `record_id`, the best of them).
    other_candidates: tuple[int, ...] = ()


@dataclass(frozen=True)
class RecordLink:
    """A record as the inbox shows it: its name and the page it lives on."""

    label: str
    url: str


@dataclass(frozen=True)
class SenderHandler:
    code: str
    record_types: dict[str, Promise | str]
    # The sender's record, the message attached to its timeline; None when nobody has this address.
    find_and_attach: Callable[[InboundEnvelope], SenderAttached | None]
    # A new lead from an unknown sender, the message on its timeline. actor None: created by the system.
    create_lead: Callable[[InboundEnvelope, Actor | None], SenderAttached] | None
    # File the message on a record the actor chose (raises NotFound when the actor may not see it).
    attach_to: Callable[[Actor, InboundEnvelope, str, int], SenderAttached]
    # Remove the timeline entry made earlier for a message (when a user files it elsewhere).
    detach: Callable[[str, int], None]
    # The ids of `record_type` rows the actor may see, as a subquery (`.values("pk")`).
    visible_ids: Callable[[Actor, str], QuerySet[Any]]
    # Names and links of records, for lists: {id: RecordLink}; one query per record type.
    describe: Callable[[str, list[int]], dict[int, RecordLink]]
    # Global search provider codes whose hits are records of this handler ("customer" -> "customers.customer").
    search_kinds: dict[str, str] = field(default_factory=dict)
    order: int = 100


_handlers: dict[str, SenderHandler] = {}


def register_sender_handler(
    code: str,
    *,
    record_types: dict[str, Promise | str],
    find_and_attach: Callable[[InboundEnvelope], SenderAttached | None],
    create_lead: Callable[[InboundEnvelope, Actor | None], SenderAttached] | None,
    attach_to: Callable[[Actor, InboundEnvelope, str, int], SenderAttached],
    detach: Callable[[str, int], None],
    visible_ids: Callable[[Actor, str], QuerySet[Any]],
    describe: Callable[[str, list[int]], dict[int, RecordLink]],
    search_kinds: dict[str, str] | None = None,
    order: int = 100,
) -> None:
    """Register (or replace) the handler `code`; handlers are asked in `order`."""
    _handlers[code] = SenderHandler(
        code=code,
        record_types=dict(record_types),
        find_and_attach=find_and_attach,
        create_lead=create_lead,
        attach_to=attach_to,
        detach=detach,
        visible_ids=visible_ids,
        describe=describe,
        search_kinds=dict(search_kinds or {}),
        order=order,
    )


def sender_handlers() -> list[SenderHandler]:
    return sorted(_handlers.values(), key=lambda handler: handler.order)


def record_type_labels() -> dict[str, Promise | str]:
    """Every record type a message may be filed on, with its label."""
    labels: dict[str, Promise | str] = {}
    for handler in sender_handlers():
        labels.update(handler.record_types)
    return labels


def handler_for(record_type: str) -> SenderHandler:
    """The handler that owns `record_type`; NotFound for a type nobody registered."""
    for handler in sender_handlers():
        if record_type in handler.record_types:
            return handler
    raise NotFound()


def lead_creator() -> SenderHandler | None:
    """The first handler that can create leads for unknown senders."""
    return next((handler for handler in sender_handlers() if handler.create_lead is not None), None)

"""Reads of the channels app: the message log (scoped to the records the reader may see), messages of one
record, templates and their previews, the contact policy and the suppression list."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.platform.audit.history import HistoryEntry, record_history
from guanxi.platform.channels.composition import Composed, TemplateTexts, compose
from guanxi.platform.channels.models import (
    ContactPolicy,
    HeldReason,
    MessageChannel,
    MessagePurpose,
    MessageStatus,
    MessageTemplate,
    OutboundMessage,
    Suppression,
)
from guanxi.platform.channels.permissions import (
    MESSAGES_MANAGE_POLICY,
    MESSAGES_MANAGE_TEMPLATES,
    MESSAGES_SEND,
    MESSAGES_VIEW,
    MESSAGES_VIEW_ALL,
)
from guanxi.platform.channels.policy import contact_policy
from guanxi.platform.channels.registry import MergeField, RecipientSource, recipient_source, recipient_sources
from guanxi.platform.channels.rendering import PLATFORM_MERGE_FIELDS, TEXT_FIELDS, text_errors
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.platform.core.filters import FilterParams, day_range_q
from guanxi.platform.core.masking import mask_email, mask_phone, mask_text
from guanxi.platform.identity.scoping import can_see_personal_data, has_permission, require_permission

# Messages ------------------------------------------------------------------------------------------------


def visible_messages_q(actor: Actor) -> Q:
    """Messages of records the actor may see, through each record type's own visibility; all for those with
    `messages.all.view`. A record type no longer registered shows its messages to those only."""
    if has_permission(actor, MESSAGES_VIEW_ALL):
        return Q()
    q = Q(pk__in=[])
    for record_type, source in recipient_sources().items():
        visible = source.visible_ids(actor)
        q |= Q(record_type=record_type) if visible is None else Q(record_type=record_type, record_id__in=visible)
    return q


def message_queryset(*, actor: Actor) -> QuerySet[OutboundMessage]:
    require_permission(actor, MESSAGES_VIEW)
    return OutboundMessage.objects.filter(visible_messages_q(actor))


@dataclass(frozen=True)
class MessageFilters:
    channel: str = ""
    status: str = ""
    purpose: str = ""
    held_reason: str = ""
    record_type: str = ""
    record_id: int | None = None
    template_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> MessageFilters:
        """Filters from query parameters; every bad value is named in one ValidationFailed."""
        read = FilterParams(params)
        filters = cls(
            channel=read.choice("channel", MessageChannel),
            status=read.choice("status", MessageStatus),
            purpose=read.choice("purpose", MessagePurpose),
            held_reason=read.choice("held_reason", HeldReason),
            record_type=read.choice("record_type", list(recipient_sources())),
            record_id=read.integer("record_id"),
            template_id=read.integer("template_id"),
            date_from=read.date("date_from"),
            date_to=read.date("date_to"),
        )
        read.check()
        return filters

    @property
    def active(self) -> bool:
        return any(value not in ("", None) for value in self.__dict__.values())


def message_list(*, actor: Actor, filters: MessageFilters | None = None) -> QuerySet[OutboundMessage]:
    """The log, newest first, filtered; what a row shows comes in the same query (template, sender)."""
    f = filters or MessageFilters()
    qs = message_queryset(actor=actor)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.purpose:
        qs = qs.filter(purpose=f.purpose)
    if f.held_reason:
        qs = qs.filter(held_reason=f.held_reason)
    if f.record_type:
        qs = qs.filter(record_type=f.record_type)
    if f.record_id is not None:
        qs = qs.filter(record_id=f.record_id)
    if f.template_id is not None:
        qs = qs.filter(template_id=f.template_id)
    qs = qs.filter(day_range_q("created_at", f.date_from, f.date_to))
    return qs.select_related("template", "created_by").order_by("-id")


def message_get(*, actor: Actor, message_id: int) -> OutboundMessage:
    message = message_queryset(actor=actor).select_related("template", "created_by").filter(pk=message_id).first()
    if message is None:
        raise NotFound(_("Message not found."))
    return message


def _source_or_not_found(record_type: str) -> RecipientSource:
    source = recipient_source(record_type)
    if source is None:
        raise NotFound()
    return source


def messages_for_record(*, actor: Actor, record_type: str, record_id: int) -> QuerySet[OutboundMessage]:
    """The messages of one record the actor may see (NotFound when they may not see the record)."""
    require_permission(actor, MESSAGES_VIEW)
    source = _source_or_not_found(record_type)
    if not source.is_visible(actor, int(record_id)):
        raise NotFound()
    return (
        OutboundMessage.objects.filter(record_type=record_type, record_id=int(record_id))
        .select_related("template", "created_by")
        .order_by("-id")
    )


@dataclass(frozen=True)
class RecordLink:
    label: str
    url: str


def record_links(messages: Iterable[OutboundMessage]) -> dict[tuple[str, int], RecordLink]:
    """The name and page of each message's record: one query per record type on the page."""
    ids: dict[str, set[int]] = defaultdict(set)
    for message in messages:
        ids[message.record_type].add(int(message.record_id))
    links: dict[tuple[str, int], RecordLink] = {}
    for record_type, record_ids in ids.items():
        source = recipient_source(record_type)
        if source is None:
            continue
        labels = source.record_labels(sorted(record_ids))
        for record_id in record_ids:
            label = labels.get(record_id)
            if label is not None:
                links[(record_type, record_id)] = RecordLink(label, source.record_url(record_id))
    return links


def shown_address(actor: Actor, channel: str, address: str) -> str:
    """The recipient's address as this reader may see it (masked without the personal-data permission)."""
    if can_see_personal_data(actor):
        return address
    if channel == MessageChannel.EMAIL:
        return mask_email(address)
    if channel == MessageChannel.SMS:
        return mask_phone(address)
    return mask_text(address)


# Templates ------------------------------------------------------------------------------------------------


def _require_template_reader(actor: Actor) -> None:
    if not (has_permission(actor, MESSAGES_SEND) or has_permission(actor, MESSAGES_MANAGE_TEMPLATES)):
        raise PermissionDenied()


def template_list(
    *, actor: Actor, channel: str = "", record_type: str = "", purpose: str = "", include_inactive: bool = False
) -> QuerySet[MessageTemplate]:
    """Templates senders may choose from (active ones); inactive ones too for those who manage templates."""
    _require_template_reader(actor)
    if include_inactive:
        require_permission(actor, MESSAGES_MANAGE_TEMPLATES)
    qs = MessageTemplate.objects.all()
    if channel:
        qs = qs.filter(channel=channel)
    if record_type:
        qs = qs.filter(record_type=record_type)
    if purpose:
        qs = qs.filter(purpose=purpose)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("name", "id")


def template_get(*, actor: Actor, template_id: int) -> MessageTemplate:
    _require_template_reader(actor)
    template = MessageTemplate.objects.filter(pk=template_id).first()
    if template is None or (not template.is_active and not has_permission(actor, MESSAGES_MANAGE_TEMPLATES)):
        raise NotFound(_("Template not found."))
    return template


def merge_fields_for(record_type: str) -> list[MergeField]:
    source = recipient_source(record_type)
    fields = list(source.merge_fields()) if source is not None else []
    return [*fields, *PLATFORM_MERGE_FIELDS]


@dataclass(frozen=True)
class Preview:
    composed: Composed
    to_address: str
    record_label: str
    warnings: list[str]


def template_preview(
    *,
    actor: Actor,
    texts: TemplateTexts,
    record_type: str,
    record_id: int,
    language: str = "",
    check_texts: bool = False,
) -> Preview:
    """Render `texts` (a saved template or a draft being edited) for one record the actor may see, as it
    would be sent: in `language` when given, else in the recipient's; ValidationFailed for unreadable texts."""
    _require_template_reader(actor)
    source = _source_or_not_found(record_type)
    if check_texts:  # a draft being edited: report its problems as saving would
        problems = text_errors({name: getattr(texts, name) for name in TEXT_FIELDS}, record_type)
        problems.update(text_errors(dict(texts.provider_params or {}), record_type, prefix="provider_params."))
        if problems:
            raise ValidationFailed(fields=problems)
    if not source.is_visible(actor, int(record_id)):
        raise NotFound(_("No record with this number that you can see."))
    if language and language not in ("zh-hans", "en"):
        raise ValidationFailed.for_field("language", _("Choose Chinese or English."))
    recipients = source.resolve(int(record_id), texts.channel)
    warnings: list[str] = []
    recipient = recipients[0] if recipients else None
    if recipient is None:
        warnings.append(_("This record has no address for this channel; the message could not be sent to it."))
    composed = compose(
        texts, source=source, record_id=int(record_id), recipient=recipient, purpose=texts.purpose, language=language
    )
    address = shown_address(actor, texts.channel, recipients[0].address) if recipients else ""
    label = source.record_labels([int(record_id)]).get(int(record_id), "")
    return Preview(composed=composed, to_address=address, record_label=label, warnings=warnings)


def template_history(*, actor: Actor, template: MessageTemplate) -> list[HistoryEntry]:
    """A template's changes (who, when, what), for those who manage templates."""
    require_permission(actor, MESSAGES_MANAGE_TEMPLATES)
    return record_history(template)


# Policy -----------------------------------------------------------------------------------------------------


def contact_policy_get(*, actor: Actor) -> ContactPolicy:
    """Everyone who sends may read the policy (to know why a message was held); admins change it."""
    if not (has_permission(actor, MESSAGES_VIEW) or has_permission(actor, MESSAGES_MANAGE_POLICY)):
        raise PermissionDenied()
    return contact_policy()


def contact_policy_history(*, actor: Actor) -> list[HistoryEntry]:
    require_permission(actor, MESSAGES_MANAGE_POLICY)
    return record_history(contact_policy())


def suppression_list(*, actor: Actor, channel: str = "", address: str = "") -> QuerySet[Suppression]:
    require_permission(actor, MESSAGES_MANAGE_POLICY)
    qs = Suppression.objects.select_related("created_by")
    if channel:
        qs = qs.filter(channel=channel)
    if address:
        qs = (
            qs.filter(address__icontains=address.strip().lower())
            if len(address.strip()) >= 3
            else qs.filter(address=address.strip())
        )
    return qs.order_by("-created_at", "-id")

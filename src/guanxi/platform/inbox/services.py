"""Receiving inbound messages and filing them on the sender's record; the inbox managers' actions.

A message is stored first (once: a provider retrying a delivery finds the stored row), then filed in its own
transaction: the sender handlers find the sender's record and put the message on its timeline, or a lead is
created for an unknown sender. If filing fails, everything it did is rolled back and the message stays, marked
"failed" with the error, for a manager to retry. SMS unsubscribe keywords withdraw consent through the
channels app; delivery status notifications mark the bounced outbound message.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.platform.audit.services import personal_data_view_record
from guanxi.platform.channels.services import contact_unsubscribe, message_mark_bounced
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.platform.core.text import clean_text
from guanxi.platform.core.versioning import ensure_version
from guanxi.platform.identity.scoping import require_permission
from guanxi.platform.inbox.draft import (
    ADDRESS_MAX,
    BODY_MAX_CHARS,
    NAME_MAX,
    SUBJECT_MAX,
    InboundDraft,
    limited_attachments,
    limited_message_id,
    limited_metadata,
    normalise_sender,
    verbatim_text,
)
from guanxi.platform.inbox.models import InboundChannel, InboundMessage, MatchReason, MatchStatus
from guanxi.platform.inbox.permissions import INBOX_MANAGE
from guanxi.platform.inbox.registry import (
    InboundEnvelope,
    SenderAttached,
    handler_for,
    lead_creator,
    record_type_labels,
    sender_handlers,
)
from guanxi.platform.inbox.selectors import inbound_message_queryset

logger = logging.getLogger(__name__)

ERROR_MAX = 2000
# Replies that ask for no more SMS, compared after trimming, half-width conversion and lower-casing.
UNSUBSCRIBE_KEYWORDS = frozenset({"td", "退订", "t", "stop", "unsubscribe"})
_TRAILING_PUNCTUATION = " .。!！~～"


def is_unsubscribe_keyword(text: str) -> bool:
    """Whether an SMS reply is an unsubscribe keyword: TD, 退订, T, STOP or UNSUBSCRIBE (ＴＤ and "td。" too)."""
    return clean_text(text).strip(_TRAILING_PUNCTUATION).lower() in UNSUBSCRIBE_KEYWORDS


def _existing(channel: str, provider: str, message_id: str) -> InboundMessage | None:
    qs = InboundMessage.objects.filter(channel=channel, provider_message_id=message_id)
    if channel != InboundChannel.EMAIL:  # an email's Message-ID is global: the webhook and IMAP share it
        qs = qs.filter(provider=provider)
    return qs.order_by("id").first()


def _limited_body(text: str) -> str:
    body = verbatim_text(text)
    return body if len(body) <= BODY_MAX_CHARS else body[: BODY_MAX_CHARS - 1] + "…"


def inbound_receive(*, draft: InboundDraft) -> tuple[InboundMessage, bool]:
    """Store a message once and file it. Returns (message, created): a repeat of a stored message (same
    channel and provider message id) returns the stored row, untouched, and created False."""
    message_id = limited_message_id(draft.provider_message_id)
    if not message_id:
        raise ValidationFailed.for_field("message_id", _("The message has no id."))
    existing = _existing(draft.channel, draft.provider, message_id)
    if existing is not None:
        return existing, False
    address, valid = normalise_sender(draft.channel, draft.from_raw)
    metadata = dict(draft.metadata)
    if draft.bounce is not None:
        metadata["bounce"] = draft.bounce.as_dict()
    message = InboundMessage(
        channel=draft.channel,
        provider=draft.provider,
        provider_message_id=message_id,
        from_address=address,
        from_address_valid=valid,
        from_name=clean_text(draft.from_name)[:NAME_MAX],
        to_address=clean_text(draft.to_address)[:ADDRESS_MAX],
        subject=verbatim_text(draft.subject, multiline=False)[:SUBJECT_MAX],
        body_text=_limited_body(draft.body_text),
        received_at=draft.received_at or timezone.now(),
        metadata=limited_metadata(metadata),
        attachments=limited_attachments(draft.attachments),
        automated=draft.automated or draft.bounce is not None,
        bounce_of=draft.bounce.original_message_id[:255] if draft.bounce is not None else "",
    )
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:  # the same message arrived twice at the same moment
        existing = _existing(draft.channel, draft.provider, message_id)
        if existing is None:
            raise
        return existing, False
    return inbound_process(message_id=message.pk), True


def _envelope(message: InboundMessage, *, from_name: str | None = None) -> InboundEnvelope:
    return InboundEnvelope(
        message_id=message.pk,
        channel=message.channel,
        from_address=message.from_address,
        from_name=message.from_name if from_name is None else from_name,
        subject=message.subject,
        body=message.body_text,
        received_at=message.received_at,
    )


def _file(message: InboundMessage, attached: SenderAttached, status: str) -> None:
    message.match_status = status
    message.record_type = attached.record_type
    message.record_id = attached.record_id
    message.timeline_type = attached.timeline_type
    message.timeline_id = attached.timeline_id
    message.other_candidates = list(attached.other_candidates)
    message.match_reason = MatchReason.AMBIGUOUS if attached.other_candidates else MatchReason.NONE


def _unfile(message: InboundMessage, status: str, reason: str) -> None:
    message.match_status = status
    message.match_reason = reason
    message.record_type, message.record_id = "", None
    message.timeline_type, message.timeline_id = "", None
    message.other_candidates = []


def _record_bounce(message: InboundMessage) -> None:
    """A delivery status notification: mark the outbound email it reports on as bounced (hard for 5.x.x
    statuses, soft otherwise). Reports of delays or successful deliveries mark nothing."""
    bounce: dict[str, Any] = message.metadata.get("bounce") or {}
    recipients: list[dict[str, str]] = bounce.get("recipients") or []
    failed = [r for r in recipients if r.get("action", "") in ("failed", "")]
    if recipients and not failed:
        _unfile(message, MatchStatus.IGNORED, MatchReason.DELIVERY_REPORT)
        return
    permanent = not failed or any(not r.get("status") or r["status"].startswith("5") for r in failed)
    reason = "; ".join(
        " ".join(part for part in (r.get("recipient", ""), r.get("status", ""), r.get("diagnostic", "")) if part)
        for r in failed
    )[:2000]
    marked = None
    if message.bounce_of:
        marked = message_mark_bounced(
            provider_message_id=message.bounce_of, reason=reason or "bounced", permanent=permanent
        )
    _unfile(message, MatchStatus.IGNORED, MatchReason.BOUNCE if marked else MatchReason.BOUNCE_NOT_RECORDED)


def _unsubscribe(message: InboundMessage) -> None:
    message.unsubscribe_requested = True
    message.unsubscribed_count = contact_unsubscribe(
        channel=message.channel, address=message.from_address, source="sms keyword"
    )


def _route(message: InboundMessage) -> None:
    """Decide where a stored message goes and file it (inside the caller's transaction)."""
    if message.metadata.get("bounce") is not None:
        _record_bounce(message)
        return
    if not message.from_address_valid:
        _unfile(message, MatchStatus.UNMATCHED, MatchReason.UNREADABLE_SENDER)
        return
    if message.channel == InboundChannel.SMS and is_unsubscribe_keyword(message.body_text):
        _unsubscribe(message)
    envelope = _envelope(message)
    for handler in sender_handlers():
        attached = handler.find_and_attach(envelope)
        if attached is not None:
            _file(message, attached, MatchStatus.MATCHED)
            return
    creator = lead_creator()
    if message.unsubscribe_requested:
        _unfile(message, MatchStatus.IGNORED, MatchReason.UNSUBSCRIBE_UNKNOWN)
    elif message.automated:
        _unfile(message, MatchStatus.IGNORED, MatchReason.AUTOMATED_UNKNOWN)
    elif creator is None or creator.create_lead is None or not settings.GUANXI_INBOX_CREATE_LEADS:
        _unfile(message, MatchStatus.UNMATCHED, MatchReason.NO_MATCH)
    else:
        _file(message, creator.create_lead(envelope, None), MatchStatus.LEAD_CREATED)


def _error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_MAX]


def inbound_process(*, message_id: int) -> InboundMessage:
    """File a waiting message, all or nothing; a failure marks it "failed" with the error and keeps it."""
    try:
        with transaction.atomic():
            message = InboundMessage.objects.select_for_update().get(pk=message_id)
            if message.match_status != MatchStatus.PENDING:
                return message
            message.attempts += 1
            _route(message)
            message.error = ""
            message.processed_at = timezone.now()
            message.bump_version()
            message.save()
            return message
    except Exception as error:  # the message must survive whatever went wrong while filing it
        logger.exception("inbound message %s could not be filed", message_id)
        now = timezone.now()
        InboundMessage.objects.filter(pk=message_id, match_status=MatchStatus.PENDING).update(
            match_status=MatchStatus.ERROR,
            error=_error_text(error),
            attempts=F("attempts") + 1,
            processed_at=now,
            updated_at=now,
            version=F("version") + 1,
        )
        return InboundMessage.objects.get(pk=message_id)


STALE_AFTER = dt.timedelta(minutes=2)
STALE_BATCH = 200


def inbound_process_stale(*, now: dt.datetime | None = None) -> int:
    """File messages left waiting (their worker or request died between storing and filing them); returns
    how many were filed. Idempotent: `inbound_process` locks each row and skips any no longer waiting."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    waiting = list(
        InboundMessage.objects.filter(match_status=MatchStatus.PENDING, updated_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:STALE_BATCH]
    )
    for message_id in waiting:
        inbound_process(message_id=message_id)
    return len(waiting)


def _locked(actor: Actor, message: InboundMessage) -> InboundMessage:
    """The message row, locked, if the actor may see it (the inbox's visibility gate)."""
    locked = inbound_message_queryset(actor=actor).select_for_update().filter(pk=message.pk).first()
    if locked is None:
        raise NotFound(_("Message not found."))
    return locked


def _clean_target(record_type: Any, record_id: Any) -> tuple[str, int]:
    errors: dict[str, list[str]] = {}
    record_type = str(record_type or "")
    if record_type not in record_type_labels():
        errors["record_type"] = [_("Choose a customer or a lead.")]
    try:
        target_id = int(record_id)
        if target_id < 1:
            raise ValueError
    except (TypeError, ValueError):
        errors["record_id"] = [_("Choose a record.")]
        target_id = 0
    if errors:
        raise ValidationFailed(fields=errors)
    return record_type, target_id


@transaction.atomic
def inbound_message_assign(
    *, actor: Actor, message: InboundMessage, record_type: str, record_id: int, expected_version: int | None = None
) -> InboundMessage:
    """File a message on a customer or lead the actor chose (moving it there if it was filed elsewhere)."""
    require_permission(actor, INBOX_MANAGE)
    record_type, record_id = _clean_target(record_type, record_id)
    locked = _locked(actor, message)
    ensure_version(locked, expected_version)
    if locked.match_status == MatchStatus.PENDING:
        raise Conflict(_("This message is still being filed; try again in a moment."))
    if locked.record_type == record_type and locked.record_id == record_id:
        raise ValidationFailed.for_field("record_id", _("The message is already filed on this record."))
    if locked.record_type and locked.timeline_type and locked.timeline_id is not None:
        handler_for(locked.record_type).detach(locked.timeline_type, locked.timeline_id)
    try:
        attached = handler_for(record_type).attach_to(actor, _envelope(locked), record_type, record_id)
    except NotFound:
        raise ValidationFailed.for_field("record_id", _("Choose a record you can see.")) from None
    _file(locked, attached, MatchStatus.MATCHED)
    locked.match_reason = MatchReason.FILED_BY_HAND
    locked.filed_by = actor.user
    locked.error = ""
    locked.bump_version()
    locked.save()
    return locked


@transaction.atomic
def inbound_message_create_lead(
    *, actor: Actor, message: InboundMessage, name: str = "", expected_version: int | None = None
) -> InboundMessage:
    """Create a lead from a message nobody was matched to; the actor owns it and the message goes on its
    timeline. `name` defaults to the sender's name or address."""
    require_permission(actor, INBOX_MANAGE)
    locked = _locked(actor, message)
    ensure_version(locked, expected_version)
    if locked.match_status in (MatchStatus.MATCHED, MatchStatus.LEAD_CREATED):
        raise Conflict(_("This message is already filed on a record; file it on another record instead."))
    if locked.match_status == MatchStatus.PENDING:
        raise Conflict(_("This message is still being filed; try again in a moment."))
    if not locked.from_address_valid:
        raise ValidationFailed.for_field(
            "from_address", _("The sender's address could not be read, so no lead can be made from it.")
        )
    creator = lead_creator()
    if creator is None or creator.create_lead is None:
        raise Conflict(_("No application here can create leads."))
    lead_name = clean_text(name)
    if len(lead_name) > NAME_MAX:
        raise ValidationFailed.for_field("name", _("Keep the name under %(n)s characters.") % {"n": NAME_MAX})
    attached = creator.create_lead(_envelope(locked, from_name=lead_name or None), actor)
    _file(locked, attached, MatchStatus.LEAD_CREATED)
    locked.match_reason = MatchReason.FILED_BY_HAND
    locked.filed_by = actor.user
    locked.error = ""
    locked.bump_version()
    locked.save()
    return locked


def inbound_message_retry(*, actor: Actor, message: InboundMessage) -> InboundMessage:
    """File a message that failed again, as if it had just arrived."""
    require_permission(actor, INBOX_MANAGE)
    with transaction.atomic():
        locked = _locked(actor, message)
        if locked.match_status != MatchStatus.ERROR:
            raise Conflict(_("Only a message that failed can be retried."))
        locked.match_status = MatchStatus.PENDING
        locked.bump_version()
        locked.save(update_fields=["match_status", "version", "updated_at"])
    return inbound_process(message_id=locked.pk)


def inbound_messages_record_personal_data_view(
    *, actor: Actor, message_ids: list[int], detail: dict[str, Any] | None = None
) -> None:
    """The access-log entry for senders' addresses shown in clear (a page of the inbox, or one message)."""
    personal_data_view_record(
        actor=actor, object_type="inbox.inboundmessage", object_ids=message_ids, detail=detail or {}
    )

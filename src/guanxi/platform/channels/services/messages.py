"""Sending messages: the one interface (`message_send`), sending again, and the status changes reported from
outside (delivery reports, bounces, unsubscribes).

`message_send` is where the contact policy is applied (see `policy.py`), so every door - the web page, the API,
a workflow rule, a campaign - gets the same checks. A held message is stored too, with its reason, so people
can see what did not go out and why.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.platform.channels.composition import Composed, TextDraft, compose, text_language
from guanxi.platform.channels.models import (
    MessageChannel,
    MessagePurpose,
    MessageStatus,
    MessageTemplate,
    OutboundMessage,
    Suppression,
    SuppressionReason,
)
from guanxi.platform.channels.permissions import MESSAGES_SEND, MESSAGES_SEND_MARKETING
from guanxi.platform.channels.policy import contact_policy, decide
from guanxi.platform.channels.registry import Recipient, RecipientSource, recipient_source
from guanxi.platform.channels.rendering import text_errors
from guanxi.platform.channels.services.templates import BODY_MAX, SUBJECT_MAX, clean_body
from guanxi.platform.channels.unsubscribe import normalise_address
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.platform.identity.scoping import require_permission


def _no_address_message(channel: str) -> str:
    messages: dict[str, str] = {
        "email": _("This record has no email address."),
        "sms": _("This record has no mobile phone number."),
        "wechat": _("This record has no WeChat ID."),
    }
    return messages.get(channel, _("This record has no address for this channel."))


def enqueue_delivery(message_id: int) -> None:
    from guanxi.platform.channels.tasks import deliver_message

    deliver_message.enqueue(message_id, "")


def _check_permissions(actor: Actor | None, purpose: str) -> None:
    if actor is None:  # the system: a workflow rule, a campaign run
        return
    require_permission(actor, MESSAGES_SEND)
    if purpose == MessagePurpose.MARKETING:
        require_permission(actor, MESSAGES_SEND_MARKETING)


def _choose_template(
    template_id: int, *, channel: str, record_type: str, purpose: str, errors: dict[str, list[str]]
) -> MessageTemplate | None:
    template = MessageTemplate.objects.filter(pk=template_id, is_active=True).first()
    if template is None:
        errors["template_id"] = [_("Choose an active template from the list.")]
    elif template.channel != channel:
        errors["template_id"] = [
            _("This template is for %(channel)s messages.") % {"channel": MessageChannel(template.channel).label}
        ]
    elif template.record_type != record_type:
        errors["template_id"] = [_("This template is written for another kind of record.")]
    elif template.purpose == MessagePurpose.MARKETING and purpose != MessagePurpose.MARKETING:
        errors["purpose"] = [_("This is a marketing template: send it as a marketing message.")]
    return template


def _choose_recipient(
    source: RecipientSource, record_id: int, channel: str, to_address: str, errors: dict[str, list[str]]
) -> Recipient | None:
    recipients = source.resolve(record_id, channel)
    if not recipients:
        errors["to_address"] = [_no_address_message(channel)]
        return None
    if not to_address:
        return recipients[0]
    wanted = normalise_address(channel, to_address)
    for recipient in recipients:
        if normalise_address(channel, recipient.address) == wanted:
            return recipient
    errors["to_address"] = [_("Choose one of this record's addresses for this channel.")]
    return None


def _check_composed(composed: Composed, channel: str, errors: dict[str, list[str]]) -> None:
    if channel == MessageChannel.EMAIL and not composed.subject:
        errors.setdefault("subject", []).append(_("An email needs a subject."))
    if len(composed.subject) > SUBJECT_MAX:
        errors.setdefault("subject", []).append(_("Keep it to %(n)s characters or fewer.") % {"n": SUBJECT_MAX})
    if not composed.body and not composed.provider_data:
        errors.setdefault("body", []).append(_("The message text is empty for this recipient."))
    limit = BODY_MAX.get(channel, 20_000)
    if len(composed.body) > limit:
        errors.setdefault("body", []).append(
            _("The message is %(length)s characters long; %(channel)s allows %(n)s.")
            % {"length": len(composed.body), "channel": MessageChannel(channel).label, "n": limit}
        )


@transaction.atomic
def message_send(
    *,
    actor: Actor | None,
    channel: str,
    record_type: str,
    record_id: int,
    template_id: int | None = None,
    subject: str = "",
    body: str = "",
    purpose: str = "marketing",
    to_address: str = "",
) -> OutboundMessage:
    """Compose a message to a record's address, apply the contact policy, store it and deliver it after commit.

    `actor` None is the system (a workflow rule). The address is the record's preferred one for the channel,
    or `to_address` when it names another of the record's addresses. A template is rendered in the recipient's
    language; without one, `subject`/`body` are the text (merge fields allowed). A message the policy holds
    back is stored with status "held" and its reason; one inside quiet hours waits until they end.
    """
    errors: dict[str, list[str]] = {}
    if channel not in MessageChannel.values:
        errors["channel"] = [_("Choose a channel from the list.")]
    if purpose not in MessagePurpose.values:
        errors["purpose"] = [_("Choose a purpose from the list.")]
    source = recipient_source(record_type)
    if source is None:
        errors["record_type"] = [_("Messages cannot be sent to this kind of record.")]
    if errors:
        raise ValidationFailed(fields=errors)
    assert source is not None
    _check_permissions(actor, purpose)
    if not source.is_visible(actor, int(record_id)):
        raise NotFound()
    subject, body = " ".join(clean_body(subject).split()), clean_body(body)
    template: MessageTemplate | None = None
    texts: MessageTemplate | TextDraft
    if template_id is not None:
        template = _choose_template(
            template_id, channel=channel, record_type=record_type, purpose=purpose, errors=errors
        )
        if subject or body:
            errors["body"] = [_("Send either a template or your own text, not both.")]
        texts = template if template is not None else TextDraft(channel=channel, purpose=purpose)
    else:
        if not body:
            errors["body"] = [_("Write the message or choose a template.")]
        errors.update(text_errors({"subject": subject, "body": body}, record_type))
        texts = TextDraft(
            channel=channel, purpose=purpose, subject_zh=subject, body_zh=body, subject_en=subject, body_en=body
        )
    recipient = _choose_recipient(source, int(record_id), channel, to_address, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    assert recipient is not None
    prefix = "template." if template is not None else ""
    # A text typed by hand is in its writer's language: its footer follows it unless the recipient has one.
    language = recipient.language or ("" if template is not None else text_language(f"{subject} {body}"))
    composed = compose(
        texts,
        source=source,
        record_id=int(record_id),
        recipient=recipient,
        purpose=purpose,
        field_prefix=prefix,
        language=language,
    )
    _check_composed(composed, channel, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    address = normalise_address(channel, recipient.address)
    now = timezone.now()
    # Marketing sends lock the policy row, so two sends for one record cannot both pass the frequency cap.
    policy = contact_policy(for_update=purpose == MessagePurpose.MARKETING)
    decision = decide(
        policy=policy,
        purpose=purpose,
        channel=channel,
        address=address,
        consent=recipient.consent,
        record_type=record_type,
        record_id=int(record_id),
        now=now,
    )
    message = OutboundMessage.objects.create(
        channel=channel,
        purpose=purpose,
        status=MessageStatus.HELD if decision.held else MessageStatus.QUEUED,
        to_address=address,
        record_type=record_type,
        record_id=int(record_id),
        template=template,
        language=composed.language,
        subject=composed.subject,
        body=composed.body,
        provider_template_id=composed.provider_template_id,
        provider_data=composed.provider_data,
        held_reason=decision.reason,
        held_params=decision.params,
        next_attempt_at=decision.defer_until,
        created_by=actor.user if actor is not None else None,
    )
    if not decision.held and decision.defer_until is None:
        message_id = message.pk
        transaction.on_commit(lambda: enqueue_delivery(message_id), robust=True)
    return message


def _visible_message(actor: Actor, message_id: int) -> OutboundMessage:
    from guanxi.platform.channels.selectors import message_get

    return message_get(actor=actor, message_id=message_id)


@transaction.atomic
def message_retry(*, actor: Actor, message_id: int) -> OutboundMessage:
    """Send a failed message again (its attempts start over); the policy is checked again on delivery."""
    message = _visible_message(actor, message_id)
    _check_permissions(actor, message.purpose)
    message = OutboundMessage.objects.select_for_update().get(pk=message.pk)
    if message.status != MessageStatus.FAILED:
        raise Conflict(_("Only a failed message can be sent again."))
    message.status = MessageStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = None
    message.failed_at = None
    message.claim_token, message.claimed_until = "", None
    message.save(
        update_fields=[
            "status",
            "attempts",
            "next_attempt_at",
            "failed_at",
            "claim_token",
            "claimed_until",
            "updated_at",
        ]
    )
    transaction.on_commit(lambda: enqueue_delivery(message.pk), robust=True)
    return message


@transaction.atomic
def message_mark_bounced(
    *, provider_message_id: str = "", message_id: int | None = None, reason: str = "", permanent: bool = True
) -> OutboundMessage | None:
    """An email bounced (called by inbound bounce handling): find it by its Message-ID or id, mark it bounced,
    and for a permanent (hard) bounce block the address for every message. None when no email matches."""
    qs = OutboundMessage.objects.select_for_update().filter(channel=MessageChannel.EMAIL)
    if message_id is not None:
        message = qs.filter(pk=message_id).first()
    elif provider_message_id:
        wanted = provider_message_id.strip()
        message = qs.filter(provider_message_id__in={wanted, f"<{wanted.strip('<>')}>"}).first()
    else:
        message = None
    if message is None:
        return None
    if message.status != MessageStatus.BOUNCED:
        message.status = MessageStatus.BOUNCED
        message.bounced_at = timezone.now()
        message.last_error_code = "bounce" if permanent else "soft_bounce"
        message.last_error = reason[:2000]
        message.save(update_fields=["status", "bounced_at", "last_error_code", "last_error", "updated_at"])
    if permanent:
        suppression, created = Suppression.objects.get_or_create(
            channel=message.channel,
            address=message.to_address,
            defaults={"reason": SuppressionReason.BOUNCED, "source": "bounce"},
        )
        if not created and suppression.reason == SuppressionReason.UNSUBSCRIBED:
            suppression.reason, suppression.source = SuppressionReason.BOUNCED, "bounce"
            suppression.save(update_fields=["reason", "source"])
    return message


@transaction.atomic
def message_record_delivery_report(
    *,
    provider: str,
    provider_message_id: str,
    delivered: bool,
    error_code: str = "",
    error_text: str = "",
    at: dt.datetime | None = None,
) -> OutboundMessage | None:
    """A provider's delivery report: a sent message becomes delivered, or failed with the carrier's code.
    Reports may come twice or out of order; a message already delivered stays delivered."""
    if not provider_message_id:
        return None
    message = (
        OutboundMessage.objects.select_for_update()
        .filter(provider=provider, provider_message_id=provider_message_id)
        .first()
    )
    if message is None:
        return None
    moment = at or timezone.now()
    if delivered and message.status in (MessageStatus.SENT, MessageStatus.FAILED):
        message.status, message.delivered_at, message.failed_at = MessageStatus.DELIVERED, moment, None
        message.save(update_fields=["status", "delivered_at", "failed_at", "updated_at"])
    elif not delivered and message.status == MessageStatus.SENT:
        message.status, message.failed_at = MessageStatus.FAILED, moment
        message.last_error_code, message.last_error = error_code[:100], error_text[:2000]
        message.save(update_fields=["status", "failed_at", "last_error_code", "last_error", "updated_at"])
    return message


@transaction.atomic
def contact_unsubscribe(*, channel: str, address: str, source: str) -> int:
    """Unsubscribe an address from marketing on a channel (a link, a reply keyword such as TD or STOP).

    The address goes on the suppression list, so it stays unsubscribed even when it is entered again later,
    and every recipient source withdraws the consent of its contact points with that address. Returns how
    many contact points changed.
    """
    if channel not in MessageChannel.values:
        raise ValidationFailed.for_field("channel", _("Choose a channel from the list."))
    normalised = normalise_address(channel, address)
    if not normalised:
        raise ValidationFailed.for_field("address", _("Enter an address."))
    Suppression.objects.get_or_create(
        channel=channel,
        address=normalised,
        defaults={"reason": SuppressionReason.UNSUBSCRIBED, "source": source[:100]},
    )
    from guanxi.platform.channels.registry import recipient_sources

    changed = 0
    for registered in recipient_sources().values():
        changed += int(registered.withdraw_consent(channel, normalised, source[:100]) or 0)
    return changed

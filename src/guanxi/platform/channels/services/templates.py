"""Writes of message templates: every text is parsed and its merge fields checked when it is saved."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.platform.audit.history import attribute_history
from guanxi.platform.channels.models import MessageChannel, MessagePurpose, MessageTemplate, OutboundMessage
from guanxi.platform.channels.permissions import MESSAGES_MANAGE_TEMPLATES
from guanxi.platform.channels.registry import recipient_source
from guanxi.platform.channels.rendering import TEXT_FIELDS, text_errors
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.platform.core.text import clean_text
from guanxi.platform.core.versioning import ensure_version
from guanxi.platform.identity.scoping import require_permission

NAME_MAX = 100
SUBJECT_MAX = 300
BODY_MAX: dict[str, int] = {"email": 20_000, "sms": 500, "wechat": 2_000}
PROVIDER_ID_MAX = 100
PARAMS_MAX = 30
PARAM_VALUE_MAX = 500
PARAM_KEY = re.compile(r"^[A-Za-z0-9_]{1,50}$")
TEMPLATE_FIELDS = frozenset(
    {"name", "channel", "purpose", "record_type", *TEXT_FIELDS, "provider_template_id", "provider_params", "is_active"}
)


def clean_body(value: Any) -> str:
    """A message text as typed: line breaks kept, control characters and trailing spaces removed. Chinese
    punctuation is left alone (no full-width to half-width here: it is the text the customer reads)."""
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _clean_params(raw: Any, errors: dict[str, list[str]]) -> dict[str, str]:
    if raw in (None, "", {}):
        return {}
    if not isinstance(raw, Mapping):
        errors["provider_params"] = [_("Send the provider template parameters as an object of names and texts.")]
        return {}
    if len(raw) > PARAMS_MAX:
        errors["provider_params"] = [_("Use at most %(n)s parameters.") % {"n": PARAMS_MAX}]
        return {}
    cleaned: dict[str, str] = {}
    for key, value in raw.items():
        name = str(key).strip()
        if not PARAM_KEY.match(name):
            errors["provider_params"] = [
                _("Parameter “%(name)s”: use up to 50 letters, digits and _.") % {"name": name[:60]}
            ]
            continue
        text = clean_body(value)
        if len(text) > PARAM_VALUE_MAX:
            errors[f"provider_params.{name}"] = [_("Keep it to %(n)s characters or fewer.") % {"n": PARAM_VALUE_MAX}]
        cleaned[name] = text
    return cleaned


def _clean_template(data: Mapping[str, Any], instance: MessageTemplate | None) -> dict[str, Any]:
    unknown = sorted(set(data) - TEMPLATE_FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown field.")] for name in unknown})

    def value(name: str, default: Any = "") -> Any:
        if name in data:
            return data[name]
        return getattr(instance, name) if instance is not None else default

    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    name = clean_text(value("name"))
    if not name:
        errors["name"] = [_("Enter a name.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("Keep it to %(n)s characters or fewer.") % {"n": NAME_MAX}]
    elif MessageTemplate.objects.filter(name__iexact=name).exclude(pk=instance.pk if instance else 0).exists():
        errors["name"] = [_("Another template already has this name.")]
    cleaned["name"] = name
    if instance is None:
        channel, record_type = str(value("channel")), str(value("record_type"))
        if channel not in MessageChannel.values:
            errors["channel"] = [_("Choose a channel from the list.")]
        if recipient_source(record_type) is None:
            errors["record_type"] = [_("Choose a record type from the list.")]
    else:  # fixed once created: messages and merge fields depend on them
        channel, record_type = instance.channel, instance.record_type
    cleaned["channel"], cleaned["record_type"] = channel, record_type
    purpose = str(value("purpose"))
    if purpose not in MessagePurpose.values:
        errors["purpose"] = [_("Choose a purpose from the list.")]
    cleaned["purpose"] = purpose
    for field in TEXT_FIELDS:
        text = clean_body(value(field))
        if field.startswith("subject"):
            text = " ".join(text.split())
            if len(text) > SUBJECT_MAX:
                errors[field] = [_("Keep it to %(n)s characters or fewer.") % {"n": SUBJECT_MAX}]
        elif len(text) > BODY_MAX.get(channel, 20_000):
            errors[field] = [_("Keep it to %(n)s characters or fewer.") % {"n": BODY_MAX.get(channel, 20_000)}]
        cleaned[field] = text
    if not cleaned["body_zh"] and not cleaned["body_en"]:
        errors["body_zh"] = [_("Write the text in Chinese, in English or in both.")]
    if channel == MessageChannel.EMAIL:
        for language in ("zh", "en"):
            if cleaned[f"body_{language}"] and not cleaned[f"subject_{language}"]:
                errors.setdefault(f"subject_{language}", []).append(_("An email needs a subject."))
    provider_template_id = clean_text(value("provider_template_id"))
    params = _clean_params(value("provider_params", {}), errors)
    if channel == MessageChannel.EMAIL and (provider_template_id or params):
        errors["provider_template_id"] = [_("Emails are sent from their own text; leave the provider template empty.")]
    if len(provider_template_id) > PROVIDER_ID_MAX:
        errors["provider_template_id"] = [_("Keep it to %(n)s characters or fewer.") % {"n": PROVIDER_ID_MAX}]
    elif params and not provider_template_id:
        errors["provider_template_id"] = [_("Enter the provider's template ID the parameters belong to.")]
    cleaned["provider_template_id"], cleaned["provider_params"] = provider_template_id, params
    cleaned["is_active"] = bool(value("is_active", True))
    if "record_type" not in errors and "channel" not in errors:
        texts = {field: cleaned[field] for field in TEXT_FIELDS}
        for field, problems in text_errors(texts, record_type).items():
            errors.setdefault(field, []).extend(problems)
        for field, problems in text_errors(params, record_type, prefix="provider_params.").items():
            errors.setdefault(field, []).extend(problems)
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


@transaction.atomic
def message_template_create(*, actor: Actor, data: Mapping[str, Any]) -> MessageTemplate:
    require_permission(actor, MESSAGES_MANAGE_TEMPLATES)
    cleaned = _clean_template(data, None)
    template = MessageTemplate(**cleaned, created_by=actor.user)
    attribute_history(template, actor)
    template.save()
    return template


@transaction.atomic
def message_template_update(
    *, actor: Actor, template_id: int, data: Mapping[str, Any], version: int | None
) -> MessageTemplate:
    """Change a template (channel and record type stay); `version` guards against overwriting a newer save."""
    require_permission(actor, MESSAGES_MANAGE_TEMPLATES)
    template = MessageTemplate.objects.select_for_update().filter(pk=template_id).first()
    if template is None:
        raise NotFound(_("Template not found."))
    ensure_version(template, version)
    cleaned = _clean_template(data, template)
    for name, value in cleaned.items():
        setattr(template, name, value)
    template.bump_version()
    attribute_history(template, actor)
    template.save()
    return template


@transaction.atomic
def message_template_delete(*, actor: Actor, template_id: int) -> None:
    """Delete a template no message was sent from; a used one can only be deactivated (the log links it)."""
    require_permission(actor, MESSAGES_MANAGE_TEMPLATES)
    template = MessageTemplate.objects.select_for_update().filter(pk=template_id).first()
    if template is None:
        raise NotFound(_("Template not found."))
    used = OutboundMessage.objects.filter(template=template).count()
    if used:
        raise Conflict(
            _("This template was used for %(n)s messages; deactivate it instead of deleting it.") % {"n": used}
        )
    attribute_history(template, actor)
    template.delete()

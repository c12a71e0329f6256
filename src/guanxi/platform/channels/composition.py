"""Composing one message for one recipient: pick the language, render the texts with the record's merge
fields, add what the channel needs for unsubscribing. Shared by sending and previewing, so a preview shows
exactly what would be sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.template import TemplateSyntaxError
from django.utils import translation
from django.utils.translation import gettext as _

from guanxi.platform.channels.models import MessageChannel, MessagePurpose, is_chinese
from guanxi.platform.channels.registry import Recipient, RecipientSource
from guanxi.platform.channels.rendering import UNSUBSCRIBE_FIELD, render_text, uses_field
from guanxi.platform.channels.unsubscribe import email_footer, has_sms_keyword, sms_footer, unsubscribe_url
from guanxi.platform.core.errors import ValidationFailed

LINK_PARAM = "url"  # in provider_params: the link a WeChat template message opens, not a template data key


class TemplateTexts(Protocol):
    channel: str
    purpose: str
    subject_zh: str
    body_zh: str
    subject_en: str
    body_en: str
    provider_template_id: str
    provider_params: Any


@dataclass
class TextDraft:
    """Texts that are not (yet) a saved template: a message typed by hand, or a template form being edited."""

    channel: str
    purpose: str
    subject_zh: str = ""
    body_zh: str = ""
    subject_en: str = ""
    body_en: str = ""
    provider_template_id: str = ""
    provider_params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Composed:
    language: str
    subject: str
    body: str
    provider_template_id: str
    provider_data: dict[str, str]


def message_language(recipient_language: str) -> str:
    """ "zh-hans" or "en": the recipient's language, else the installation's."""
    return "zh-hans" if is_chinese(recipient_language or settings.LANGUAGE_CODE) else "en"


def text_language(text: str) -> str:
    """ "zh-hans" for a text with Chinese characters, else "en"."""
    return "zh-hans" if any("\u4e00" <= char <= "\u9fff" for char in text or "") else "en"


def _texts_for(texts: TemplateTexts, language: str) -> tuple[str, str, str, str]:
    """(language, subject field, subject, body) in `language`, or in the other one when it has no text."""
    zh = ("zh-hans", "subject_zh", texts.subject_zh, texts.body_zh)
    en = ("en", "subject_en", texts.subject_en, texts.body_en)
    first, second = (zh, en) if is_chinese(language) else (en, zh)
    return first if (first[3] or first[2]) else second


def _render(text: str, context: dict[str, Any], field_name: str) -> str:
    try:
        return render_text(text, context)
    except TemplateSyntaxError as error:
        token = getattr(error, "token", None)
        line = getattr(token, "lineno", 1) or 1
        raise ValidationFailed.for_field(
            field_name,
            _("Line %(line)s: this cannot be read as a template (%(error)s).") % {"line": line, "error": error},
        ) from None


def compose(
    texts: TemplateTexts,
    *,
    source: RecipientSource,
    record_id: int,
    recipient: Recipient | None,
    purpose: str,
    field_prefix: str = "",
    language: str = "",
) -> Composed:
    """Render `texts` for `recipient` of record `record_id` (in `language` when given, else the recipient's);
    ValidationFailed when a text cannot be rendered."""
    language, subject_field, subject_text, body_text = _texts_for(
        texts, message_language(language or (recipient.language if recipient else ""))
    )
    body_field = subject_field.replace("subject", "body")
    address = recipient.address if recipient else ""
    channel = texts.channel
    with translation.override(language):
        context = dict(source.merge_context(record_id, language))
        context[UNSUBSCRIBE_FIELD] = unsubscribe_url(channel, address) if address else ""
        subject = " ".join(_render(subject_text, context, field_prefix + subject_field).split())
        body = _render(body_text, context, field_prefix + body_field).strip()
        provider_data = {
            str(key): _render(str(value), context, f"{field_prefix}provider_params.{key}").strip()
            for key, value in (texts.provider_params or {}).items()
        }
    if purpose == MessagePurpose.MARKETING and address:
        if channel == MessageChannel.EMAIL and not uses_field(body_text, UNSUBSCRIBE_FIELD):
            body = f"{body}\n\n--\n{email_footer(language, context[UNSUBSCRIBE_FIELD])}"
        elif channel == MessageChannel.SMS and not has_sms_keyword(body):
            footer = sms_footer(language)
            body = f"{body}{footer}" if is_chinese(language) else f"{body} {footer}"
    return Composed(
        language=language,
        subject=subject,
        body=body,
        provider_template_id=texts.provider_template_id or "",
        provider_data=provider_data,
    )

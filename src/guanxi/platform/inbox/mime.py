"""Inbound email: raw RFC 822 messages (IMAP, or the webhook's message/rfc822 body) and the webhook's JSON
payload, turned into drafts with the standard library's email package.

Chinese mail needs care: encoded-word headers (=?UTF-8?B?...?=, =?GBK?Q?...?=), bodies labelled gb2312 that
use GBK characters (read as GB18030, the superset), and raw 8-bit headers that some clients send unencoded.
Delivery status notifications (multipart/report; report-type=delivery-status) are recognised, and the id
of the message that bounced is read from the report.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Iterable, Mapping
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from typing import Any

from django.utils import timezone

from guanxi.platform.core.text import clean_text
from guanxi.platform.inbox.draft import BounceReport, InboundDraft, derived_message_id, verbatim_text
from guanxi.platform.inbox.html_text import html_to_text
from guanxi.platform.inbox.models import InboundChannel, InboundProvider

HEADER_VALUE_MAX = 2000
# Charsets mail clients use for Chinese that GB18030 decodes correctly (it is a superset of them all).
_GB_ALIASES = frozenset({"gb2312", "gbk", "x-gbk", "gb_2312-80", "csgb2312", "euc-cn", "cp936", "ms936", "gb18030"})
_AUTOMATED_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})


class MalformedEmail(ValueError):
    """The payload is not an email we can read (named in the message)."""


def _charset(name: str | None) -> str:
    charset = (name or "utf-8").strip().strip('"').lower()
    return "gb18030" if charset in _GB_ALIASES else charset


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in the declared charset; unknown charsets read as UTF-8; undecodable bytes become U+FFFD."""
    name = _charset(charset)
    try:
        return data.decode(name)
    except LookupError:
        return data.decode("utf-8", errors="replace")
    except UnicodeDecodeError:
        if name == "utf-8":  # mislabelled Chinese mail is common: try GB18030 before giving up
            try:
                return data.decode("gb18030")
            except UnicodeDecodeError:
                pass
        return data.decode(name, errors="replace")


def _has_raw_bytes(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _unescape_raw_header(value: str) -> str:
    """Headers sent as raw 8-bit bytes arrive as surrogate escapes: read them as UTF-8, else GB18030."""
    if not _has_raw_bytes(value):
        return value
    raw = value.encode("utf-8", errors="surrogateescape")
    for charset in ("utf-8", "gb18030"):
        try:
            return raw.decode(charset)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def _raw_header(message: Message, name: str) -> str | None:
    """The header as it came, before the policy parsed it (which garbles raw 8-bit text)."""
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return str(value)
    return None


def header_text(message: Message, name: str) -> str:
    """A header's decoded text ("" when absent or unreadable)."""
    raw = _raw_header(message, name)
    if raw is None:
        return ""
    if _has_raw_bytes(raw):
        return verbatim_text(_unescape_raw_header(raw), multiline=False)[:HEADER_VALUE_MAX]
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # defective headers the parser cannot model
        value = raw
    return verbatim_text(str(value if value is not None else raw), multiline=False)[:HEADER_VALUE_MAX]


def _address(message: Message, name: str) -> tuple[str, str]:
    """(display name, address) of the first address in header `name`."""
    raw = _raw_header(message, name) or ""
    if not _has_raw_bytes(raw):
        try:
            header = message.get(name)
            addresses: Iterable[Address] = getattr(header, "addresses", ()) if header is not None else ()
            first = next(iter(addresses), None)
            if first is not None:
                return clean_text(first.display_name), clean_text(first.addr_spec)
        except (ValueError, IndexError, TypeError):
            pass
    display, address = parseaddr(header_text(message, name))
    return clean_text(display), clean_text(address)


def _all_addresses(message: Message, name: str) -> str:
    pairs = getaddresses([header_text(message, name)])
    return ", ".join(address for _display, address in pairs if address)


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return decode_bytes(payload, part.get_content_charset())


def _is_attachment(part: Message) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    return disposition == "attachment" or (disposition != "inline" and bool(part.get_filename()))


def _body_and_attachments(message: Message) -> tuple[str, list[dict[str, Any]]]:
    """The text part (or the HTML part as text) and the attachments' names and sizes."""
    plain: str | None = None
    html: str | None = None
    attachments: list[dict[str, Any]] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        if _is_attachment(part):
            payload = part.get_payload(decode=True)
            attachments.append(
                {
                    "filename": _unescape_raw_header(part.get_filename() or ""),
                    "content_type": content_type,
                    "size": len(payload) if isinstance(payload, bytes) else 0,
                }
            )
            continue
        if content_type == "text/plain" and plain is None:
            plain = _part_text(part)
        elif content_type == "text/html" and html is None:
            html = _part_text(part)
    if plain is not None and plain.strip():
        return plain.replace("\r\n", "\n").strip(), attachments
    if html is not None:
        return html_to_text(html), attachments
    return "", attachments


def _received_at(message: Message) -> dt.datetime:
    """The Date header, never later than now (clocks are wrong); now when missing or unreadable."""
    now = timezone.now()
    try:
        when = parsedate_to_datetime(header_text(message, "Date"))
    except (TypeError, ValueError, IndexError):
        return now
    if when is None:
        return now
    if timezone.is_naive(when):
        when = timezone.make_aware(when, dt.UTC)
    return min(when, now)


def _is_automated(message: Message) -> bool:
    """Auto-replies, bulk mail and mailer daemons (RFC 3834 Auto-Submitted, Precedence, X-Autoreply)."""
    auto_submitted = header_text(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if header_text(message, "Precedence").lower() in _AUTOMATED_PRECEDENCE:
        return True
    return bool(header_text(message, "X-Autoreply") or header_text(message, "X-Autorespond"))


def _message_id(value: str) -> str:
    return clean_text(value).strip()


def bounce_report(message: Message) -> BounceReport | None:
    """The report of a delivery status notification (RFC 3464), or None for any other message."""
    if message.get_content_type() != "multipart/report":
        return None
    if str(message.get_param("report-type", "")).lower() != "delivery-status":
        return None
    recipients: list[dict[str, str]] = []
    original_id = ""
    envelope_id = ""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            blocks = part.get_payload()
            if isinstance(blocks, list):
                for index, block in enumerate(blocks):
                    if index == 0:
                        envelope_id = header_text(block, "Original-Envelope-Id")
                        continue
                    recipient = header_text(block, "Final-Recipient") or header_text(block, "Original-Recipient")
                    recipients.append(
                        {
                            "recipient": recipient.split(";", 1)[-1].strip(),
                            "action": header_text(block, "Action").lower(),
                            "status": header_text(block, "Status"),
                            "diagnostic": header_text(block, "Diagnostic-Code")[:500],
                        }
                    )
        elif content_type == "message/rfc822" and not original_id:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                original_id = _message_id(header_text(inner[0], "Message-ID"))
        elif content_type == "text/rfc822-headers" and not original_id:
            payload = part.get_payload(decode=True)
            headers = BytesHeaderParser(policy=email.policy.default).parsebytes(
                payload if isinstance(payload, bytes) else b""
            )
            original_id = _message_id(header_text(headers, "Message-ID"))
    return BounceReport(original_message_id=original_id or envelope_id, recipients=tuple(recipients))


def _header_pairs(message: Message) -> list[list[str]]:
    """Every header as [name, decoded text]."""
    pairs = []
    for name, raw in message.raw_items():
        if _has_raw_bytes(str(raw)):
            value = _unescape_raw_header(str(raw))
        else:
            try:
                value = str(message.policy.header_fetch_parse(name, raw))
            except (ValueError, IndexError, TypeError):
                value = str(raw)
        pairs.append([name, verbatim_text(value, multiline=False)[:HEADER_VALUE_MAX]])
    return pairs


def _message_from_bytes(raw: bytes) -> EmailMessage:
    if not raw.strip():
        raise MalformedEmail("the message is empty")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage) or not message.keys():
        raise MalformedEmail("the message has no headers")
    return message


def draft_from_mime(raw: bytes, *, provider: str = InboundProvider.EMAIL_WEBHOOK) -> InboundDraft:
    """A draft from a raw RFC 822 message; MalformedEmail when it has no headers at all."""
    message = _message_from_bytes(raw)
    from_name, from_address = _address(message, "From")
    body, attachments = _body_and_attachments(message)
    message_id = _message_id(header_text(message, "Message-ID")) or derived_message_id(raw)
    return InboundDraft(
        channel=InboundChannel.EMAIL,
        provider=provider,
        provider_message_id=message_id,
        from_raw=from_address,
        from_name=from_name,
        to_address=_all_addresses(message, "To"),
        subject=header_text(message, "Subject"),
        body_text=body,
        received_at=_received_at(message),
        metadata={"headers": _header_pairs(message)},
        attachments=attachments,
        automated=_is_automated(message),
        bounce=bounce_report(message),
    )


def _json_text(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedEmail(f'"{key}" must be text')
    return value


def _json_headers(raw: Any) -> list[list[str]]:
    if raw in (None, ""):
        return []
    if isinstance(raw, Mapping):
        items: Iterable[Any] = raw.items()
    elif isinstance(raw, list):
        items = raw
    else:
        raise MalformedEmail('"headers" must be an object or a list of [name, value] pairs')
    pairs = []
    for item in items:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise MalformedEmail('"headers" must be an object or a list of [name, value] pairs')
        pairs.append([clean_text(str(item[0]))[:200], verbatim_text(str(item[1]), multiline=False)[:HEADER_VALUE_MAX]])
    return pairs


def _json_received_at(raw: Any) -> dt.datetime:
    now = timezone.now()
    if raw in (None, ""):
        return now
    try:
        when = dt.datetime.fromisoformat(str(raw))
    except ValueError:
        raise MalformedEmail('"date" must be an ISO 8601 date and time') from None
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return min(when, now)


def draft_from_json(payload: Any) -> InboundDraft:
    """A draft from the webhook's JSON: from, to, subject, text, html, message_id, headers (and optional
    date, attachments [{filename, content_type, size}])."""
    if not isinstance(payload, Mapping):
        raise MalformedEmail("send a JSON object")
    from_name, from_address = parseaddr(_json_text(payload, "from"))
    if not from_address:
        raise MalformedEmail('"from" is missing')
    text = _json_text(payload, "text")
    html = _json_text(payload, "html")
    body = text.replace("\r\n", "\n").strip() if text.strip() else html_to_text(html)
    headers = _json_headers(payload.get("headers"))
    header_map = {name.lower(): value for name, value in headers}
    message_id = _message_id(_json_text(payload, "message_id") or header_map.get("message-id", ""))
    attachments = payload.get("attachments") or []
    if not isinstance(attachments, list) or not all(isinstance(item, Mapping) for item in attachments):
        raise MalformedEmail('"attachments" must be a list of objects')
    automated = (
        header_map.get("auto-submitted", "no").lower() not in ("", "no")
        or header_map.get("precedence", "").lower() in _AUTOMATED_PRECEDENCE
    )
    return InboundDraft(
        channel=InboundChannel.EMAIL,
        provider=InboundProvider.EMAIL_WEBHOOK,
        provider_message_id=message_id
        or derived_message_id(from_address, payload.get("to"), payload.get("subject"), text, html, payload.get("date")),
        from_raw=clean_text(from_address),
        from_name=clean_text(from_name),
        to_address=clean_text(_json_text(payload, "to")),
        subject=verbatim_text(_json_text(payload, "subject"), multiline=False),
        body_text=body,
        received_at=_json_received_at(payload.get("date")),
        metadata={"headers": headers},
        attachments=[dict(item) for item in attachments],
        automated=automated,
    )

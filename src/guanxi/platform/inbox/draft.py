"""An inbound message as a front door parsed it, before it is stored: the one shape every channel produces.

Front doors (the email webhook, the IMAP poller, the SMS and WeChat webhooks) turn what a provider sent
into an `InboundDraft`; `services.inbound_receive` normalises, limits and stores it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from guanxi.platform.core.emails import normalise_email
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.phones import normalise_phone
from guanxi.platform.core.text import clean_text
from guanxi.platform.inbox.models import InboundChannel

BODY_MAX_CHARS = 100_000
SUBJECT_MAX = 300
NAME_MAX = 200
ADDRESS_MAX = 320
MESSAGE_ID_MAX = 255
METADATA_MAX_BYTES = 32 * 1024
ATTACHMENTS_MAX = 100
WECHAT_ID_MAX = 100


@dataclass(frozen=True)
class BounceReport:
    """What a delivery status notification says: the message that bounced and why."""

    original_message_id: str
    recipients: tuple[dict[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"original_message_id": self.original_message_id, "recipients": list(self.recipients)}


@dataclass
class InboundDraft:
    channel: str
    provider: str
    provider_message_id: str
    from_raw: str
    from_name: str = ""
    to_address: str = ""
    subject: str = ""
    body_text: str = ""
    received_at: dt.datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    automated: bool = False
    bounce: BounceReport | None = None


def verbatim_text(value: str, *, multiline: bool = True) -> str:
    """A sender's words as they wrote them: NFC, control characters removed, spaces tidied, but full-width
    punctuation kept (a Chinese "，" stays "，"; `clean_text` would make it ",")."""
    text = unicodedata.normalize("NFC", value or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    if not multiline:
        return " ".join(text.split())
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(lines).strip()


def derived_message_id(*parts: object) -> str:
    """A stable id for providers that send none: the same delivery retried gives the same id."""
    text = json.dumps([str(part) for part in parts], ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def limited_message_id(raw: str) -> str:
    """A provider's message id as stored: trimmed, and hashed when longer than the column."""
    text = clean_text(raw)
    if len(text) > MESSAGE_ID_MAX:
        return derived_message_id(text)
    return text


def normalise_sender(channel: str, raw: str) -> tuple[str, bool]:
    """The sender's address as contact points store it (email lower-cased, phone E.164, WeChat open id)
    and whether it could be read; an unreadable address is kept as sent, for people to look at."""
    text = clean_text(raw)
    try:
        if channel == InboundChannel.EMAIL:
            return normalise_email(text)[:ADDRESS_MAX], True
        if channel == InboundChannel.SMS:
            return normalise_phone(text).stored, True
    except ValidationFailed:
        return text[:ADDRESS_MAX], False
    open_id = text.replace(" ", "")
    if channel == InboundChannel.WECHAT and open_id and len(open_id) <= WECHAT_ID_MAX:
        return open_id, True
    return text[:ADDRESS_MAX], False


def limited_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Metadata cut to METADATA_MAX_BYTES of JSON: header lists lose their last entries first."""
    data = dict(metadata)

    def size() -> int:
        return len(json.dumps(data, ensure_ascii=False, default=str).encode("utf-8"))

    headers = list(data.get("headers") or [])
    while size() > METADATA_MAX_BYTES and headers:
        headers = headers[: len(headers) // 2] if len(headers) > 1 else []
        data["headers"] = headers
        data["truncated"] = True
    if size() > METADATA_MAX_BYTES:
        data = {key: value for key, value in data.items() if key in ("bounce", "provider")}
        data["truncated"] = True
        if size() > METADATA_MAX_BYTES:
            data = {"truncated": True}
    return data


def limited_attachments(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Names, types and sizes only (files are not kept), at most ATTACHMENTS_MAX."""
    kept = []
    for item in items[:ATTACHMENTS_MAX]:
        kept.append(
            {
                "filename": clean_text(str(item.get("filename") or ""))[:200],
                "content_type": clean_text(str(item.get("content_type") or ""))[:100],
                "size": int(item["size"]) if str(item.get("size", "")).isdigit() else None,
            }
        )
    return kept

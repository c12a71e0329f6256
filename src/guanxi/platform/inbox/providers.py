"""Inbound SMS and WeChat payloads, as the providers document them, turned into drafts; and their checks.

- Aliyun SMS "SmsUp" (上行短信, HTTP batch push): a JSON array of
  {phone_number, send_time, content, sign_name, dest_code, sequence_id}; answer {"code": 0, "msg": ...}.
  Aliyun signs nothing, so the URL carries a shared token.
- Tencent Cloud SMS reply callback (短信回复): a JSON object {extend, mobile, nationcode, sign, text, time};
  answer {"result": 0, "errmsg": "OK"}. Unsigned too: the URL carries a shared token.
- WeChat Official Account (公众号) server messages: GET with signature, timestamp, nonce and echostr to verify
  the URL; POST of XML messages with the same signature in the query string. signature is the SHA-1 of the
  sorted, concatenated [token, timestamp, nonce].
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from guanxi.platform.core.text import clean_text, digits_only
from guanxi.platform.inbox.draft import InboundDraft, derived_message_id
from guanxi.platform.inbox.models import InboundChannel, InboundProvider

CHINA = ZoneInfo("Asia/Shanghai")
MAX_BATCH = 500


class MalformedPayload(ValueError):
    """The payload is not in the provider's documented format (named in the message)."""


def tokens_match(expected: str, given: str) -> bool:
    """A shared secret compared in constant time; an unset secret matches nothing."""
    return bool(expected) and hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def hmac_signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def hmac_signature_valid(secret: str, body: bytes, header: str) -> bool:
    """X-Guanxi-Signature: the hex HMAC-SHA256 of the raw body, optionally written "sha256=<hex>"."""
    if not secret or not header:
        return False
    given = header.strip().removeprefix("sha256=").lower()
    return hmac.compare_digest(hmac_signature(secret, body), given)


def wechat_signature(token: str, timestamp: str, nonce: str) -> str:
    # SHA-1 is what WeChat's server-message protocol prescribes for this signature; we cannot choose another.
    joined = "".join(sorted([token, timestamp, nonce])).encode("utf-8")
    return hashlib.sha1(joined).hexdigest()  # noqa: S324  # nosec B324


def wechat_signature_valid(token: str, *, signature: str, timestamp: str, nonce: str) -> bool:
    if not token or not signature or not timestamp or not nonce:
        return False
    return hmac.compare_digest(wechat_signature(token, timestamp, nonce), signature.strip().lower())


def _china_time(text: str) -> dt.datetime:
    """ "2017-09-01 00:00:00" (or 20170901000000) in China time; now when unreadable; never in the future."""
    now = timezone.now()
    raw = clean_text(text)
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S"):
        try:
            when = dt.datetime.strptime(raw, pattern).replace(tzinfo=CHINA)
        except ValueError:
            continue
        return min(when, now)
    return now


def _unix_time(value: Any) -> dt.datetime:
    now = timezone.now()
    try:
        when = dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return now
    return min(when, now)


def _chinese_mobile(raw: str) -> str:
    """Aliyun sends domestic numbers without a country code ("13812345678")."""
    text = clean_text(raw)
    digits = digits_only(text)
    if text.startswith("+"):
        return text
    if len(digits) == 13 and digits.startswith("86"):
        return f"+{digits}"
    if len(digits) == 11 and digits.startswith("1"):
        return f"+86{digits}"
    return text


def _text(item: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = item.get(key)
    if value is None or value == "":
        if required:
            raise MalformedPayload(f'"{key}" is missing')
        return ""
    if not isinstance(value, (str, int)):
        raise MalformedPayload(f'"{key}" must be text')
    return str(value)


def aliyun_drafts(payload: Any) -> list[InboundDraft]:
    """Drafts from an Aliyun SmsUp push (a JSON array; one push may carry several replies)."""
    if not isinstance(payload, list) or not payload:
        raise MalformedPayload("send a JSON array of SmsUp messages")
    if len(payload) > MAX_BATCH:
        raise MalformedPayload(f"send at most {MAX_BATCH} messages at a time")
    drafts = []
    for item in payload:
        if not isinstance(item, Mapping):
            raise MalformedPayload("each SmsUp message must be a JSON object")
        phone = _text(item, "phone_number")
        content = _text(item, "content", required=False)
        send_time = _text(item, "send_time", required=False)
        sequence_id = _text(item, "sequence_id", required=False)
        dest_code = _text(item, "dest_code", required=False)
        drafts.append(
            InboundDraft(
                channel=InboundChannel.SMS,
                provider=InboundProvider.ALIYUN,
                provider_message_id=sequence_id or derived_message_id(phone, send_time, content, dest_code),
                from_raw=_chinese_mobile(phone),
                to_address=dest_code,
                body_text=content,
                received_at=_china_time(send_time),
                metadata={
                    "provider": {
                        key: str(item[key])[:200]
                        for key in ("phone_number", "send_time", "sign_name", "dest_code", "sequence_id")
                        if key in item
                    }
                },
            )
        )
    return drafts


def tencent_draft(payload: Any) -> InboundDraft:
    """A draft from a Tencent Cloud SMS reply callback (one JSON object)."""
    if not isinstance(payload, Mapping):
        raise MalformedPayload("send the reply as a JSON object")
    mobile = _text(payload, "mobile")
    nationcode = digits_only(_text(payload, "nationcode", required=False)) or "86"
    text = _text(payload, "text", required=False)
    sent_at = payload.get("time")
    extend = _text(payload, "extend", required=False)
    number = clean_text(mobile)
    return InboundDraft(
        channel=InboundChannel.SMS,
        provider=InboundProvider.TENCENT,
        # Tencent sends no message id; a retried callback repeats the same fields.
        provider_message_id=derived_message_id(nationcode, number, sent_at, text, extend),
        from_raw=number if number.startswith("+") else f"+{nationcode}{digits_only(number)}",
        to_address=extend,
        body_text=text,
        received_at=_unix_time(sent_at),
        metadata={
            "provider": {
                key: str(payload[key])[:200]
                for key in ("mobile", "nationcode", "sign", "extend", "time")
                if key in payload
            }
        },
    )


WECHAT_MEDIA_LABELS = {
    "image": "[image]",
    "voice": "[voice]",
    "video": "[video]",
    "shortvideo": "[short video]",
    "location": "[location]",
    "link": "[link]",
    "file": "[file]",
}
_WECHAT_KEPT = (
    "ToUserName", "FromUserName", "CreateTime", "MsgType", "MsgId", "MsgDataId", "Idx", "PicUrl", "MediaId",
    "Format", "Recognition", "Location_X", "Location_Y", "Label", "Title", "Description", "Url", "Event",
)  # fmt: skip


def wechat_draft(fields: Mapping[str, str]) -> InboundDraft | None:
    """A draft from a WeChat server message; None for events (follow, menu clicks), which are not messages."""
    msg_type = clean_text(fields.get("MsgType", "")).lower()
    open_id = clean_text(fields.get("FromUserName", ""))
    if not msg_type or not open_id:
        raise MalformedPayload("FromUserName and MsgType are required")
    if msg_type == "event":
        return None
    if msg_type == "text":
        body = fields.get("Content", "")
    elif msg_type == "voice" and fields.get("Recognition"):
        body = f"{WECHAT_MEDIA_LABELS['voice']} {fields['Recognition']}"
    elif msg_type == "location":
        where = f"{fields.get('Location_X', '')}, {fields.get('Location_Y', '')}"
        body = f"{WECHAT_MEDIA_LABELS['location']} {fields.get('Label', '')} ({where})"
    elif msg_type == "link":
        lines = (fields.get("Title", ""), fields.get("Description", ""), fields.get("Url", ""))
        body = f"{WECHAT_MEDIA_LABELS['link']} " + "\n".join(lines)
    else:
        body = WECHAT_MEDIA_LABELS.get(msg_type, f"[{msg_type}]")
    created = fields.get("CreateTime", "")
    message_id = clean_text(fields.get("MsgId", "")) or derived_message_id(open_id, created, msg_type, body)
    return InboundDraft(
        channel=InboundChannel.WECHAT,
        provider=InboundProvider.WECHAT_MP,
        provider_message_id=message_id,
        from_raw=open_id,
        to_address=clean_text(fields.get("ToUserName", "")),
        body_text=body.strip(),
        received_at=_unix_time(created),
        metadata={"provider": {key: fields[key][:500] for key in _WECHAT_KEPT if key in fields}},
    )

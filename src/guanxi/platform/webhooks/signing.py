"""Signing secrets, the request body and the signature header of a delivery, and checking a signature.

Header: `X-Guanxi-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the secret>`.
The timestamp is part of what is signed, so a receiver that checks it (`tolerance`) refuses replayed requests.
`webhook_signature_verify` is what a receiver written in Python does; docs/user-guide/webhooks.md shows it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "X-Guanxi-Signature"
EVENT_HEADER = "X-Guanxi-Event"
DELIVERY_HEADER = "X-Guanxi-Delivery"
USER_AGENT = "guanxi-webhooks/1"
DEFAULT_TOLERANCE = 300  # seconds


def new_secret() -> str:
    """A fresh signing secret: 32 random bytes from `secrets`, URL-safe, with a recognisable prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _sorted(value: Any) -> Any:
    """`value` with every object's keys sorted, so the body is the same bytes on SQLite and PostgreSQL (jsonb
    does not keep key order)."""
    if isinstance(value, Mapping):
        return {str(key): _sorted(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_sorted(item) for item in value]
    return value


def delivery_body(
    *, delivery_id: int, event: str, event_id: str, occurred_at: str, record_type: str, data: Mapping[str, Any]
) -> bytes:
    """The JSON request body: fixed top-level key order, sorted keys inside `data`, UTF-8, no spaces."""
    document = {
        "id": delivery_id,
        "event": event,
        "event_id": event_id,
        "occurred_at": occurred_at,
        "record_type": record_type,
        "data": _sorted(data),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def webhook_signature(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The X-Guanxi-Signature value for `body` signed now (or at `timestamp`, unix seconds)."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def webhook_signature_verify(
    secret: str, header: str, body: bytes, tolerance: int = DEFAULT_TOLERANCE, *, now: float | None = None
) -> bool:
    """True when `header` (the X-Guanxi-Signature value) signs `body` (the raw bytes received) with `secret`
    and its timestamp is within `tolerance` seconds of now. Any v1 entry may match (room for several)."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    current = time.time() if now is None else now
    if tolerance >= 0 and abs(current - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)

"""The providers' front doors for inbound messages (no user session: CSRF-exempt, authenticated instead by
the provider's signature or a shared token, checked before anything is parsed or stored).

- POST /hooks/inbound/email/                    JSON or raw MIME (message/rfc822); X-Guanxi-Signature: HMAC-SHA256
- POST /hooks/inbound/sms/aliyun/<token>/       Aliyun SmsUp batch push (unsigned by Aliyun: shared token)
- POST /hooks/inbound/sms/tencent/<token>/      Tencent Cloud SMS reply callback (unsigned: shared token)
- GET|POST /hooks/inbound/wechat/               WeChat Official Account server URL (SHA-1 signature)

Bodies are size-limited and read before parsing; a bad signature answers 403 and stores nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.inbox.mime import MalformedEmail, draft_from_json, draft_from_mime
from guanxi.platform.inbox.providers import (
    MalformedPayload,
    aliyun_drafts,
    hmac_signature_valid,
    tencent_draft,
    tokens_match,
    wechat_draft,
    wechat_signature_valid,
)
from guanxi.platform.inbox.safe_xml import UnsafeXml, parse_flat_xml
from guanxi.platform.inbox.services import inbound_receive

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Guanxi-Signature"
SMS_MAX_BYTES = 256 * 1024
WECHAT_MAX_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    pass


def _read_body(request: HttpRequest, limit: int) -> bytes:
    """The raw request body, refusing more than `limit` bytes (whatever Content-Length claims)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise BodyTooLarge
    # Read at most limit + 1 bytes from the stream, unless someone already read the body.
    data = request.body if hasattr(request, "_body") else request.read(limit + 1)
    if len(data) > limit:
        raise BodyTooLarge
    return data


_ERROR_CODES = {400: "bad_request", 403: "forbidden", 413: "too_large", 415: "unsupported_media_type"}


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": _ERROR_CODES.get(status, "error"), "message": message}}, status=status)


def _setting(name: str) -> str:
    return str(getattr(settings, name, "") or "")


@csrf_exempt
@require_POST
def email_webhook(request: HttpRequest) -> HttpResponse:
    """An inbound email as JSON or raw MIME, signed with the shared secret (GUANXI_INBOX_EMAIL_SECRET)."""
    secret = _setting("GUANXI_INBOX_EMAIL_SECRET")
    try:
        body = _read_body(request, int(settings.GUANXI_INBOX_EMAIL_MAX_BYTES))
    except BodyTooLarge:
        return _error(413, "The message is too large.")
    if not hmac_signature_valid(secret, body, request.headers.get(SIGNATURE_HEADER, "")):
        return _error(403, "The signature is missing or wrong.")
    content_type = (request.content_type or "").lower()
    try:
        if content_type == "message/rfc822":
            draft = draft_from_mime(body)
        elif content_type == "application/json":
            try:
                payload = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                return _error(400, "The body is not valid JSON.")
            draft = draft_from_json(payload)
        else:
            return _error(415, "Send application/json or message/rfc822.")
        message, created = inbound_receive(draft=draft)
    except (MalformedEmail, ValidationFailed) as error:
        return _error(400, str(error))
    return JsonResponse(
        {"id": message.pk, "status": message.match_status, "duplicate": not created}, status=201 if created else 200
    )


def _json_body(request: HttpRequest) -> Any:
    return json.loads(_read_body(request, SMS_MAX_BYTES))


@csrf_exempt
@require_POST
def aliyun_sms_webhook(request: HttpRequest, token: str) -> HttpResponse:
    """Aliyun SmsUp batch push; the URL's token must equal GUANXI_INBOX_ALIYUN_SMS_TOKEN."""
    if not tokens_match(_setting("GUANXI_INBOX_ALIYUN_SMS_TOKEN"), token):
        return JsonResponse({"code": 403, "msg": "forbidden"}, status=403)
    try:
        drafts = aliyun_drafts(_json_body(request))
        for draft in drafts:
            inbound_receive(draft=draft)
    except BodyTooLarge:
        return JsonResponse({"code": 413, "msg": "too large"}, status=413)
    except (ValueError, UnicodeDecodeError, MalformedPayload, ValidationFailed) as error:
        return JsonResponse({"code": 400, "msg": str(error)[:200]}, status=400)
    return JsonResponse({"code": 0, "msg": "接收成功"})


@csrf_exempt
@require_POST
def tencent_sms_webhook(request: HttpRequest, token: str) -> HttpResponse:
    """Tencent Cloud SMS reply callback; the URL's token must equal GUANXI_INBOX_TENCENT_SMS_TOKEN."""
    if not tokens_match(_setting("GUANXI_INBOX_TENCENT_SMS_TOKEN"), token):
        return JsonResponse({"result": 403, "errmsg": "forbidden"}, status=403)
    try:
        inbound_receive(draft=tencent_draft(_json_body(request)))
    except BodyTooLarge:
        return JsonResponse({"result": 413, "errmsg": "too large"}, status=413)
    except (ValueError, UnicodeDecodeError, MalformedPayload, ValidationFailed) as error:
        return JsonResponse({"result": 400, "errmsg": str(error)[:200]}, status=400)
    return JsonResponse({"result": 0, "errmsg": "OK"})


def _wechat_signed(request: HttpRequest) -> bool:
    return wechat_signature_valid(
        _setting("GUANXI_INBOX_WECHAT_TOKEN"),
        signature=request.GET.get("signature", ""),
        timestamp=request.GET.get("timestamp", ""),
        nonce=request.GET.get("nonce", ""),
    )


def _plain(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, content_type="text/plain; charset=utf-8", status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def wechat_webhook(request: HttpRequest) -> HttpResponse:
    """The WeChat Official Account server URL: GET echoes `echostr` once the signature checks out; POST
    stores a message and answers "success" (WeChat's "no reply")."""
    if not _wechat_signed(request):
        return _plain("forbidden", status=403)
    if request.method == "GET":
        return _plain(request.GET.get("echostr", ""))
    return _wechat_message(request)


def _wechat_message(request: HttpRequest) -> HttpResponse:
    try:
        fields = parse_flat_xml(_read_body(request, WECHAT_MAX_BYTES))
        if "Encrypt" in fields and "FromUserName" not in fields:
            return _plain("encrypted (safe mode) messages are not supported; use plaintext or compatible mode", 400)
        draft = wechat_draft(fields)
        if draft is not None:
            inbound_receive(draft=draft)
    except BodyTooLarge:
        return _plain("too large", status=413)
    except (UnsafeXml, MalformedPayload, ValidationFailed) as error:
        return _plain(str(error)[:200], status=400)
    return _plain("success")

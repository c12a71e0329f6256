"""Tencent Cloud SMS (API 3.0, version 2021-01-11): the SendSms action signed with TC3-HMAC-SHA256.

OPTIONS: secret_id, secret_key, sdk_app_id (SmsSdkAppId), sign_name, region (default ap-guangzhou), endpoint
(default https://sms.tencentcloudapi.com/), and for messages without a provider template default_template_id
(a generic approved template whose single parameter receives the whole text).

Signing, as Tencent Cloud documents it: CanonicalRequest = METHOD \\n / \\n (empty query) \\n
"content-type:application/json; charset=utf-8\\nhost:<host>\\n" \\n "content-type;host" \\n sha256(body);
StringToSign = "TC3-HMAC-SHA256" \\n timestamp \\n <UTC date>/<service>/tc3_request \\n sha256(CanonicalRequest);
the key is derived HMAC-SHA256("TC3"+secret, date) -> (service) -> ("tc3_request").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from guanxi.platform.channels.backends.base import (
    ChannelBackend,
    OutgoingMessage,
    PermanentError,
    RetryableError,
    SendResult,
)
from guanxi.platform.channels.backends.http import build_client, request_json

API_VERSION = "2021-01-11"
DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com/"
CONTENT_TYPE = "application/json; charset=utf-8"
RETRYABLE_PREFIXES = ("LimitExceeded.", "InternalError.", "RequestLimitExceeded", "ResourceUnavailable")
RETRYABLE_CODES = frozenset(
    {"FailedOperation.InsufficientBalanceInSmsPackage", "InternalError", "RequestLimitExceeded"}
)


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def tc3_authorization(
    *, secret_id: str, secret_key: str, service: str, host: str, payload: bytes, timestamp: int
) -> str:
    """The Authorization header of a POST with a JSON body (TC3-HMAC-SHA256)."""
    date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    canonical_request = "\n".join(
        ["POST", "/", "", f"content-type:{CONTENT_TYPE}\nhost:{host}\n", "content-type;host", _sha256_hex(payload)]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope, _sha256_hex(canonical_request.encode())])
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"


def _error_class(code: str) -> type[RetryableError] | type[PermanentError]:
    if code in RETRYABLE_CODES or code.startswith(RETRYABLE_PREFIXES):
        return RetryableError
    return PermanentError


class TencentSmsBackend(ChannelBackend):
    provider = "tencent_sms"

    def __init__(self, options: dict[str, Any] | None = None, *, client: httpx.Client | None = None, **kwargs: Any):
        super().__init__(options)
        self.client = client

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        template_id = message.provider_template_id or self.option("default_template_id", "")
        if not template_id:
            raise PermanentError(
                "no_template", "Tencent Cloud SMS sends approved templates only: choose a template with a provider ID"
            )
        # TemplateParamSet is positional: the template's parameters in the order of their keys ("1", "2", ...).
        if message.provider_template_id:
            keys = sorted(
                message.provider_data, key=lambda key: (not key.isdigit(), int(key) if key.isdigit() else 0, key)
            )
            params = [str(message.provider_data[key]) for key in keys]
        else:
            params = [message.body]
        return {
            "PhoneNumberSet": [message.to.split(";", 1)[0]],
            "SmsSdkAppId": str(self.required_option("sdk_app_id")),
            "SignName": str(self.required_option("sign_name")),
            "TemplateId": str(template_id),
            "TemplateParamSet": params,
            "SessionContext": str(message.message_id),
        }

    def headers(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        endpoint = str(self.option("endpoint", DEFAULT_ENDPOINT))
        host = urlsplit(endpoint).netloc
        moment = int(timestamp if timestamp is not None else time.time())
        return {
            "Authorization": tc3_authorization(
                secret_id=str(self.required_option("secret_id")),
                secret_key=str(self.required_option("secret_key")),
                service="sms",
                host=host,
                payload=body,
                timestamp=moment,
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Version": API_VERSION,
            "X-TC-Timestamp": str(moment),
            "X-TC-Region": str(self.option("region", "ap-guangzhou")),
        }

    def send(self, message: OutgoingMessage) -> SendResult:
        body = json.dumps(self.payload(message), ensure_ascii=False, separators=(",", ":")).encode()
        headers = self.headers(body)
        client = self.client or build_client()
        try:
            data = request_json(
                client, "POST", str(self.option("endpoint", DEFAULT_ENDPOINT)), content=body, headers=headers
            )
        finally:
            if self.client is None:
                client.close()
        response = data.get("Response") or {}
        error = response.get("Error")
        if error:
            code = str(error.get("Code", "error"))
            raise _error_class(code)(code, str(error.get("Message", "")))
        statuses = response.get("SendStatusSet") or []
        if not statuses:
            raise RetryableError("unexpected_answer", "no SendStatusSet in the answer")
        status = statuses[0]
        code = str(status.get("Code", ""))
        if code == "Ok":
            return SendResult(provider=self.provider, provider_message_id=str(status.get("SerialNo", "")))
        raise _error_class(code)(code or "error", str(status.get("Message", "")))

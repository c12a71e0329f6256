"""Aliyun SMS (dysmsapi, API version 2017-05-25): the SendSms action, RPC style, signature version 1.0.

OPTIONS: access_key_id, access_key_secret, sign_name (the approved 签名), endpoint (default
https://dysmsapi.aliyuncs.com/), region (default cn-hangzhou), and for messages without a provider template
default_template_code + default_template_param (the parameter of a generic approved template that receives
the whole text).

The request is signed as Aliyun documents for RPC APIs: sort every parameter, percent-encode names and values
(RFC 3986: space as %20, ~ unencoded), join them into the canonical query, build
StringToSign = METHOD & percentEncode("/") & percentEncode(canonical query), and sign it with HMAC-SHA1 keyed
with the AccessKey secret followed by "&", base64-encoded.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from typing import Any
from urllib.parse import quote

import httpx

from guanxi.platform.channels.backends.base import (
    ChannelBackend,
    OutgoingMessage,
    PermanentError,
    RetryableError,
    SendResult,
)
from guanxi.platform.channels.backends.http import build_client, request_json

API_VERSION = "2017-05-25"
DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
# Codes worth trying again later: rate limits (流控), balance and provider-side trouble.
RETRYABLE_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "isv.MONTH_LIMIT_CONTROL",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.OUT_OF_SERVICE",
        "isp.SYSTEM_ERROR",
        "isp.GATEWAY_ERROR",
        "SignatureNonceUsed",
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "ServiceUnavailable",
        "InternalError",
    }
)


def percent_encode(value: str) -> str:
    return quote(str(value), safe="~")


def string_to_sign(method: str, params: dict[str, str]) -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical)}"


def sign(method: str, params: dict[str, str], access_key_secret: str) -> str:
    digest = hmac.new(f"{access_key_secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def aliyun_phone(e164: str) -> str:
    """Aliyun takes mainland numbers without a prefix and others with the country code, without "+"."""
    digits = e164.split(";", 1)[0].lstrip("+")
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


class AliyunSmsBackend(ChannelBackend):
    provider = "aliyun_sms"

    def __init__(self, options: dict[str, Any] | None = None, *, client: httpx.Client | None = None, **kwargs: Any):
        super().__init__(options)
        self.client = client

    def request_params(
        self, message: OutgoingMessage, *, timestamp: dt.datetime | None = None, nonce: str | None = None
    ) -> dict[str, str]:
        template_code = message.provider_template_id or self.option("default_template_code", "")
        if not template_code:
            raise PermanentError(
                "no_template", "Aliyun SMS sends approved templates only: choose a template with a provider template ID"
            )
        template_param = dict(message.provider_data)
        if not message.provider_template_id:
            template_param = {str(self.option("default_template_param", "content")): message.body}
        moment = (timestamp or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        params = {
            "AccessKeyId": str(self.required_option("access_key_id")),
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": str(message.message_id),
            "PhoneNumbers": aliyun_phone(message.to),
            "RegionId": str(self.option("region", "cn-hangzhou")),
            "SignName": str(self.required_option("sign_name")),
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce or uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": str(template_code),
            "TemplateParam": json.dumps(template_param, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
        }
        params["Signature"] = sign("POST", params, str(self.required_option("access_key_secret")))
        return params

    def send(self, message: OutgoingMessage) -> SendResult:
        params = self.request_params(message)
        client = self.client or build_client()
        try:
            data = request_json(client, "POST", str(self.option("endpoint", DEFAULT_ENDPOINT)), data=params)
        finally:
            if self.client is None:
                client.close()
        code = str(data.get("Code", ""))
        if code == "OK":
            return SendResult(provider=self.provider, provider_message_id=str(data.get("BizId", "")))
        error_class = RetryableError if code in RETRYABLE_CODES else PermanentError
        raise error_class(code or "unexpected_answer", str(data.get("Message", "")))

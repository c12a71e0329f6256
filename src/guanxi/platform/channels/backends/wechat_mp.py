"""微信公众号 template messages: cgi-bin/token, then message/template/send to a follower's openid.

OPTIONS: app_id, app_secret, endpoint (default https://api.weixin.qq.com), and for messages without a provider
template default_template_id + default_template_key (the data key of a generic approved template that receives
the whole text). The message's provider data become the template's `data` ({"key": {"value": ...}}); the
message link, when there is one, its `url`.
"""

from __future__ import annotations

from typing import Any

import httpx

from guanxi.platform.channels.backends.access_tokens import (
    TOKEN_ERRCODES,
    cached_token,
    forget_token,
    wechat_error,
)
from guanxi.platform.channels.backends.base import ChannelBackend, OutgoingMessage, PermanentError, SendResult
from guanxi.platform.channels.backends.http import build_client, request_json

DEFAULT_ENDPOINT = "https://api.weixin.qq.com"


class WeChatTemplateBackend(ChannelBackend):
    provider = "wechat_mp"

    def __init__(self, options: dict[str, Any] | None = None, *, client: httpx.Client | None = None, **kwargs: Any):
        super().__init__(options)
        self.client = client

    @property
    def endpoint(self) -> str:
        return str(self.option("endpoint", DEFAULT_ENDPOINT)).rstrip("/")

    def token_key(self) -> str:
        return f"guanxi:channels:wechat_mp:{self.required_option('app_id')}"

    def _token(self, client: httpx.Client) -> str:
        params = {
            "grant_type": "client_credential",
            "appid": str(self.required_option("app_id")),
            "secret": str(self.required_option("app_secret")),
        }
        return cached_token(
            self.token_key(), lambda: request_json(client, "GET", f"{self.endpoint}/cgi-bin/token", params=params)
        )

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        template_id = message.provider_template_id or self.option("default_template_id", "")
        if not template_id:
            raise PermanentError("no_template", "WeChat template messages need a template with a provider template ID")
        if message.provider_template_id:
            data = {key: {"value": str(value)} for key, value in message.provider_data.items()}
        else:
            data = {str(self.option("default_template_key", "content")): {"value": message.body}}
        payload: dict[str, Any] = {"touser": message.to, "template_id": str(template_id), "data": data}
        if message.link:
            payload["url"] = message.link
        return payload

    def send(self, message: OutgoingMessage) -> SendResult:
        payload = self.payload(message)
        client = self.client or build_client()
        try:
            data: dict[str, Any] = {}
            for _attempt in range(2):
                token = self._token(client)
                data = request_json(
                    client,
                    "POST",
                    f"{self.endpoint}/cgi-bin/message/template/send",
                    params={"access_token": token},
                    json=payload,
                )
                if int(data.get("errcode", 0) or 0) in TOKEN_ERRCODES:
                    forget_token(self.token_key())
                    continue
                break
        finally:
            if self.client is None:
                client.close()
        errcode = int(data.get("errcode", 0) or 0)
        if errcode != 0:
            raise wechat_error(errcode, str(data.get("errmsg", "")))
        return SendResult(provider=self.provider, provider_message_id=str(data.get("msgid", "")))

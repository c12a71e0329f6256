"""企业微信 (WeCom) application messages: gettoken, then message/send as a text message from an app.

OPTIONS: corp_id, corp_secret (the app's secret), agent_id, endpoint (default https://qyapi.weixin.qq.com).
The address is the member's userid. A recipient that is not a member of the app's visible range comes back in
`invaliduser`; all recipients invalid is errcode 81013 (permanent).
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

DEFAULT_ENDPOINT = "https://qyapi.weixin.qq.com"


class WeComBackend(ChannelBackend):
    provider = "wecom"

    def __init__(self, options: dict[str, Any] | None = None, *, client: httpx.Client | None = None, **kwargs: Any):
        super().__init__(options)
        self.client = client

    @property
    def endpoint(self) -> str:
        return str(self.option("endpoint", DEFAULT_ENDPOINT)).rstrip("/")

    def token_key(self) -> str:
        return f"guanxi:channels:wecom:{self.required_option('corp_id')}:{self.required_option('agent_id')}"

    def _token(self, client: httpx.Client) -> str:
        params = {
            "corpid": str(self.required_option("corp_id")),
            "corpsecret": str(self.required_option("corp_secret")),
        }
        return cached_token(
            self.token_key(), lambda: request_json(client, "GET", f"{self.endpoint}/cgi-bin/gettoken", params=params)
        )

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        content = f"{message.subject}\n{message.body}" if message.subject else message.body
        return {
            "touser": message.to,
            "msgtype": "text",
            "agentid": int(self.required_option("agent_id")),
            "text": {"content": content},
            "safe": 0,
        }

    def send(self, message: OutgoingMessage) -> SendResult:
        client = self.client or build_client()
        try:
            data: dict[str, Any] = {}
            for _attempt in range(2):
                token = self._token(client)
                data = request_json(
                    client,
                    "POST",
                    f"{self.endpoint}/cgi-bin/message/send",
                    params={"access_token": token},
                    json=self.payload(message),
                )
                errcode = int(data.get("errcode", 0) or 0)
                if errcode in TOKEN_ERRCODES:
                    forget_token(self.token_key())
                    continue
                break
        finally:
            if self.client is None:
                client.close()
        errcode = int(data.get("errcode", 0) or 0)
        if errcode != 0:
            raise wechat_error(errcode, str(data.get("errmsg", "")))
        if data.get("invaliduser"):
            raise PermanentError("invaliduser", f"not a member of the app's visible range: {data['invaliduser']}")
        return SendResult(provider=self.provider, provider_message_id=str(data.get("msgid", "")))

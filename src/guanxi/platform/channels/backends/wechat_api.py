"""What the 公众号 and 企业微信 backends share: an access token fetched and cached per account, and a POST that
fetches a fresh token once when WeChat says the cached one expired, then maps WeChat's errcode to an error."""

from __future__ import annotations

from typing import Any

import httpx

from guanxi.platform.channels.backends.access_tokens import TOKEN_ERRCODES, cached_token, forget_token, wechat_error
from guanxi.platform.channels.backends.base import ChannelBackend
from guanxi.platform.channels.backends.http import build_client, request_json


class WeChatApiBackend(ChannelBackend):
    default_endpoint = ""
    token_path = ""

    def __init__(self, options: dict[str, Any] | None = None, *, client: httpx.Client | None = None, **kwargs: Any):
        super().__init__(options)
        self.client = client

    @property
    def endpoint(self) -> str:
        return str(self.option("endpoint", self.default_endpoint)).rstrip("/")

    def token_key(self) -> str:
        raise NotImplementedError

    def token_params(self) -> dict[str, str]:
        raise NotImplementedError

    def _token(self, client: httpx.Client) -> str:
        params = self.token_params()
        return cached_token(
            self.token_key(), lambda: request_json(client, "GET", f"{self.endpoint}{self.token_path}", params=params)
        )

    def post_with_token(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST `payload` with the account's token; raise the mapped error unless WeChat answers errcode 0."""
        client = self.client or build_client()
        try:
            data: dict[str, Any] = {}
            for _attempt in range(2):
                token = self._token(client)
                data = request_json(
                    client, "POST", f"{self.endpoint}{path}", params={"access_token": token}, json=payload
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
        return data

"""微信公众号 template messages: cgi-bin/token, then message/template/send to a follower's openid.

OPTIONS: app_id, app_secret, endpoint (default https://api.weixin.qq.com), and for messages without a provider
template default_template_id + default_template_key (the data key of a generic approved template that receives
the whole text). The message's provider data become the template's `data` ({"key": {"value": ...}}); the
message link, when there is one, its `url`.
"""

from __future__ import annotations

from typing import Any

from guanxi.platform.channels.backends.base import OutgoingMessage, PermanentError, SendResult
from guanxi.platform.channels.backends.wechat_api import WeChatApiBackend

DEFAULT_ENDPOINT = "https://api.weixin.qq.com"


class WeChatTemplateBackend(WeChatApiBackend):
    default_endpoint = DEFAULT_ENDPOINT
    token_path = "/cgi-bin/token"
    provider = "wechat_mp"

    def token_key(self) -> str:
        return f"guanxi:channels:wechat_mp:{self.required_option('app_id')}"

    def token_params(self) -> dict[str, str]:
        return {
            "grant_type": "client_credential",
            "appid": str(self.required_option("app_id")),
            "secret": str(self.required_option("app_secret")),
        }

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
        data = self.post_with_token("/cgi-bin/message/template/send", self.payload(message))
        return SendResult(provider=self.provider, provider_message_id=str(data.get("msgid", "")))

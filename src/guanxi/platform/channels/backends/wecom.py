"""企业微信 (WeCom) application messages: gettoken, then message/send as a text message from an app.

OPTIONS: corp_id, corp_secret (the app's secret), agent_id, endpoint (default https://qyapi.weixin.qq.com).
The address is the member's userid. A recipient that is not a member of the app's visible range comes back in
`invaliduser`; all recipients invalid is errcode 81013 (permanent).
"""

from __future__ import annotations

from typing import Any

from guanxi.platform.channels.backends.base import OutgoingMessage, PermanentError, SendResult
from guanxi.platform.channels.backends.wechat_api import WeChatApiBackend

DEFAULT_ENDPOINT = "https://qyapi.weixin.qq.com"


class WeComBackend(WeChatApiBackend):
    default_endpoint = DEFAULT_ENDPOINT
    token_path = "/cgi-bin/gettoken"
    provider = "wecom"

    def token_key(self) -> str:
        return f"guanxi:channels:wecom:{self.required_option('corp_id')}:{self.required_option('agent_id')}"

    def token_params(self) -> dict[str, str]:
        return {
            "corpid": str(self.required_option("corp_id")),
            "corpsecret": str(self.required_option("corp_secret")),
        }

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
        data = self.post_with_token("/cgi-bin/message/send", self.payload(message))
        if data.get("invaliduser"):
            raise PermanentError("invaliduser", f"not a member of the app's visible range: {data['invaliduser']}")
        return SendResult(provider=self.provider, provider_message_id=str(data.get("msgid", "")))

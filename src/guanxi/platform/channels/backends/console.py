"""A backend that writes each message to standard output (development)."""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

from guanxi.platform.channels.backends.base import ChannelBackend, OutgoingMessage, SendResult

_lock = threading.Lock()


class ConsoleBackend(ChannelBackend):
    provider = "console"

    def __init__(self, options: dict[str, Any] | None = None, *, stream: TextIO | None = None, **kwargs: Any) -> None:
        super().__init__(options)
        self.stream = stream

    def send(self, message: OutgoingMessage) -> SendResult:
        stream = self.stream or sys.stdout
        lines = [
            f"--- {message.channel} message #{message.message_id} to {message.to} ({message.language})",
            *(f"{name}: {value}" for name, value in message.headers.items()),
        ]
        if message.subject:
            lines.append(f"Subject: {message.subject}")
        if message.provider_template_id:
            lines.append(f"Provider template: {message.provider_template_id} {message.provider_data}")
        lines += ["", message.body, "---", ""]
        with _lock:
            stream.write("\n".join(lines))
            stream.flush()
        return SendResult(provider=self.provider, provider_message_id=f"console-{message.message_id}")

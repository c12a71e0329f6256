"""A backend that keeps messages in a list (tests and development), like Django's locmem mail backend.

`outbox` holds every message sent, for every channel. `fail_next(error, times=n)` makes the next n sends
raise `error`, so tests can exercise retries and failures without a provider.
"""

from __future__ import annotations

import threading

from guanxi.platform.channels.backends.base import ChannelBackend, DeliveryError, OutgoingMessage, SendResult

outbox: list[OutgoingMessage] = []
_failures: list[DeliveryError] = []
_lock = threading.Lock()


def fail_next(error: DeliveryError, *, times: int = 1) -> None:
    with _lock:
        _failures.extend([error] * times)


def reset() -> None:
    with _lock:
        outbox.clear()
        _failures.clear()


class MemoryBackend(ChannelBackend):
    provider = "memory"

    def send(self, message: OutgoingMessage) -> SendResult:
        with _lock:
            if _failures:
                raise _failures.pop(0)
            outbox.append(message)
        return SendResult(provider=self.provider, provider_message_id=f"memory-{message.message_id}")

"""What a delivery backend receives, returns and raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OutgoingMessage:
    """One message as a backend sends it: already rendered, addressed and policy-checked."""

    message_id: int
    channel: str
    to: str
    subject: str
    body: str
    language: str
    provider_template_id: str = ""
    provider_data: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    link: str = ""


@dataclass(frozen=True)
class SendResult:
    provider: str
    provider_message_id: str = ""


class DeliveryError(Exception):
    """A failed attempt: `code` is the provider's (or ours), `message` its explanation."""

    retryable = True

    def __init__(self, code: str, message: str = "") -> None:
        self.code = code
        self.message = message or code
        super().__init__(f"{code}: {self.message}")


class RetryableError(DeliveryError):
    retryable = True


class PermanentError(DeliveryError):
    retryable = False


class ChannelBackend:
    """Base of every backend; `provider` names it in the message log."""

    provider = "base"

    def __init__(self, options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.options = dict(options or {})

    def send(self, message: OutgoingMessage) -> SendResult:
        raise NotImplementedError

    def option(self, name: str, default: Any = None) -> Any:
        value = self.options.get(name, default)
        return default if value in (None, "") else value

    def required_option(self, name: str) -> Any:
        value = self.options.get(name)
        if value in (None, ""):
            # A configuration mistake: an administrator can fix it, after which the retries succeed.
            raise RetryableError("not_configured", f"{type(self).__name__} needs the setting OPTIONS[{name!r}]")
        return value

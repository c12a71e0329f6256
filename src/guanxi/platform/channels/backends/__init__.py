"""Delivery backends, one per channel, chosen in settings (`GUANXI_CHANNELS[<channel>]["BACKEND"]`).

Every backend takes an `OutgoingMessage` and returns a `SendResult`, or raises `RetryableError` (try again
later: a timeout, a rate limit, a provider outage) or `PermanentError` (a wrong number, a refused template:
trying again cannot help). Backends that call a provider over HTTP take an `httpx.Client` (tests pass one
built on `httpx.MockTransport`).
"""

from __future__ import annotations

from typing import Any

from django.utils.module_loading import import_string

from guanxi.platform.channels.backends.base import ChannelBackend
from guanxi.platform.channels.conf import backend_settings


def get_backend(channel: str, **kwargs: Any) -> ChannelBackend:
    """A new backend for `channel` as configured in settings."""
    path, options = backend_settings(channel)
    backend_class = import_string(path)
    backend: ChannelBackend = backend_class(options, **kwargs)
    return backend

"""The HTTP client provider adapters use, and the mapping of transport failures to retryable errors.

Adapters take an `httpx.Client` in their constructor. Without one they build their own from
`build_client()`, which uses the transport installed by `use_transport(...)` when there is one: tests run a
whole send through the worker against `httpx.MockTransport` that way.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx

from guanxi.platform.channels.backends.base import PermanentError, RetryableError

DEFAULT_TIMEOUT = 10.0
_transport: httpx.BaseTransport | None = None


@contextlib.contextmanager
def use_transport(transport: httpx.BaseTransport) -> Iterator[None]:
    """Make clients built by `build_client()` inside the block use `transport`."""
    global _transport
    previous, _transport = _transport, transport
    try:
        yield
    finally:
        _transport = previous


def build_client(timeout: float = DEFAULT_TIMEOUT) -> httpx.Client:
    if _transport is not None:
        return httpx.Client(transport=_transport, timeout=timeout)
    return httpx.Client(timeout=timeout)


def request_json(client: httpx.Client, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    """Send one request and return its JSON object; transport failures and 5xx answers are retryable."""
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TimeoutException as error:
        raise RetryableError("timeout", str(error) or "the provider did not answer in time") from error
    except httpx.HTTPError as error:
        raise RetryableError("network_error", str(error) or type(error).__name__) from error
    if response.status_code >= 500 or response.status_code == 429:
        raise RetryableError(f"http_{response.status_code}", response.text[:500])
    try:
        data = response.json()
    except (json.JSONDecodeError, ValueError) as error:
        raise RetryableError(f"http_{response.status_code}", "the provider's answer is not JSON") from error
    if not isinstance(data, dict):
        raise PermanentError("unexpected_answer", response.text[:500])
    return data

"""Sending one webhook request with httpx: timeouts, no redirects, the SSRF guard at connect time, and the
outcome of the attempt (status code, the start of the response body, or why it failed).

The HTTP client comes from a factory that can be swapped (`use_client_factory`), so tests and other
installations can inject their own transport. The default client connects through `GuardedBackend`, which
resolves the host, refuses non-public addresses (unless allowed in settings) and connects to the address it
checked, so a DNS answer that changes between the check and the connection cannot reach an internal host.
Proxies from the environment are not used: a proxy would connect on our behalf, unchecked.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx
from django.conf import settings
from django.utils import timezone

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.webhooks.addresses import AddressNotAllowed, check_url_syntax, checked_addresses
from guanxi.platform.webhooks.models import AttemptError

RESPONSE_READ_BYTES = 8192  # read no more of a response than this
RESPONSE_BODY_CHARS = 2000  # and keep this much of it in the log
ERROR_CHARS = 1000


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's synchronous network backend, connecting only to addresses `checked_addresses` accepts."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = checked_addresses(host, port)
        except AddressNotAllowed:
            raise
        except (OSError, UnicodeError) as error:
            raise httpcore.ConnectError(f"{host}: {error}") from error
        last_error: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
        assert last_error is not None
        raise last_error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("webhooks do not connect to unix sockets")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with its connection pool on `GuardedBackend`."""

    def __init__(self) -> None:
        super().__init__(trust_env=False, retries=0)
        # Replace the pool httpx built with the same kind of pool on the guarded backend (httpcore's public API).
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=True),
            max_connections=10,
            retries=0,
            network_backend=GuardedBackend(),
        )


ClientFactory = Callable[[], httpx.Client]


def build_client() -> httpx.Client:
    """The default client: guarded transport, no environment proxies, no redirects."""
    return httpx.Client(transport=GuardedTransport(), trust_env=False, follow_redirects=False)


_client_factory: ClientFactory = build_client


def current_client_factory() -> ClientFactory:
    return _client_factory


@contextlib.contextmanager
def use_client_factory(factory: ClientFactory) -> Iterator[None]:
    """Send webhooks with clients from `factory` inside the block (tests, or a custom transport)."""
    global _client_factory
    previous = _client_factory
    _client_factory = factory
    try:
        yield
    finally:
        _client_factory = previous


@dataclass(frozen=True)
class AttemptOutcome:
    started_at: dt.datetime
    duration_ms: int
    response_code: int | None = None
    response_body: str = ""
    error_kind: str = ""  # an AttemptError value; empty when the endpoint answered 2xx
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return not self.error_kind


class _DeadlineExceeded(Exception):
    pass


def timeouts() -> tuple[float, float]:
    """(connect, total) seconds from settings: 5 and 10 unless configured."""
    total = float(getattr(settings, "GUANXI_WEBHOOKS_TIMEOUT", 10))
    connect = float(getattr(settings, "GUANXI_WEBHOOKS_CONNECT_TIMEOUT", 5))
    return min(connect, total), total


def _clean_text(text: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL characters.
    return text.replace("\x00", "\ufffd")[:limit]


def _read_start(response: httpx.Response, deadline: float) -> str:
    """The start of the response body, read until RESPONSE_READ_BYTES or the deadline."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= RESPONSE_READ_BYTES:
            break
        if time.monotonic() > deadline:
            raise _DeadlineExceeded()
    raw = b"".join(chunks)[:RESPONSE_READ_BYTES]
    return _clean_text(raw.decode(response.encoding or "utf-8", errors="replace"), RESPONSE_BODY_CHARS)


def _error_text(error: BaseException) -> str:
    detail = str(error) or type(error).__name__
    return _clean_text(f"{type(error).__name__}: {detail}", ERROR_CHARS)


def send_attempt(*, url: str, body: bytes, headers: Mapping[str, str]) -> AttemptOutcome:
    """POST `body` to `url` once and describe what happened; never raises for network or HTTP trouble."""
    started_at = timezone.now()
    start = time.monotonic()
    connect_timeout, total_timeout = timeouts()
    deadline = start + total_timeout

    def outcome(**fields: Any) -> AttemptOutcome:
        duration = int((time.monotonic() - start) * 1000)
        return AttemptOutcome(started_at=started_at, duration_ms=duration, **fields)

    try:
        check_url_syntax(url)
    except ValidationFailed as error:  # the settings changed since the subscription was saved (https only)
        message = (error.fields.get("url") or [error.message])[0]
        return outcome(error_kind=AttemptError.INVALID_URL, error=_clean_text(message, ERROR_CHARS))
    timeout = httpx.Timeout(connect=connect_timeout, read=total_timeout, write=total_timeout, pool=connect_timeout)
    try:
        with _client_factory() as client:
            request = client.build_request("POST", url, content=body, headers=dict(headers), timeout=timeout)
            response = client.send(request, stream=True, follow_redirects=False)
            try:
                text = _read_start(response, deadline)
            finally:
                response.close()
    except AddressNotAllowed as error:
        return outcome(error_kind=AttemptError.BLOCKED_ADDRESS, error=_clean_text(str(error), ERROR_CHARS))
    except (httpx.TimeoutException, _DeadlineExceeded) as error:
        return outcome(error_kind=AttemptError.TIMEOUT, error=_error_text(error))
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
        return outcome(error_kind=AttemptError.INVALID_URL, error=_error_text(error))
    except httpx.HTTPError as error:
        return outcome(error_kind=AttemptError.CONNECTION, error=_error_text(error))
    code = response.status_code
    if 200 <= code < 300:
        return outcome(response_code=code, response_body=text)
    if 300 <= code < 400:
        location = _clean_text(response.headers.get("Location", ""), 300)
        return outcome(
            response_code=code,
            response_body=text,
            error_kind=AttemptError.REDIRECT,
            error=f"HTTP {code} → {location}" if location else f"HTTP {code}",
        )
    return outcome(response_code=code, response_body=text, error_kind=AttemptError.HTTP_STATUS, error=f"HTTP {code}")

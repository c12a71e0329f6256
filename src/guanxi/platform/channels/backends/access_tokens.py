"""WeChat access tokens (企业微信 and 公众号): fetched once, cached until shortly before they expire.

Both APIs answer a stale or replaced token with errcode 40001 / 42001 (/ 40014): the adapter then forgets the
cached token, fetches a new one and tries the call once more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache

from guanxi.platform.channels.backends.base import PermanentError, RetryableError

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
# 企业微信/公众号 errcodes worth trying again later: system busy, rate and frequency limits.
RETRYABLE_ERRCODES = frozenset({-1, 45009, 45011, 45033, 45047, 45058})
SAFETY_SECONDS = 300


def cached_token(key: str, fetch: Callable[[], dict[str, Any]]) -> str:
    token = cache.get(key)
    if token:
        return str(token)
    data = fetch()
    errcode = int(data.get("errcode", 0) or 0)
    if errcode != 0 or not data.get("access_token"):
        raise wechat_error(errcode or -1, str(data.get("errmsg", "no access_token in the answer")))
    expires_in = int(data.get("expires_in", 7200) or 7200)
    cache.set(key, data["access_token"], timeout=max(expires_in - SAFETY_SECONDS, 60))
    return str(data["access_token"])


def forget_token(key: str) -> None:
    cache.delete(key)


def wechat_error(errcode: int, errmsg: str) -> RetryableError | PermanentError:
    error_class = RetryableError if errcode in RETRYABLE_ERRCODES or errcode in TOKEN_ERRCODES else PermanentError
    return error_class(str(errcode), errmsg)

"""Login rate limiting with django-axes: whose attempts count together, and what a locked-out person sees.

django-axes counts failed sign-ins per (user name, client IP address) and refuses further attempts
for `AXES_COOLOFF_TIME` after `AXES_FAILURE_LIMIT` failures. This module supplies the three hooks the
settings name: the user name (case-insensitive, so "Admin" and "admin" share one counter), the client
address (REMOTE_ADDR, or the address the trusted reverse proxies saw), and the response of a locked-out
attempt (the login page with a translated explanation, status 429). API tokens never pass through
`authenticate()`, so they are not affected.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext

LOCKED_OUT_STATUS = 429


def attempted_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The user name an attempt was made for, lower-cased and trimmed so case variants share a counter."""
    if credentials and credentials.get("username") is not None:
        raw = credentials.get("username")
    else:
        raw = request.POST.get("username", "") if request.method == "POST" else ""
    return str(raw or "").strip().lower()


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with N trusted proxies the N-th address from the right of
    X-Forwarded-For (the one the outermost trusted proxy saw). Addresses a client wrote itself are ignored."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = int(getattr(settings, "GUANXI_TRUSTED_PROXY_COUNT", 0))
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]


def cooloff_minutes() -> int:
    """The lock-out period in whole minutes (rounded up), for messages."""
    return max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def lockout_message() -> str:
    minutes = cooloff_minutes()
    return ngettext(
        "Too many failed sign-in attempts. Sign-in for this user name from this computer is locked for "
        "%(minutes)s minute. Try again later, or ask an administrator to unlock it.",
        "Too many failed sign-in attempts. Sign-in for this user name from this computer is locked for "
        "%(minutes)s minutes. Try again later, or ask an administrator to unlock it.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The login page again, with the lock-out explained instead of "wrong password" (status 429)."""
    form = AuthenticationForm(request, initial={"username": attempted_username(request, credentials)})
    context = {"form": form, "next": request.POST.get("next", ""), "lockout_message": lockout_message()}
    return render(request, "ui/pages/login.html", context, status=LOCKED_OUT_STATUS)

"""The life of a signed-in browser session: idle and absolute timeouts, and the two-factor gate.

- A session ends after `GUANXI_SESSION_IDLE_SECONDS` without a request from the person (background
  polls such as the notification bell send `X-Guanxi-Background: 1` and do not count), and
  `GUANXI_SESSION_MAX_SECONDS` after signing in, whatever the activity. The last activity is written to
  the session at most once a minute, so an ordinary page costs no session write.
- A user with two-factor authentication is signed in by the password, but until the code is entered
  (`user.is_verified()`, django-otp) the session reaches only the code page, sign-out and the language
  switch. With `GUANXI_REQUIRE_2FA_FOR_ADMINS`, an administrator without a second factor reaches only
  the set-up page. API requests on such a session are refused by the API's session authentication.

Django rotates the session key on sign-in; the code page rotates it again once the code is accepted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from guanxi.platform.identity.two_factor import two_factor_required_for, user_has_two_factor

SIGNED_IN_AT_KEY = "guanxi_signed_in_at"
LAST_ACTIVITY_KEY = "guanxi_last_activity"
TWO_FACTOR_KEY = "guanxi_two_factor"
TWO_FACTOR_ATTEMPTS_KEY = "guanxi_two_factor_attempts"
SIGNED_OUT_REASON_KEY = "guanxi_signed_out_reason"
BACKGROUND_HEADER = "HTTP_X_GUANXI_BACKGROUND"
ACTIVITY_WRITE_INTERVAL = 60

TWO_FACTOR_ON = "on"
TWO_FACTOR_OFF = "off"

SignedOutReason = Literal["idle", "expired", "two_factor_attempts"]
PendingStep = Literal["verify", "enrol"]

# The views a session that still owes its second factor may reach.
VERIFY_VIEWS = frozenset({"identity:two_factor_verify", "ui:logout", "set_language"})
ENROL_VIEWS = frozenset({"identity:two_factor", "identity:two_factor_setup", "ui:logout", "set_language"})


def _now() -> int:
    return int(time.time())


def session_begin(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """On sign-in (`user_logged_in`): start the clocks and note whether a second factor is owed."""
    if request is None or not hasattr(request, "session"):
        return
    now = _now()
    request.session[SIGNED_IN_AT_KEY] = now
    request.session[LAST_ACTIVITY_KEY] = now
    request.session[TWO_FACTOR_KEY] = TWO_FACTOR_ON if user_has_two_factor(user) else TWO_FACTOR_OFF
    request.session.pop(TWO_FACTOR_ATTEMPTS_KEY, None)


def session_end(request: HttpRequest, reason: SignedOutReason) -> None:
    """Sign out and remember why, so the login page can say so."""
    logout(request)
    request.session[SIGNED_OUT_REASON_KEY] = reason


def pop_signed_out_reason(request: HttpRequest) -> str:
    return str(request.session.pop(SIGNED_OUT_REASON_KEY, "") or "")


def note_two_factor_state(request: HttpRequest, *, on: bool) -> None:
    """After turning two-factor authentication on or off in this session."""
    request.session[TWO_FACTOR_KEY] = TWO_FACTOR_ON if on else TWO_FACTOR_OFF


def pending_step(request: HttpRequest) -> PendingStep | None:
    """What a signed-in session still owes: the code ("verify"), the set-up ("enrol"), or nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    state = request.session.get(TWO_FACTOR_KEY)
    if state is None:  # a session begun before this check existed
        state = TWO_FACTOR_ON if user_has_two_factor(user) else TWO_FACTOR_OFF
        request.session[TWO_FACTOR_KEY] = state
    if state == TWO_FACTOR_ON:
        verified = getattr(user, "is_verified", None)
        return None if verified is not None and verified() else "verify"
    if two_factor_required_for(user):
        return "enrol"
    return None


def count_failed_code(request: HttpRequest) -> bool:
    """Count a wrong code at sign-in; True when the limit is reached and the session was ended."""
    attempts = int(request.session.get(TWO_FACTOR_ATTEMPTS_KEY, 0)) + 1
    if attempts >= int(settings.GUANXI_2FA_MAX_ATTEMPTS):
        session_end(request, "two_factor_attempts")
        return True
    request.session[TWO_FACTOR_ATTEMPTS_KEY] = attempts
    return False


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that htmx follows with a full page load instead of swapping the target page in."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


class SessionIdleMiddleware:
    """Ends sessions that were idle, or signed in, for too long (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ended = self._check(request)
            if ended and request.headers.get("HX-Request"):
                return _redirect(request, reverse("ui:login"))
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> bool:
        now = _now()
        session = request.session
        last = session.get(LAST_ACTIVITY_KEY)
        signed_in_at = session.get(SIGNED_IN_AT_KEY)
        if last is None or signed_in_at is None:  # a session begun before these clocks existed
            session[LAST_ACTIVITY_KEY] = session[SIGNED_IN_AT_KEY] = now
            return False
        if now - int(signed_in_at) > int(settings.GUANXI_SESSION_MAX_SECONDS):
            session_end(request, "expired")
            return True
        if now - int(last) > int(settings.GUANXI_SESSION_IDLE_SECONDS):
            session_end(request, "idle")
            return True
        if request.META.get(BACKGROUND_HEADER) != "1" and now - int(last) >= ACTIVITY_WRITE_INTERVAL:
            session[LAST_ACTIVITY_KEY] = now
        return False


class TwoFactorGateMiddleware:
    """Keeps a session that owes its second factor on the code page (or the set-up page)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if request.path_info.startswith("/api/"):
            return None  # the API's session authentication refuses such sessions itself
        step = pending_step(request)
        if step is None:
            return None
        match = request.resolver_match
        view_name = match.view_name if match is not None else ""
        allowed = VERIFY_VIEWS if step == "verify" else ENROL_VIEWS
        if view_name in allowed:
            return None
        target = reverse("identity:two_factor_verify" if step == "verify" else "identity:two_factor_setup")
        if request.method == "GET" and not request.headers.get("HX-Request"):
            target = f"{target}?{urlencode({'next': request.get_full_path()})}"
        return _redirect(request, target)

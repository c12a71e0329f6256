"""API authentication: personal API tokens (Bearer) and signed-in browser sessions; both yield an Actor."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.api import CsrfFailed
from guanxi.platform.identity.preferences import activate_user_preferences
from guanxi.platform.identity.services import actor_for_token, api_token_authenticate
from guanxi.platform.identity.session_security import pending_step


class TokenAuth(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        # Messages and naive times follow the token user's settings, as on the user's own pages.
        activate_user_preferences(request, api_token.user)
        return actor_for_token(api_token)


class SessionActorAuth(APIKeyCookie):
    """Signed-in browser sessions; unsafe methods need the CSRF token like any form. A session that still
    owes its two-factor code (or an administrator's two-factor set-up) is not signed in for the API."""

    param_name = "sessionid"

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        # The CSRF check waits for authenticate(): a request without a session gets 401, not 403.
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or pending_step(request) is not None:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise CsrfFailed()
        return Actor(user=user, channel="api")

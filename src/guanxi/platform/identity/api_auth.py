"""API authentication: personal API tokens (Bearer) and signed-in browser sessions; both yield an Actor."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from guanxi.platform.core.actors import Actor
from guanxi.platform.identity.services import actor_for_token, api_token_authenticate


class TokenAuth(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        return actor_for_token(api_token)


class SessionActorAuth(APIKeyCookie):
    """Signed-in browser sessions; unsafe methods need the CSRF token like any form."""

    param_name = "sessionid"

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return Actor(user=user, channel="api")
        return None

"""Activate the signed-in user's language and time zone for the request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from guanxi.platform.identity.preferences import activate_user_preferences


class UserPreferencesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            activate_user_preferences(request, user)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

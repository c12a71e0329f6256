"""A user's language and time zone: activated for each of their requests (pages and API calls alike), and
the time zone their "today" and their reminders are computed in."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone, translation


def user_time_zone(user: Any) -> dt.tzinfo:
    """The user's own time zone, else the company's (settings.TIME_ZONE, Asia/Shanghai by default)."""
    for name in (getattr(user, "time_zone", ""), settings.TIME_ZONE, "Asia/Shanghai"):
        if name:
            try:
                return zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return dt.UTC


def activate_user_preferences(request: HttpRequest, user: Any) -> None:
    """The user's language (when they chose one; otherwise the browser's stays) and time zone.

    Called by UserPreferencesMiddleware for browser sessions and by the API's token authentication (which
    runs inside the middleware; the middleware resets the time zone when the response is done).
    """
    if user.language:
        translation.activate(user.language)
        request.LANGUAGE_CODE = user.language
    if user.time_zone:
        timezone.activate(user_time_zone(user))

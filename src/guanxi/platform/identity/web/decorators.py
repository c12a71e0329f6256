"""A view decorator for settings pages: signed in, and holding a permission (403 page otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from guanxi.platform.identity.scoping import require_permission
from guanxi.platform.ui.actors import actor_from_request

View = Callable[..., HttpResponse]


def permission_required_page(code: str) -> Callable[[View], View]:
    """Send anonymous visitors to the login page and refuse (403) users without permission `code`."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            require_permission(actor_from_request(request), code)
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorate

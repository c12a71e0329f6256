"""Template context every page needs: the navigation the user may see and the CSP nonce for scripts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from guanxi.platform.identity.scoping import has_permission
from guanxi.platform.ui.registry import nav_items


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    path = request.path

    def visible(section: str) -> list[dict[str, Any]]:
        items = []
        for item in nav_items(section):
            if item.permission and not has_permission(user, item.permission):
                continue
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:  # a feature whose pages are not mounted in this build
                continue
            items.append(
                {"label": item.label, "url": url, "active": path.startswith(url) and url != "/", "code": item.code}
            )
        return items

    return {"nav_main": visible("main"), "nav_settings": visible("settings")}


def csp_nonce(request: HttpRequest) -> dict[str, Any]:
    """This response's Content-Security-Policy nonce as `csp_nonce`, the name django-htmx's script tag reads.

    The value stays lazy: a nonce is made (and put in the header) only when a template prints it.
    """
    nonce = getattr(request, "csp_nonce", None)
    return {"csp_nonce": nonce} if nonce is not None else {}

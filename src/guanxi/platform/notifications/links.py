"""The links notifications carry: only paths inside guanxi are followed, and emails get absolute links.

A notification's `url` is set by the app that sends it (a customer page, a task). The bell and the
"open" view follow it only when it is a local path, so a notification can never send someone to another site;
emails turn local paths into absolute links on `settings.GUANXI_BASE_URL`.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme


def local_path(url: str) -> str | None:
    """`url` when it is a path on this site ("/customers/7/"), else None (other sites, "//host", schemes)."""
    url = (url or "").strip()
    if not url.startswith("/") or url.startswith(("//", "/\\")):
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in url):
        return None
    if not url_has_allowed_host_and_scheme(url, allowed_hosts=None, require_https=False):
        return None
    return url


def absolute_url(path: str) -> str:
    """A local path as an absolute link for emails: GUANXI_BASE_URL + path."""
    base = str(getattr(settings, "GUANXI_BASE_URL", "") or "http://127.0.0.1:8000").rstrip("/")
    return f"{base}{path}"

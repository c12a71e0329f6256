"""The notifications pages: the list (all or unread, page by page), the bell's badge and panel, opening one
(marks it read and follows its link when that stays inside guanxi), marking read, and the preferences page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.notifications import selectors, services
from guanxi.platform.notifications.links import local_path
from guanxi.platform.notifications.models import Notification
from guanxi.platform.notifications.registry import notification_types
from guanxi.platform.ui.actors import actor_from_request

PAGE_SIZE = 25
CHANGED_EVENT = "notifications-changed"  # the badge listens for it and reloads its count
HOURS = list(range(24))


def _changed(response: HttpResponse) -> HttpResponse:
    response["HX-Trigger"] = CHANGED_EVENT
    return response


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """Back to the page that posted (a `next` path on this site), else the notifications list."""
    target = request.POST.get("next", "")
    if target and local_path(target) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(target)
    return redirect("notifications:list")


@login_required
@require_GET
def notifications_page(request: HttpRequest) -> HttpResponse:
    """All or only unread notifications, newest first, one page at a time (keyset: fixed query count)."""
    unread_only = request.GET.get("filter") == "unread"
    cursor = request.GET.get("cursor") or None
    kept = {"filter": "unread"} if unread_only else {}
    try:
        page = selectors.notification_page(
            actor=actor_from_request(request), unread_only=unread_only, cursor=cursor, limit=PAGE_SIZE
        )
    except ValidationFailed:  # a broken or outdated page link: start again from the first page
        return redirect(f"{reverse('notifications:list')}?{urlencode(kept)}" if kept else "notifications:list")
    context = {
        "items": page.items,
        "unread_only": unread_only,
        "next_query": urlencode({**kept, "cursor": page.next_cursor}) if page.next_cursor else "",
        "first_query": urlencode(kept) if cursor else None,
        "current_path": request.get_full_path(),
    }
    return render(request, "notifications/pages/list.html", context)


@login_required
@require_GET
def badge(request: HttpRequest) -> HttpResponse:
    count = selectors.notification_unread_count(actor=actor_from_request(request))
    return render(request, "notifications/partials/badge.html", {"count": count})


def _render_panel(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    context = {
        "items": selectors.notification_latest(actor=actor),
        "unread": selectors.notification_unread_count(actor=actor),
    }
    return render(request, "notifications/partials/panel.html", context)


@login_required
@require_GET
def panel(request: HttpRequest) -> HttpResponse:
    """The bell's drop-down: the latest notifications, "mark all read" and links to the list and settings."""
    return _render_panel(request)


@login_required
@require_GET
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark the notification read and follow its link; a link to another site is never followed."""
    notification = services.notification_mark_read(actor=actor_from_request(request), notification_id=notification_id)
    target = local_path(notification.url)
    if target:
        return HttpResponseRedirect(target)
    if notification.url:
        messages.warning(request, _("This notification links outside guanxi, so it was not opened."))
    return redirect("notifications:list")


def _render_row(request: HttpRequest, notification: Notification) -> HttpResponse:
    return render(
        request,
        "notifications/partials/row.html",
        {"n": notification, "current_path": request.POST.get("next", "")},
    )


@login_required
@require_POST
def mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read; htmx gets the updated row (or the bell's panel), others go back."""
    notification = services.notification_mark_read(actor=actor_from_request(request), notification_id=notification_id)
    if request.htmx:  # type: ignore[attr-defined]
        if request.POST.get("from") == "panel":
            return _changed(_render_panel(request))
        return _changed(_render_row(request, notification))
    return _back(request)


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.notification_mark_all_read(actor=actor_from_request(request))
    if request.htmx:  # type: ignore[attr-defined]
        return _changed(_render_panel(request))
    if count:
        messages.success(request, _("All notifications are marked as read."))
    return _back(request)


def _posted_types(request: HttpRequest) -> list[dict[str, Any]]:
    """Every registered type's three check boxes (an unticked box is not posted: False)."""
    return [
        {
            "kind": spec.code,
            "in_app": f"in_app:{spec.code}" in request.POST,
            "email": f"email:{spec.code}" in request.POST,
            "digest": f"digest:{spec.code}" in request.POST,
        }
        for spec in notification_types()
    ]


def _posted_hour(request: HttpRequest) -> int | None:
    """The digest hour as posted; anything but a whole number is -1, which the service refuses."""
    raw = request.POST.get("digest_hour", "").strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() and len(raw) <= 2 else -1


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """Each notification type in the app / by email / in the daily digest, and the digest's hour."""
    actor = actor_from_request(request)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.notification_preferences_save(
                actor=actor,
                types=_posted_types(request),
                digest_enabled="digest_enabled" in request.POST,
                digest_hour=_posted_hour(request),
            )
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notifications:preferences")
    prefs = selectors.notification_preferences(actor=actor)
    status = 422 if errors else 200
    return render(
        request,
        "notifications/pages/preferences.html",
        {"prefs": prefs, "errors": errors, "hour_errors": errors.get("digest.hour", []), "hours": HOURS},
        status=status,
    )

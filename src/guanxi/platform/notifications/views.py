"""The notifications page and the unread badge polled by the bell."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from guanxi.platform.notifications.services import (
    notification_list,
    notification_mark_all_read,
    notification_unread_count,
)
from guanxi.platform.ui.actors import actor_from_request


@login_required
def notifications_page(request: HttpRequest) -> HttpResponse:
    items = list(notification_list(actor=actor_from_request(request))[:100])
    return render(request, "notifications/pages/list.html", {"items": items})


@login_required
def badge(request: HttpRequest) -> HttpResponse:
    count = notification_unread_count(actor=actor_from_request(request))
    return render(request, "notifications/partials/badge.html", {"count": count})


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    notification_mark_all_read(actor=actor_from_request(request))
    return redirect("notifications:list")

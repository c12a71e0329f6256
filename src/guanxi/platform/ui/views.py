"""Shell pages: login, the workbench (工作台) assembled from registered panels, preferences."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.identity.models import User
from guanxi.platform.identity.services import user_set_preferences
from guanxi.platform.ui.actors import actor_from_request
from guanxi.platform.ui.registry import workbench_panels


class LoginView(auth_views.LoginView):
    template_name = "ui/pages/login.html"
    redirect_authenticated_user = True


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    panels = [
        {"code": panel.code, "template": panel.template, **panel.context(request)} for panel in workbench_panels()
    ]
    return render(request, "ui/pages/workbench.html", {"panels": panels})


COMMON_TIME_ZONES = [
    "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Asia/Seoul",
    "Europe/London", "Europe/Berlin", "Europe/Paris", "America/New_York", "America/Los_Angeles", "UTC",
]  # fmt: skip


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            user = user_set_preferences(
                actor=actor_from_request(request),
                language=request.POST.get("language", ""),
                time_zone=request.POST.get("time_zone", ""),
            )
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            language = user.language or translation.get_language_from_request(request)
            translation.activate(language)
            response = redirect("ui:preferences")
            response.set_cookie("django_language", language, samesite="Lax")
            messages.success(request, _("Your preferences are saved."))
            return response
    all_zones = sorted(zoneinfo.available_timezones())
    return render(
        request,
        "ui/pages/preferences.html",
        {
            "languages": User.Language.choices,
            "common_zones": COMMON_TIME_ZONES,
            "all_zones": all_zones,
            "errors": errors,
        },
        status=422 if errors else 200,
    )

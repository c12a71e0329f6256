"""Shell pages: login, the workbench (工作台) assembled from registered panels, preferences."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.identity.models import User
from guanxi.platform.identity.services import user_set_preferences
from guanxi.platform.identity.session_security import pop_signed_out_reason
from guanxi.platform.ui.actors import actor_from_request
from guanxi.platform.ui.registry import workbench_panels


def signed_out_message(reason: str) -> str:
    """Why the previous session ended, for the login page ("" when the person signed out themselves)."""
    return {
        "idle": _("You were signed out after a period without activity. Please sign in again."),
        "expired": _("Your session has ended; please sign in again."),
        "two_factor_attempts": _("Too many wrong codes. Please sign in again."),
    }.get(reason, "")


class LoginView(auth_views.LoginView):
    """Password sign-in; django-axes counts failures (a lock-out renders this page with status 429), and a
    user with two-factor authentication continues on the code page (see identity/session_security.py)."""

    template_name = "ui/pages/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["signed_out_message"] = signed_out_message(pop_signed_out_reason(self.request))
        return context


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    panels = [
        {"code": panel.code, "template": panel.template, **panel.context(request)} for panel in workbench_panels()
    ]
    return render(request, "ui/pages/workbench.html", {"panels": panels})


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """The sidebar's language select. Django's set_language sets the cookie, but a language saved in the
    user's preferences wins over the cookie, so for such a user the saved language is changed as well."""
    language = request.POST.get("language", "")
    user = request.user
    if isinstance(user, User) and user.language and language != user.language and language in User.Language.values:
        user_set_preferences(actor=actor_from_request(request), language=language, time_zone=user.time_zone)
    return set_language(request)


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

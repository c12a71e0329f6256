"""Pages of two-factor authentication: the user's security page (set up, turn off, new recovery codes),
the code page at sign-in, and an administrator's reset on the user page. They call `two_factor` services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from guanxi.platform.core.errors import Conflict, PermissionDenied, ValidationFailed
from guanxi.platform.identity import selectors, two_factor
from guanxi.platform.identity.permissions import IDENTITY_MANAGE
from guanxi.platform.identity.session_security import (
    TWO_FACTOR_ATTEMPTS_KEY,
    count_failed_code,
    note_two_factor_state,
    pending_step,
)
from guanxi.platform.identity.web.decorators import permission_required_page
from guanxi.platform.ui.actors import actor_from_request
from guanxi.platform.ui.forms import add_domain_errors
from guanxi.platform.ui.pages import render_form_page


class CodeForm(forms.Form):
    code = forms.CharField(
        label=pgettext_lazy("two-factor", "Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}),
    )


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _codes_page(request: HttpRequest, codes: list[str]) -> HttpResponse:
    """The recovery codes, shown on this response only and never cached."""
    return _no_store(render(request, "identity/pages/two_factor_codes.html", {"codes": codes}))


@login_required
def two_factor_page(request: HttpRequest) -> HttpResponse:
    """The user's security page: whether two-factor authentication is on, with the forms to manage it."""
    user = request.user
    enabled = two_factor.user_has_two_factor(user)  # type: ignore[arg-type]
    context: dict[str, Any] = {
        "enabled": enabled,
        "codes_left": two_factor.recovery_codes_left(user) if enabled else 0,  # type: ignore[arg-type]
        "required": two_factor.two_factor_required_for(user),  # type: ignore[arg-type]
        "disable_form": CodeForm(prefix="disable"),
        "renew_form": CodeForm(prefix="renew"),
    }
    return render(request, "identity/pages/two_factor.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Scan the QR code (or type the secret), then confirm with the first code; shows the recovery codes."""
    actor = actor_from_request(request)
    try:
        enrolment = two_factor.two_factor_start(actor=actor)
    except Conflict as exc:
        messages.info(request, exc.message)
        return redirect("identity:two_factor")
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = two_factor.two_factor_confirm(actor=actor, code=form.cleaned_data["code"])
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
        else:
            otp_login(request, device)
            note_two_factor_state(request, on=True)
            request.session.cycle_key()
            messages.success(request, _("Two-factor authentication is on."))
            return _codes_page(request, codes)
    forced = pending_step(request) == "enrol"
    context = {"form": form, "enrolment": enrolment, "forced": forced, "bare_layout": forced}
    return _no_store(render_form_page(request, "identity/pages/two_factor_setup.html", context, form=form))


@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST, prefix="disable")
    if form.is_valid():
        try:
            two_factor.two_factor_disable(actor=actor_from_request(request), code=form.cleaned_data["code"])
        except (ValidationFailed, PermissionDenied, Conflict) as exc:
            messages.error(request, "; ".join(exc.fields.get("code", [])) or exc.message)
        else:
            note_two_factor_state(request, on=False)
            messages.success(request, _("Two-factor authentication is off."))
    else:
        messages.error(request, _("Enter the code."))
    return redirect("identity:two_factor")


@login_required
@require_POST
def two_factor_recovery_codes(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST, prefix="renew")
    if form.is_valid():
        try:
            codes = two_factor.two_factor_recovery_codes_renew(
                actor=actor_from_request(request), code=form.cleaned_data["code"]
            )
        except (ValidationFailed, Conflict) as exc:
            messages.error(request, "; ".join(exc.fields.get("code", [])) or exc.message)
        else:
            return _codes_page(request, codes)
    else:
        messages.error(request, _("Enter the code."))
    return redirect("identity:two_factor")


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return target if target and allowed else str(settings.LOGIN_REDIRECT_URL)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: the code from the app, or a recovery code."""
    if pending_step(request) != "verify":
        return redirect(_safe_next(request))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.two_factor_verify(user=request.user, code=form.cleaned_data["code"])  # type: ignore[arg-type]
        except ValidationFailed as exc:
            if count_failed_code(request):
                return redirect("ui:login")
            add_domain_errors(form, exc)
        else:
            otp_login(request, device)
            request.session.pop(TWO_FACTOR_ATTEMPTS_KEY, None)
            request.session.cycle_key()
            return redirect(_safe_next(request))
    context = {"form": form, "next": request.POST.get("next") or request.GET.get("next", ""), "bare_layout": True}
    return render_form_page(request, "identity/pages/two_factor_verify.html", context, form=form)


@permission_required_page(IDENTITY_MANAGE)
@require_POST
def user_two_factor_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    """An administrator turns off someone's two-factor authentication (lost phone and recovery codes)."""
    actor = actor_from_request(request)
    subject = selectors.user_get(actor=actor, user_id=user_id)
    try:
        two_factor.two_factor_reset(actor=actor, user=subject)
    except PermissionDenied as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Two-factor authentication of %(name)s is off; they can set it up again.") % {"name": subject.username},
        )
    return redirect("identity:user_edit", user_id=subject.pk)

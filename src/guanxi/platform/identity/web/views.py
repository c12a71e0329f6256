"""Settings pages for users, teams, roles (with the permission matrix) and personal API tokens.

Users, teams and roles need `identity.manage`; every user manages their own API tokens. Views parse
the form, call one service and render; the services check the rules again.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.platform.core.errors import Conflict, ValidationFailed
from guanxi.platform.core.pagination import keyset_paginate
from guanxi.platform.identity import selectors, services
from guanxi.platform.identity.models import Role
from guanxi.platform.identity.permissions import IDENTITY_MANAGE, DataScope, all_areas, all_permissions, all_scopes
from guanxi.platform.identity.two_factor import user_has_two_factor
from guanxi.platform.identity.web.decorators import permission_required_page
from guanxi.platform.identity.web.forms import (
    PasswordResetForm,
    RoleForm,
    TeamForm,
    TokenCreateForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
    token_scope_label,
)
from guanxi.platform.ui.actors import actor_from_request
from guanxi.platform.ui.forms import add_domain_errors
from guanxi.platform.ui.pages import next_page_url, render_form_page

USERS_PER_PAGE = 50


def _posted(request: HttpRequest) -> QueryDict | None:
    """The submitted form data, or None on GET (so an empty POST still shows its errors)."""
    return request.POST if request.method == "POST" else None


def _password_errors(exc: ValidationFailed) -> ValidationFailed:
    """The services call the password "password"; the forms ask for it in "password1"."""
    fields = {("password1" if name == "password" else name): msgs for name, msgs in exc.fields.items()}
    return ValidationFailed(exc.message, fields=fields)


# Users -------------------------------------------------------------------------------------------


@permission_required_page(IDENTITY_MANAGE)
def user_list(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    form = UserFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        active = {"1": True, "0": False}.get(data.get("active") or "")
        filters = {
            "text": data.get("q") or "",
            "team_id": data["team"].pk if data.get("team") else None,
            "role_id": data["role"].pk if data.get("role") else None,
            "is_active": active,
        }
    users = selectors.user_admin_list(actor=actor, **filters)
    page = keyset_paginate(users, sort="username", cursor=request.GET.get("cursor"), page_size=USERS_PER_PAGE)
    context = {"form": form, "page": page, "next_url": next_page_url(request, page.next_cursor)}
    return render_form_page(request, "identity/pages/user_list.html", context, form=form)


@permission_required_page(IDENTITY_MANAGE)
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    form = UserCreateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_create(
                actor=actor,
                username=data["username"],
                password=data["password1"],
                display_name=data["display_name"],
                email=data["email"],
                team=data["team"],
                role=data["role"],
            )
        except ValidationFailed as exc:
            add_domain_errors(form, _password_errors(exc))
        else:
            messages.success(request, _("User %(name)s created.") % {"name": user.username})
            return redirect("identity:user_list")
    return render_form_page(request, "identity/pages/user_form.html", {"form": form, "subject": None}, form=form)


@permission_required_page(IDENTITY_MANAGE)
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    subject = selectors.user_get(actor=actor, user_id=user_id)
    initial = {
        "display_name": subject.display_name,
        "email": subject.email,
        "team": subject.team_id,
        "role": subject.role_id,
        "is_active": subject.is_active,
    }
    form = UserEditForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.user_update(
                actor=actor,
                user=subject,
                display_name=data["display_name"],
                email=data["email"],
                team=data["team"],
                role=data["role"],
                is_active=data["is_active"],
            )
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("User %(name)s saved.") % {"name": subject.username})
            return redirect("identity:user_list")
    context = {
        "form": form,
        "subject": subject,
        "history": selectors.user_history(actor=actor, user=subject),
        "subject_has_two_factor": user_has_two_factor(subject),
    }
    return render_form_page(request, "identity/pages/user_form.html", context, form=form)


@permission_required_page(IDENTITY_MANAGE)
@require_http_methods(["GET", "POST"])
def user_password(request: HttpRequest, user_id: int) -> HttpResponse:
    """An administrator sets a new password for someone who forgot theirs."""
    actor = actor_from_request(request)
    subject = selectors.user_get(actor=actor, user_id=user_id)
    form = PasswordResetForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_password(actor=actor, user=subject, password=form.cleaned_data["password1"])
        except ValidationFailed as exc:
            add_domain_errors(form, _password_errors(exc))
        else:
            messages.success(request, _("The password of %(name)s was changed.") % {"name": subject.username})
            return redirect("identity:user_edit", user_id=subject.pk)
    return render_form_page(request, "identity/pages/user_password.html", {"form": form, "subject": subject}, form=form)


# Teams -------------------------------------------------------------------------------------------


@permission_required_page(IDENTITY_MANAGE)
def team_list(request: HttpRequest) -> HttpResponse:
    nodes = selectors.team_tree(actor=actor_from_request(request))
    return render(request, "identity/pages/team_list.html", {"nodes": nodes})


@permission_required_page(IDENTITY_MANAGE)
@require_http_methods(["GET", "POST"])
def team_create(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    form = TeamForm(_posted(request), initial={"parent": request.GET.get("parent")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team = services.team_create(actor=actor, name=data["name"], parent=data["parent"], manager=data["manager"])
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Team %(name)s created.") % {"name": team.name})
            return redirect("identity:team_list")
    return render_form_page(request, "identity/pages/team_form.html", {"form": form, "team": None}, form=form)


@permission_required_page(IDENTITY_MANAGE)
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    team = selectors.team_get(actor=actor, team_id=team_id)
    initial = {"name": team.name, "parent": team.parent_id, "manager": team.manager_id, "version": team.version}
    form = TeamForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.team_update(
                actor=actor,
                team=team,
                name=data["name"],
                parent=data["parent"],
                manager=data["manager"],
                version=data.get("version"),
            )
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
        except Conflict as exc:  # someone else saved the team meanwhile
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Team %(name)s saved.") % {"name": data["name"]})
            return redirect("identity:team_list")
    context = {"form": form, "team": team, "history": selectors.team_history(actor=actor, team=team)}
    return render_form_page(request, "identity/pages/team_form.html", context, form=form)


@permission_required_page(IDENTITY_MANAGE)
@require_POST
def team_delete(request: HttpRequest, team_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    team = selectors.team_get(actor=actor, team_id=team_id)
    try:
        services.team_delete(actor=actor, team=team)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("identity:team_edit", team_id=team.pk)
    messages.success(request, _("Team %(name)s deleted.") % {"name": team.name})
    return redirect("identity:team_list")


# Roles -------------------------------------------------------------------------------------------


@permission_required_page(IDENTITY_MANAGE)
def role_list(request: HttpRequest) -> HttpResponse:
    roles = selectors.role_admin_list(actor=actor_from_request(request))
    return render(request, "identity/pages/role_list.html", {"roles": roles})


def _role_matrix(permissions: set[str], scopes: dict[str, str]) -> dict[str, Any]:
    """The permission checkboxes grouped by area, and a data scope select per record type."""
    by_area: dict[str, list[dict[str, Any]]] = {}
    for spec in all_permissions():
        by_area.setdefault(spec.area, []).append(
            {"code": spec.code, "label": spec.label, "checked": spec.code in permissions}
        )
    labels = all_areas()
    order = {code: index for index, code in enumerate(labels)}
    areas = [
        {"code": code, "label": labels.get(code) or _("General"), "permissions": perms}
        for code, perms in sorted(by_area.items(), key=lambda item: order.get(item[0], len(order)))
    ]
    scope_rows = [
        {"object_type": spec.object_type, "label": spec.label, "value": scopes.get(spec.object_type, DataScope.OWN)}
        for spec in all_scopes()
    ]
    return {"areas": areas, "scope_rows": scope_rows, "scope_choices": DataScope.choices}


def _posted_grants(post: QueryDict) -> tuple[list[str], dict[str, str]]:
    permissions = post.getlist("permissions")
    scopes = {key.removeprefix("scope_"): str(value) for key, value in post.items() if key.startswith("scope_")}
    return permissions, scopes


def _role_form_page(request: HttpRequest, actor: Any, role: Role | None) -> HttpResponse:
    initial: dict[str, Any] = {}
    permissions: set[str] = set()
    scopes: dict[str, str] = {}
    if role is not None:
        initial = {
            "code": role.code,
            "name_zh": role.name_zh,
            "name_en": role.name_en,
            "description": role.description,
            "version": role.version,
        }
        permissions, scopes = set(role.permissions), dict(role.scopes)
    form = RoleForm(_posted(request), initial=initial)
    grant_errors: dict[str, list[str]] = {}
    if request.method == "POST":
        posted_permissions, scopes = _posted_grants(request.POST)
        permissions = set(posted_permissions)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = services.role_save(
                    actor=actor,
                    role=role,
                    code=data["code"] if role is None else role.code,
                    name_zh=data["name_zh"],
                    name_en=data["name_en"],
                    description=data["description"],
                    permissions=posted_permissions,
                    scopes=scopes,
                    version=data.get("version"),
                )
            except ValidationFailed as exc:
                grant_errors = {k: exc.fields.pop(k) for k in ("permissions", "scopes") if k in exc.fields}
                if exc.fields:
                    add_domain_errors(form, exc)
            except Conflict as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Role %(name)s saved.") % {"name": saved.name})
                return redirect("identity:role_list")
    context = {"form": form, "role": role, "grant_errors": grant_errors, **_role_matrix(permissions, scopes)}
    if role is not None:
        context["history"] = selectors.role_history(actor=actor, role=role)
    status = 422 if form.errors or grant_errors else 200
    return render(request, "identity/pages/role_form.html", context, status=status)


@permission_required_page(IDENTITY_MANAGE)
@require_http_methods(["GET", "POST"])
def role_create(request: HttpRequest) -> HttpResponse:
    return _role_form_page(request, actor_from_request(request), None)


@permission_required_page(IDENTITY_MANAGE)
@require_http_methods(["GET", "POST"])
def role_edit(request: HttpRequest, role_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    return _role_form_page(request, actor, selectors.role_get(actor=actor, role_id=role_id))


# API tokens --------------------------------------------------------------------------------------


def _scope_rows(selected: set[str]) -> list[dict[str, Any]]:
    labels = all_areas()
    return [
        {
            "label": labels[area],
            "read": {"value": f"{area}:read", "checked": f"{area}:read" in selected},
            "write": {"value": f"{area}:write", "checked": f"{area}:write" in selected},
        }
        for area in labels
    ]


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """The user's own tokens; POST creates one and shows its secret on this response only."""
    actor = actor_from_request(request)
    form = TokenCreateForm(_posted(request), scope_choices=services.token_scope_choices())
    created = None
    secret = ""
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = services.api_token_create(
                actor=actor,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at(timezone.get_current_timezone()),
            )
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
        else:
            form = TokenCreateForm(scope_choices=services.token_scope_choices())
    selected = set(request.POST.getlist("scopes")) if form.is_bound else set()
    tokens = [
        {"token": token, "scopes": [token_scope_label(s) for s in token.scopes]}
        for token in selectors.api_token_list(actor=actor)
    ]
    context = {
        "form": form,
        "tokens": tokens,
        "scope_rows": _scope_rows(selected),
        "created": created,
        "secret": secret,
        "now": timezone.now(),
    }
    response = render_form_page(request, "identity/pages/token_list.html", context, form=form)
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = services.api_token_revoke(actor=actor_from_request(request), token_id=token_id)
    messages.success(request, _("The token “%(name)s” was revoked; it no longer works.") % {"name": token.name})
    return redirect("identity:token_list")

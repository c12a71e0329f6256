"""Writes for identity: teams, users, roles and API tokens. Every function is one transaction."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.platform.core.text import clean_text
from guanxi.platform.identity.models import ApiToken, Role, Team, User
from guanxi.platform.identity.permissions import (
    IDENTITY_MANAGE,
    DataScope,
    all_areas,
    all_scopes,
    is_known_permission,
    is_known_scope,
)
from guanxi.platform.identity.roles import BUILTIN_ROLES, grant_everything_to_administrator
from guanxi.platform.identity.scoping import require_permission

TOKEN_PREFIX = "gx_"


# Teams ---------------------------------------------------------------------------------------


def _set_team_path(team: Team) -> None:
    parent_path = team.parent.path if team.parent_id and team.parent else "/"
    team.path = f"{parent_path}{team.pk}/"
    team.depth = parent_path.count("/") - 1


@transaction.atomic
def team_create(*, actor: Actor | None, name: str, parent: Team | None = None, manager: User | None = None) -> Team:
    if actor is not None:
        require_permission(actor, IDENTITY_MANAGE)
    name = clean_text(name)
    if not name:
        raise ValidationFailed.for_field("name", _("Enter a team name."))
    team = Team.objects.create(name=name, parent=parent, manager=manager)
    _set_team_path(team)
    team.save(update_fields=["path", "depth"])
    return team


@transaction.atomic
def team_update(
    *, actor: Actor, team: Team, name: str, parent: Team | None, manager: User | None
) -> Team:
    require_permission(actor, IDENTITY_MANAGE)
    name = clean_text(name)
    if not name:
        raise ValidationFailed.for_field("name", _("Enter a team name."))
    team = Team.objects.select_for_update().get(pk=team.pk)
    if parent is not None and (parent.pk == team.pk or parent.path.startswith(team.path)):
        raise ValidationFailed.for_field("parent", _("A team cannot be placed under itself or one of its sub-teams."))
    old_path = team.path
    team.name, team.parent, team.manager = name, parent, manager
    _set_team_path(team)
    team.bump_version()
    team.save()
    if old_path != team.path:
        for child in Team.objects.filter(path__startswith=old_path).exclude(pk=team.pk).order_by("depth"):
            child.parent = Team.objects.get(pk=child.parent_id)
            _set_team_path(child)
            child.save(update_fields=["path", "depth"])
    return team


@transaction.atomic
def team_delete(*, actor: Actor, team: Team) -> None:
    require_permission(actor, IDENTITY_MANAGE)
    if team.children.exists():
        raise Conflict(_("Move or delete the sub-teams first."))
    if team.members.exists():
        raise Conflict(_("Move the team's members to another team first."))
    team.delete()


# Users ---------------------------------------------------------------------------------------


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(fields={"password": list(exc.messages)}) from None


@transaction.atomic
def user_create(
    *,
    actor: Actor | None,
    username: str,
    password: str,
    display_name: str = "",
    email: str = "",
    team: Team | None = None,
    role: Role | None = None,
    is_superuser: bool = False,
    language: str = "",
    validate: bool = True,
) -> User:
    if actor is not None:
        require_permission(actor, IDENTITY_MANAGE)
    username = clean_text(username)
    if not username:
        raise ValidationFailed.for_field("username", _("Enter a user name."))
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed.for_field("username", _("This user name is taken."))
    user = User(
        username=username,
        display_name=clean_text(display_name),
        email=clean_text(email).lower(),
        team=team,
        role=role,
        is_superuser=is_superuser,
        is_staff=is_superuser,
        language=language,
    )
    if validate:
        _check_password(password, user)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def user_update(
    *,
    actor: Actor,
    user: User,
    display_name: str,
    email: str,
    team: Team | None,
    role: Role | None,
    is_active: bool,
) -> User:
    require_permission(actor, IDENTITY_MANAGE)
    if user.pk == actor.user.pk and not is_active:
        raise ValidationFailed.for_field("is_active", _("You cannot deactivate yourself."))
    user.display_name = clean_text(display_name)
    user.email = clean_text(email).lower()
    user.team = team
    user.role = role
    user.is_active = is_active
    user.save()
    return user


@transaction.atomic
def user_set_preferences(*, actor: Actor, language: str, time_zone: str) -> User:
    import zoneinfo

    if language not in User.Language.values:
        raise ValidationFailed.for_field("language", _("Choose a language from the list."))
    if time_zone and time_zone not in zoneinfo.available_timezones():
        raise ValidationFailed.for_field("time_zone", _("Choose a time zone from the list."))
    user = actor.user
    user.language = language
    user.time_zone = time_zone
    user.save(update_fields=["language", "time_zone"])
    return user


@transaction.atomic
def user_set_password(*, actor: Actor, user: User, password: str) -> None:
    if user.pk != actor.user.pk:
        require_permission(actor, IDENTITY_MANAGE)
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])


# Roles ---------------------------------------------------------------------------------------


def _clean_role_grants(permissions: list[str], scopes: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    unknown = [code for code in permissions if not is_known_permission(code)]
    if unknown:
        raise ValidationFailed.for_field("permissions", _("Unknown permission: %(codes)s") % {"codes": ", ".join(unknown)})
    clean_scopes: dict[str, str] = {}
    for object_type, scope in scopes.items():
        if not is_known_scope(object_type):
            raise ValidationFailed.for_field("scopes", _("Unknown record type: %(type)s") % {"type": object_type})
        if scope not in DataScope.values:
            raise ValidationFailed.for_field("scopes", _("Unknown data scope: %(scope)s") % {"scope": scope})
        clean_scopes[object_type] = scope
    return sorted(set(permissions)), clean_scopes


@transaction.atomic
def role_save(
    *,
    actor: Actor,
    role: Role | None,
    code: str,
    name_zh: str,
    name_en: str,
    description: str,
    permissions: list[str],
    scopes: dict[str, str],
) -> Role:
    require_permission(actor, IDENTITY_MANAGE)
    perms, clean_scopes = _clean_role_grants(permissions, scopes)
    errors: dict[str, list[str]] = {}
    if not clean_text(name_zh):
        errors["name_zh"] = [_("Enter a Chinese name.")]
    if not clean_text(name_en):
        errors["name_en"] = [_("Enter an English name.")]
    code = clean_text(code).lower()
    if role is None:
        if not code or not code.replace("_", "").replace("-", "").isalnum():
            errors["code"] = [_("Use letters, digits, - and _ only.")]
        elif Role.objects.filter(code=code).exists():
            errors["code"] = [_("This code is taken.")]
    if errors:
        raise ValidationFailed(fields=errors)
    if role is None:
        role = Role(code=code)
    else:
        role.bump_version()
    role.name_zh, role.name_en = clean_text(name_zh), clean_text(name_en)
    role.description = description.strip()
    role.permissions, role.scopes = perms, clean_scopes
    role.save()
    return role


@transaction.atomic
def roles_ensure_builtin() -> list[Role]:
    """Create the built-in roles that are missing; never overwrite an administrator's edits."""
    grant_everything_to_administrator([spec.object_type for spec in all_scopes()])
    created = []
    for spec in BUILTIN_ROLES.values():
        role, was_created = Role.objects.get_or_create(
            code=spec.code,
            defaults={
                "name_zh": spec.name_zh,
                "name_en": spec.name_en,
                "description": spec.description,
                "permissions": sorted(spec.permissions),
                "scopes": dict(spec.scopes),
                "is_builtin": True,
            },
        )
        if was_created:
            created.append(role)
    return created


# API tokens ----------------------------------------------------------------------------------


def token_scope_choices() -> list[str]:
    return [f"{area}:{mode}" for area in all_areas() for mode in ("read", "write")]


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, actor: Actor, name: str, scopes: list[str], expires_at: datetime | None
) -> tuple[ApiToken, str]:
    """Create a token for the actor; returns the token row and the full secret (shown once)."""
    name = clean_text(name)
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the token a name.")]
    allowed = set(token_scope_choices())
    bad = [scope for scope in scopes if scope not in allowed]
    if bad or not scopes:
        errors["scopes"] = [_("Choose at least one scope from the list.")]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("The expiry must be in the future.")]
    if errors:
        raise ValidationFailed(fields=errors)
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=actor.user,
        name=name,
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )
    return token, f"{TOKEN_PREFIX}{prefix}_{secret}"


@transaction.atomic
def api_token_revoke(*, actor: Actor, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=actor.user).first()
    if token is None:
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(raw: str) -> ApiToken | None:
    """Return the active token matching `raw` and record its use, or None."""
    if not raw.startswith(TOKEN_PREFIX) or raw.count("_") < 2:
        return None
    prefix, _sep, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    token = ApiToken.objects.select_related("user", "user__role", "user__team").filter(prefix=prefix).first()
    if token is None or not token.is_active or not token.user.is_active:
        return None
    if not secrets.compare_digest(token.secret_hash, _hash_secret(secret)):
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def actor_for_token(token: ApiToken) -> Actor:
    return Actor(user=token.user, channel="api", token_id=token.pk, token_scopes=frozenset(token.scopes))


def actor_for_user(user: User, channel: Any = "web") -> Actor:
    return Actor(user=user, channel=channel)

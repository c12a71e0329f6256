"""Writes for identity: teams, users, roles and API tokens. Every function is one transaction."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.platform.audit.history import attribute_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.platform.core.text import clean_text
from guanxi.platform.core.versioning import ensure_version
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


TEAM_NAME_MAX = 100
DISPLAY_NAME_MAX = 100
ROLE_NAME_MAX = 100
ROLE_DESCRIPTION_MAX = 1000
TOKEN_NAME_MAX = 100
ROLE_CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,49}\Z")


def _clean_team_name(name: str) -> str:
    name = clean_text(name)
    if not name:
        raise ValidationFailed.for_field("name", _("Enter a team name."))
    if len(name) > TEAM_NAME_MAX:
        raise ValidationFailed.for_field(
            "name", _("Keep the name to %(n)s characters or fewer.") % {"n": TEAM_NAME_MAX}
        )
    return name


def _set_team_path(team: Team) -> None:
    parent_path = team.parent.path if team.parent_id and team.parent else "/"
    team.path = f"{parent_path}{team.pk}/"
    team.depth = parent_path.count("/") - 1


@transaction.atomic
def team_create(*, actor: Actor | None, name: str, parent: Team | None = None, manager: User | None = None) -> Team:
    if actor is not None:
        require_permission(actor, IDENTITY_MANAGE)
    name = _clean_team_name(name)
    team = Team(name=name, parent=parent, manager=manager)
    attribute_history(team, actor)
    team.save()
    _set_team_path(team)
    team.save(update_fields=["path", "depth"])
    return team


@transaction.atomic
def team_update(
    *,
    actor: Actor,
    team: Team,
    name: str,
    parent: Team | None,
    manager: User | None,
    version: int | None = None,
) -> Team:
    """Rename a team, give it a manager or move it (with its sub-teams) under another team; no cycles."""
    require_permission(actor, IDENTITY_MANAGE)
    name = _clean_team_name(name)
    team = Team.objects.select_for_update().get(pk=team.pk)
    ensure_version(team, version)
    if parent is not None:
        parent = Team.objects.get(pk=parent.pk)  # its path as stored now, not as the caller read it
    if parent is not None and (parent.pk == team.pk or parent.path.startswith(team.path)):
        raise ValidationFailed.for_field("parent", _("A team cannot be placed under itself or one of its sub-teams."))
    old_path = team.path
    team.name, team.parent, team.manager = name, parent, manager
    _set_team_path(team)
    team.bump_version()
    attribute_history(team, actor)
    team.save()
    if old_path != team.path:
        for child in Team.objects.filter(path__startswith=old_path).exclude(pk=team.pk).order_by("depth"):
            child.parent = Team.objects.get(pk=int(child.parent_id or 0))
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
    attribute_history(team, actor)
    team.delete()


# Users ---------------------------------------------------------------------------------------


USERNAME_MAX = 150
USERNAME_PATTERN = re.compile(r"^[\w.@+-]+\Z")


def _clean_profile(display_name: str, email: str) -> tuple[str, str]:
    """The display name and e-mail address of a user, checked; ValidationFailed names each bad one."""
    display_name = clean_text(display_name)
    email = clean_text(email).lower()
    errors: dict[str, list[str]] = {}
    if len(display_name) > DISPLAY_NAME_MAX:
        errors["display_name"] = [_("Keep the name to %(n)s characters or fewer.") % {"n": DISPLAY_NAME_MAX}]
    if email:
        try:
            EmailValidator()(email)
        except DjangoValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return display_name, email


def _keeps_user_management(actor: Actor, role: Role | None, permissions: list[str] | None = None) -> bool:
    """Whether the actor still manages users after giving themselves `role` (or `permissions` on their role)."""
    if actor.user.is_superuser:
        return True
    granted = permissions if permissions is not None else (role.permissions if role else [])
    return IDENTITY_MANAGE in granted


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
) -> User:
    if actor is not None:
        require_permission(actor, IDENTITY_MANAGE)
    username = clean_text(username)
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = [_("Enter a user name.")]
    elif len(username) > USERNAME_MAX or not USERNAME_PATTERN.match(username):
        errors["username"] = [
            _("Use up to %(n)s letters, digits and @ . + - _ for the user name.") % {"n": USERNAME_MAX}
        ]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("This user name is taken.")]
    try:
        display_name, email = _clean_profile(display_name, email)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        team=team,
        role=role,
        is_superuser=is_superuser,
        is_staff=is_superuser,
        language=language,
    )
    _check_password(password, user)  # the password rules apply wherever a password is set
    user.set_password(password)
    attribute_history(user, actor)
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
    errors: dict[str, list[str]] = {}
    if user.pk == actor.user.pk and not is_active:
        errors["is_active"] = [_("You cannot deactivate yourself.")]
    if user.pk == actor.user.pk and not _keeps_user_management(actor, role):
        errors["role"] = [_("You cannot take away your own right to manage users.")]
    try:
        display_name, email = _clean_profile(display_name, email)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    user.display_name = display_name
    user.email = email
    user.team = team
    user.role = role
    user.is_active = is_active
    attribute_history(user, actor)
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
    attribute_history(user, actor)
    user.save(update_fields=["language", "time_zone"])
    return user


@transaction.atomic
def user_set_password(*, actor: Actor, user: User, password: str) -> None:
    if user.pk != actor.user.pk:
        require_permission(actor, IDENTITY_MANAGE)
    _check_password(password, user)
    user.set_password(password)
    # The history keeps the fact and who did it, never the hash (the field is left out of it).
    attribute_history(user, actor, _("Password changed"))
    user.save(update_fields=["password"])


# Roles ---------------------------------------------------------------------------------------


def _clean_role_grants(permissions: list[str], scopes: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    unknown = [code for code in permissions if not is_known_permission(code)]
    if unknown:
        raise ValidationFailed.for_field(
            "permissions", _("Unknown permission: %(codes)s") % {"codes": ", ".join(unknown)}
        )
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
    version: int | None = None,
) -> Role:
    """Create (role=None) or edit a role, built-in ones included. Unknown permissions or scopes are refused."""
    require_permission(actor, IDENTITY_MANAGE)
    errors: dict[str, list[str]] = {}
    perms: list[str] = []
    clean_scopes: dict[str, str] = {}
    try:
        perms, clean_scopes = _clean_role_grants(permissions, scopes)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    names = {"name_zh": clean_text(name_zh), "name_en": clean_text(name_en)}
    if not names["name_zh"]:
        errors["name_zh"] = [_("Enter a Chinese name.")]
    if not names["name_en"]:
        errors["name_en"] = [_("Enter an English name.")]
    for field, value in names.items():
        if len(value) > ROLE_NAME_MAX:
            errors[field] = [_("Keep the name to %(n)s characters or fewer.") % {"n": ROLE_NAME_MAX}]
    description = description.strip()
    if len(description) > ROLE_DESCRIPTION_MAX:
        errors["description"] = [_("Keep the description to %(n)s characters or fewer.") % {"n": ROLE_DESCRIPTION_MAX}]
    code = clean_text(code).lower()
    if role is None:
        if not ROLE_CODE_PATTERN.match(code):
            errors["code"] = [_("Start with a letter and use lower-case letters, digits, - and _ only (up to 50).")]
        elif Role.objects.filter(code=code).exists():
            errors["code"] = [_("This code is taken.")]
    elif (
        role.pk == actor.user.role_id and "permissions" not in errors and not _keeps_user_management(actor, role, perms)
    ):
        errors["permissions"] = [_("You cannot take away your own right to manage users.")]
    if errors:
        raise ValidationFailed(fields=errors)
    if role is None:
        role = Role(code=code)
    else:
        role = Role.objects.select_for_update().get(pk=role.pk)
        ensure_version(role, version)
        role.bump_version()
    role.name_zh, role.name_en = names["name_zh"], names["name_en"]
    role.description = description
    role.permissions, role.scopes = perms, clean_scopes
    attribute_history(role, actor)
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
    elif len(name) > TOKEN_NAME_MAX:
        errors["name"] = [_("Keep the name to %(n)s characters or fewer.") % {"n": TOKEN_NAME_MAX}]
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

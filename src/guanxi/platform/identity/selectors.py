"""Reads for identity: users, teams and roles, as shown in settings pages and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound
from guanxi.platform.identity.models import ApiToken, Role, Team, User


def user_list(*, actor: Actor, active_only: bool = False) -> QuerySet[User]:
    """Every signed-in user may see the directory of colleagues (names, teams, roles)."""
    qs = User.objects.select_related("team", "role").order_by("username")
    return qs.filter(is_active=True) if active_only else qs


def user_get(*, actor: Actor, user_id: int) -> User:
    user = user_list(actor=actor).filter(pk=user_id).first()
    if user is None:
        raise NotFound()
    return user


def team_list(*, actor: Actor) -> QuerySet[Team]:
    return Team.objects.select_related("parent", "manager").order_by("path")


def team_get(*, actor: Actor, team_id: int) -> Team:
    team = team_list(actor=actor).filter(pk=team_id).first()
    if team is None:
        raise NotFound()
    return team


def role_list(*, actor: Actor) -> QuerySet[Role]:
    return Role.objects.order_by("id")


def role_get(*, actor: Actor, role_id: int) -> Role:
    role = role_list(actor=actor).filter(pk=role_id).first()
    if role is None:
        raise NotFound()
    return role


def api_token_list(*, actor: Actor) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=actor.user).order_by("-created_at")

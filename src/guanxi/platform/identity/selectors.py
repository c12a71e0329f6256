"""Reads for identity: users, teams and roles, as shown in settings pages and the API."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import Count, Q, QuerySet

from guanxi.platform.audit.history import HistoryEntry, labelled, list_change, mapping_change, record_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound
from guanxi.platform.identity.models import ApiToken, Role, Team, User
from guanxi.platform.identity.permissions import IDENTITY_MANAGE, DataScope, all_permissions, all_scopes
from guanxi.platform.identity.scoping import require_permission


def user_list(*, actor: Actor, active_only: bool = False) -> QuerySet[User]:
    """Every signed-in user may see the directory of colleagues (names, teams, roles)."""
    qs = User.objects.select_related("team", "role").order_by("username")
    return qs.filter(is_active=True) if active_only else qs


class UserChoice(NamedTuple):
    """A user as a picker shows it: the id and the display name (what `str(user)` gives)."""

    pk: int
    label: str

    def __str__(self) -> str:
        return self.label


def user_choices(*, actor: Actor, active_only: bool = True) -> list[UserChoice]:
    """Every colleague as (id, name) for pickers, without loading whole user rows with team and role:
    a company of 200 users made the customer list page build 600 model instances for two drop-downs."""
    rows = user_list(actor=actor, active_only=active_only).values_list(
        "pk", "display_name", "first_name", "last_name", "username"
    )
    return [
        UserChoice(pk, display_name or f"{first_name} {last_name}".strip() or username)
        for pk, display_name, first_name, last_name, username in rows
    ]


def user_get(*, actor: Actor, user_id: int) -> User:
    user = user_list(actor=actor).filter(pk=user_id).first()
    if user is None:
        raise NotFound()
    return user


def team_and_subteams_q(team_id: int, *, field: str = "team") -> Q:
    """Rows whose team (`field`) is the team `team_id` or one below it; no rows when there is no such team."""
    team = Team.objects.filter(pk=team_id).only("path").first()
    if team is None:
        return Q(pk__in=[])
    return Q(**{f"{field}__path__startswith": team.path})


def owner_filter_q(actor: Actor, *, owner: str = "", owner_id: int | None = None, team_id: int | None = None) -> Q:
    """The owner filters of a list page: `owner` "me" (the actor's rows) or "none" (unowned rows),
    one owner's id, and a team with its sub-teams; each is left out when not given."""
    q = Q()
    if owner == "me":
        q &= Q(owner=actor.user)
    elif owner == "none":
        q &= Q(owner__isnull=True)
    if owner_id is not None:
        q &= Q(owner_id=owner_id)
    if team_id is not None:
        q &= team_and_subteams_q(team_id)
    return q


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


# Settings pages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamNode:
    """A team in the tree as the settings page shows it: depth for indentation, members counted."""

    team: Team
    depth: int
    member_count: int
    child_count: int


def user_admin_list(
    *,
    actor: Actor,
    text: str = "",
    team_id: int | None = None,
    role_id: int | None = None,
    is_active: bool | None = None,
) -> QuerySet[User]:
    """Users as the administrator manages them, filtered; team and role come in the same query."""
    require_permission(actor, IDENTITY_MANAGE)
    qs = user_list(actor=actor)
    text = text.strip()
    if text:
        qs = qs.filter(
            Q(username__icontains=text)
            | Q(display_name__icontains=text)
            | Q(email__icontains=text)
            | Q(first_name__icontains=text)
            | Q(last_name__icontains=text)
        )
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    if role_id is not None:
        qs = qs.filter(role_id=role_id)
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    return qs


def team_tree(*, actor: Actor) -> list[TeamNode]:
    """Every team in tree order (parents before children, siblings by name), in one query."""
    teams = list(
        team_list(actor=actor).annotate(
            member_count=Count("members", distinct=True), child_count=Count("children", distinct=True)
        )
    )
    children: dict[int | None, list[Team]] = {}
    for team in teams:
        children.setdefault(team.parent_id, []).append(team)
    for siblings in children.values():
        siblings.sort(key=lambda t: (t.name, t.pk))
    nodes: list[TeamNode] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for team in children.get(parent_id, []):
            nodes.append(TeamNode(team, depth, team.member_count, team.child_count))  # type: ignore[attr-defined]
            walk(team.pk, depth + 1)

    walk(None, 0)
    return nodes


def role_admin_list(*, actor: Actor) -> QuerySet[Role]:
    """Roles with how many users hold each."""
    require_permission(actor, IDENTITY_MANAGE)
    return role_list(actor=actor).annotate(user_count=Count("users"))


# Change history --------------------------------------------------------------------------------


def user_history(*, actor: Actor, user: User) -> list[HistoryEntry]:
    """Who changed this user's profile, team, role or status, and when; a new password shows as the
    fact only (the hash is never kept in the history)."""
    require_permission(actor, IDENTITY_MANAGE)
    return record_history(user)


def team_history(*, actor: Actor, team: Team) -> list[HistoryEntry]:
    require_permission(actor, IDENTITY_MANAGE)
    return record_history(team)


def role_history(*, actor: Actor, role: Role) -> list[HistoryEntry]:
    """A role's changes; its permissions as the ones added and removed, its data scopes per record type."""
    require_permission(actor, IDENTITY_MANAGE)
    permission_label = labelled({spec.code: str(spec.label) for spec in all_permissions()})
    scope_label = labelled({spec.object_type: str(spec.label) for spec in all_scopes()})
    scope_names = {value: str(label) for value, label in DataScope.choices}
    formatters = {
        "permissions": functools.partial(list_change, item_label=permission_label),
        "scopes": functools.partial(
            mapping_change, key_label=scope_label, value_label=lambda v: scope_names.get(v, str(v))
        ),
    }
    return record_history(role, formatters=formatters)

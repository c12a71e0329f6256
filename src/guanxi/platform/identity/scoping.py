"""The one gate for visibility and permissions: `visible_to(actor)` and `has_permission(actor, code)`.

Every domain queryset extends `ScopedQuerySet`; its model says how ownership maps to a Q object
(`visibility_q`). Selectors call `.visible_to(actor)`; nothing reads domain rows without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models
from django.db.models import Q

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import PermissionDenied
from guanxi.platform.identity.permissions import (
    PERSONAL_DATA_VIEW,
    DataScope,
    all_permissions,
)

if TYPE_CHECKING:
    from guanxi.platform.identity.models import User


def _user(actor: Actor | User) -> User:
    return actor.user if isinstance(actor, Actor) else actor


def _token_allows(actor: Actor | User, code: str) -> bool:
    if not isinstance(actor, Actor) or actor.token_scopes is None:
        return True
    specs = {spec.code: spec for spec in all_permissions()}
    spec = specs.get(code)
    if spec is None:
        return False
    if not spec.area:
        return True
    # A write scope includes reading the same area ("Customers: read and write").
    if code.endswith(".view"):
        return f"{spec.area}:read" in actor.token_scopes or f"{spec.area}:write" in actor.token_scopes
    return f"{spec.area}:write" in actor.token_scopes


def user_permissions(user: User) -> frozenset[str]:
    """The action permissions of a user's role (all of them for superusers), cached on the user."""
    cached: frozenset[str] | None = getattr(user, "_guanxi_permissions", None)
    if cached is not None:
        return cached
    if not user.is_active:
        perms: frozenset[str] = frozenset()
    elif user.is_superuser:
        perms = frozenset(spec.code for spec in all_permissions())
    elif user.role_id is None:
        perms = frozenset()
    else:
        perms = frozenset(user.role.permissions) if user.role else frozenset()
    user._guanxi_permissions = perms  # type: ignore[attr-defined]
    return perms


def has_permission(actor: Actor | User, code: str) -> bool:
    return code in user_permissions(_user(actor)) and _token_allows(actor, code)


def require_permission(actor: Actor | User, code: str) -> None:
    if not has_permission(actor, code):
        raise PermissionDenied()


def can_see_personal_data(actor: Actor | User) -> bool:
    return has_permission(actor, PERSONAL_DATA_VIEW)


def data_scope(actor: Actor | User, object_type: str) -> str:
    user = _user(actor)
    if user.is_superuser:
        return DataScope.ALL
    if user.role is None:
        return DataScope.OWN
    return user.role.scope_for(object_type)


def team_subtree_ids(user: User) -> list[int]:
    """Ids of the user's main team and every team below it, plus teams they manage (cached)."""
    cached: list[int] | None = getattr(user, "_guanxi_team_ids", None)
    if cached is not None:
        return cached
    from guanxi.platform.identity.models import Team

    roots = list(Team.objects.filter(Q(pk=user.team_id) | Q(manager=user)).values_list("path", flat=True))
    ids: list[int] = []
    if roots:
        prefix_q = Q()
        for path in roots:
            prefix_q |= Q(path__startswith=path)
        ids = list(Team.objects.filter(prefix_q).values_list("pk", flat=True))
    user._guanxi_team_ids = ids  # type: ignore[attr-defined]
    return ids


def ownership_q(
    actor: Actor | User,
    object_type: str,
    *,
    owner_field: str = "owner",
    team_field: str = "team",
) -> Q:
    """Rows an actor may see by ownership: own, own team and sub-teams, or all."""
    user = _user(actor)
    scope = data_scope(actor, object_type)
    if scope == DataScope.ALL:
        return Q()
    own = Q(**{owner_field: user.pk})
    if scope == DataScope.TEAM:
        return own | Q(**{f"{team_field}__in": team_subtree_ids(user)})
    return own


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows how to restrict itself to what an actor may see."""

    def visible_to(self, actor: Actor | User) -> Self:
        visibility_q: Any = getattr(self.model, "visibility_q", None)
        if visibility_q is None:
            raise TypeError(f"{self.model.__name__} must define visibility_q(actor)")
        return self.filter(visibility_q(actor))

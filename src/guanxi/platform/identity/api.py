"""Identity API: users, teams and roles (read) and the current user."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI, Router, Schema

from guanxi.platform.core.api import actor_of, responses
from guanxi.platform.identity import selectors

router = Router(tags=["users and teams"])


class TeamOut(Schema):
    id: int
    name: str
    parent_id: int | None
    manager_id: int | None
    path: str


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    team_id: int | None
    role_code: str | None
    is_active: bool


def _user_out(user: object) -> UserOut:
    return UserOut(
        id=user.pk,  # type: ignore[attr-defined]
        username=user.username,  # type: ignore[attr-defined]
        display_name=str(user),
        team_id=user.team_id,  # type: ignore[attr-defined]
        role_code=user.role.code if user.role_id else None,  # type: ignore[attr-defined]
        is_active=user.is_active,  # type: ignore[attr-defined]
    )


@router.get("/me", response=responses(UserOut), summary="The signed-in user")
def me(request: HttpRequest) -> UserOut:
    return _user_out(actor_of(request).user)


@router.get("/users", response=responses(list[UserOut]), summary="List users")
def list_users(request: HttpRequest) -> list[UserOut]:
    return [_user_out(u) for u in selectors.user_list(actor=actor_of(request))]


@router.get("/teams", response=responses(list[TeamOut]), summary="List teams")
def list_teams(request: HttpRequest) -> list[TeamOut]:
    return [TeamOut.from_orm(t) for t in selectors.team_list(actor=actor_of(request))]


class RoleOut(Schema):
    id: int
    code: str
    name_zh: str
    name_en: str
    description: str
    permissions: list[str]
    scopes: dict[str, str]
    is_builtin: bool
    version: int


@router.get(
    "/roles",
    response=responses(list[RoleOut]),
    summary="List roles",
    description="Each role's action permissions and its data scope (own, team or all) per record type.",
)
def list_roles(request: HttpRequest) -> list[RoleOut]:
    return [
        RoleOut(
            id=role.pk,
            code=role.code,
            name_zh=role.name_zh,
            name_en=role.name_en,
            description=role.description,
            permissions=list(role.permissions),
            scopes=dict(role.scopes),
            is_builtin=role.is_builtin,
            version=role.version,
        )
        for role in selectors.role_list(actor=actor_of(request))
    ]


def mount(api: NinjaAPI) -> None:
    api.add_router("/", router)

"""Identity services: the team tree (moves, cycles, deletion), users (password rules, self-protection), roles."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.platform.core.errors import Conflict, PermissionDenied, StaleVersion, ValidationFailed
from guanxi.platform.identity import services
from guanxi.platform.identity.models import Role, Team, User
from guanxi.platform.identity.scoping import has_permission, team_subtree_ids
from tests.factories import UserFactory, role

# Teams -------------------------------------------------------------------------------------------


def test_moving_a_team_moves_its_whole_subtree(org: Any) -> None:
    services.team_update(actor=org.actor("admin"), team=org.north, name="华北销售", parent=org.south, manager=None)
    north, north_sub = Team.objects.get(pk=org.north.pk), Team.objects.get(pk=org.north_sub.pk)
    assert north.path == f"/{org.hq.pk}/{org.south.pk}/{org.north.pk}/"
    assert north_sub.path == f"{north.path}{org.north_sub.pk}/"
    assert (north.depth, north_sub.depth) == (2, 3)
    assert north.version == 2
    south_manager = UserFactory(team=org.south)
    assert set(team_subtree_ids(south_manager)) == {org.south.pk, org.north.pk, org.north_sub.pk}


def test_moving_a_team_to_the_top(org: Any) -> None:
    services.team_update(actor=org.actor("admin"), team=org.north, name="华北", parent=None, manager=org.manager_north)
    north = Team.objects.get(pk=org.north.pk)
    assert (north.path, north.depth, north.name) == (f"/{org.north.pk}/", 0, "华北")
    assert Team.objects.get(pk=org.north_sub.pk).path == f"/{org.north.pk}/{org.north_sub.pk}/"


@pytest.mark.parametrize("new_parent", ["north", "north_sub"])
def test_a_team_cannot_move_under_itself_or_its_sub_teams(org: Any, new_parent: str) -> None:
    with pytest.raises(ValidationFailed) as failed:
        services.team_update(
            actor=org.actor("admin"), team=org.north, name="x", parent=getattr(org, new_parent), manager=None
        )
    assert failed.value.fields == {"parent": ["A team cannot be placed under itself or one of its sub-teams."]}
    assert Team.objects.get(pk=org.north.pk).path == org.north.path


def test_cycle_check_uses_the_stored_tree_not_a_stale_copy(org: Any) -> None:
    stale_sub = Team.objects.get(pk=org.north_sub.pk)
    services.team_update(actor=org.actor("admin"), team=org.north_sub, name="北京组", parent=org.hq, manager=None)
    services.team_update(actor=org.actor("admin"), team=org.north, name="华北销售", parent=stale_sub, manager=None)
    assert Team.objects.get(pk=org.north.pk).path == f"/{org.hq.pk}/{org.north_sub.pk}/{org.north.pk}/"


def test_team_update_refuses_a_stale_version(org: Any) -> None:
    services.team_update(actor=org.actor("admin"), team=org.south, name="华南", parent=org.hq, manager=None, version=1)
    with pytest.raises(StaleVersion):
        services.team_update(
            actor=org.actor("admin"), team=org.south, name="南", parent=org.hq, manager=None, version=1
        )


def test_team_names_are_required_and_bounded(org: Any) -> None:
    with pytest.raises(ValidationFailed) as failed:
        services.team_create(actor=org.actor("admin"), name=" ")
    assert failed.value.fields == {"name": ["Enter a team name."]}
    with pytest.raises(ValidationFailed) as failed:
        services.team_create(actor=org.actor("admin"), name="队" * 101)
    assert failed.value.fields == {"name": ["Keep the name to 100 characters or fewer."]}


def test_only_empty_teams_are_deleted(org: Any) -> None:
    admin = org.actor("admin")
    with pytest.raises(Conflict, match=r"Move or delete the sub-teams first\."):
        services.team_delete(actor=admin, team=org.north)
    with pytest.raises(Conflict, match=r"Move the team's members to another team first\."):
        services.team_delete(actor=admin, team=org.south)
    empty = services.team_create(actor=admin, name="新团队", parent=org.hq)
    assert empty.path == f"{org.hq.path}{empty.pk}/"
    services.team_delete(actor=admin, team=empty)
    assert not Team.objects.filter(pk=empty.pk).exists()


def test_team_changes_need_identity_manage(org: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.team_create(actor=org.actor("manager_north"), name="x")
    with pytest.raises(PermissionDenied):
        services.team_update(actor=org.actor("manager_north"), team=org.north, name="x", parent=None, manager=None)


# Users -------------------------------------------------------------------------------------------


def test_admin_creates_a_user_with_a_hashed_password(org: Any) -> None:
    user = services.user_create(
        actor=org.actor("admin"),
        username="wang.fang",
        password="Qiuyue-2024-hu",
        display_name=" 王芳 ",
        email="Wang.Fang@Example.COM",
        team=org.south,
        role=role("sales_rep"),
    )
    assert (user.display_name, user.email, user.team, user.role.code) == (
        "王芳",
        "wang.fang@example.com",
        org.south,
        "sales_rep",
    )
    assert user.password != "Qiuyue-2024-hu" and user.check_password("Qiuyue-2024-hu")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "This password is too short. It must contain at least 10 characters."),
        ("1234567890123", "This password is entirely numeric."),
        ("password123", "This password is too common."),
    ],
)
def test_password_rules_are_enforced(org: Any, password: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as failed:
        services.user_create(actor=org.actor("admin"), username="li.na", password=password)
    assert message in failed.value.fields["password"]
    assert not User.objects.filter(username="li.na").exists()


def test_user_fields_are_validated_together(org: Any) -> None:
    with pytest.raises(ValidationFailed) as failed:
        services.user_create(
            actor=org.actor("admin"),
            username="bad name!",
            password="Qiuyue-2024-hu",
            display_name="名" * 101,
            email="not-an-email",
        )
    assert failed.value.fields == {
        "username": ["Use up to 150 letters, digits and @ . + - _ for the user name."],
        "display_name": ["Keep the name to 100 characters or fewer."],
        "email": ["Enter a valid e-mail address."],
    }
    with pytest.raises(ValidationFailed) as failed:
        services.user_create(actor=org.actor("admin"), username="REP_NORTH", password="Qiuyue-2024-hu")
    assert failed.value.fields == {"username": ["This user name is taken."]}


def test_admin_cannot_lock_themselves_out(org: Any) -> None:
    admin = org.actor("admin")
    with pytest.raises(ValidationFailed) as failed:
        services.user_update(
            actor=admin, user=org.admin, display_name="", email="", team=org.hq, role=role("sales_rep"), is_active=False
        )
    assert failed.value.fields == {
        "is_active": ["You cannot deactivate yourself."],
        "role": ["You cannot take away your own right to manage users."],
    }


def test_admin_moves_and_deactivates_another_user(org: Any) -> None:
    services.user_update(
        actor=org.actor("admin"),
        user=org.rep_north,
        display_name="北方代表",
        email="",
        team=org.south,
        role=role("sales_manager"),
        is_active=False,
    )
    rep = User.objects.get(pk=org.rep_north.pk)
    assert (rep.display_name, rep.team, rep.role.code, rep.is_active) == ("北方代表", org.south, "sales_manager", False)


def test_only_admins_reset_other_peoples_passwords(org: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.user_set_password(actor=org.actor("rep_north"), user=org.rep_south, password="Qiuyue-2024-hu")
    services.user_set_password(actor=org.actor("admin"), user=org.rep_south, password="Qiuyue-2024-hu")
    assert User.objects.get(pk=org.rep_south.pk).check_password("Qiuyue-2024-hu")


# Roles -------------------------------------------------------------------------------------------


def _save_role(actor: Any, role_obj: Role | None, **overrides: Any) -> Role:
    values: dict[str, Any] = {
        "code": "sales_assistant",
        "name_zh": "销售助理",
        "name_en": "Sales assistant",
        "description": "",
        "permissions": ["customers.view"],
        "scopes": {"customers": "team"},
    }
    values.update(overrides)
    return services.role_save(actor=actor, role=role_obj, **values)


def test_admin_creates_a_role_with_permissions_and_scopes(org: Any) -> None:
    created = _save_role(org.actor("admin"), None, permissions=["customers.view", "customers.view", "leads.view"])
    assert (created.code, created.permissions, created.scopes) == (
        "sales_assistant",
        ["customers.view", "leads.view"],
        {"customers": "team"},
    )
    assert created.is_builtin is False


def test_role_editing_refuses_unknown_permissions_and_scopes(org: Any) -> None:
    admin = org.actor("admin")
    with pytest.raises(ValidationFailed) as failed:
        _save_role(admin, None, permissions=["customers.view", "customers.fly"], scopes={"spaceships": "all"})
    assert failed.value.fields == {
        "permissions": ["Unknown permission: customers.fly"],
    }
    with pytest.raises(ValidationFailed) as failed:
        _save_role(admin, None, scopes={"spaceships": "all"})
    assert failed.value.fields == {"scopes": ["Unknown record type: spaceships"]}
    with pytest.raises(ValidationFailed) as failed:
        _save_role(admin, None, scopes={"customers": "galaxy"})
    assert failed.value.fields == {"scopes": ["Unknown data scope: galaxy"]}
    assert not Role.objects.filter(code="sales_assistant").exists()


def test_role_names_and_code_are_validated(org: Any) -> None:
    with pytest.raises(ValidationFailed) as failed:
        _save_role(org.actor("admin"), None, code="销售", name_zh="", name_en="n" * 101)
    assert failed.value.fields == {
        "name_zh": ["Enter a Chinese name."],
        "name_en": ["Keep the name to 100 characters or fewer."],
        "code": ["Start with a letter and use lower-case letters, digits, - and _ only (up to 50)."],
    }
    with pytest.raises(ValidationFailed) as failed:
        _save_role(org.actor("admin"), None, code="sales_rep")
    assert failed.value.fields == {"code": ["This code is taken."]}


def test_built_in_roles_are_editable_and_take_effect(org: Any) -> None:
    rep_role = role("sales_rep")
    assert not has_permission(org.rep_north, "customers.export")
    edited = _save_role(
        org.actor("admin"),
        rep_role,
        code="ignored",
        name_zh=rep_role.name_zh,
        name_en=rep_role.name_en,
        permissions=[*rep_role.permissions, "customers.export"],
        scopes={"customers": "team", "leads": "own"},
        version=1,
    )
    assert (edited.code, edited.is_builtin, edited.version) == ("sales_rep", True, 2)
    fresh = User.objects.get(pk=org.rep_north.pk)
    assert has_permission(fresh, "customers.export")
    assert fresh.role.scope_for("customers") == "team"
    with pytest.raises(StaleVersion):
        _save_role(org.actor("admin"), rep_role, version=1)


def test_admin_cannot_remove_user_management_from_their_own_role(org: Any) -> None:
    admin_role = role("administrator")
    with pytest.raises(ValidationFailed) as failed:
        _save_role(
            org.actor("admin"),
            admin_role,
            name_zh=admin_role.name_zh,
            name_en=admin_role.name_en,
            permissions=[p for p in admin_role.permissions if p != "identity.manage"],
            scopes=admin_role.scopes,
        )
    assert failed.value.fields == {"permissions": ["You cannot take away your own right to manage users."]}


def test_roles_are_managed_by_admins_only(org: Any) -> None:
    with pytest.raises(PermissionDenied):
        _save_role(org.actor("manager_north"), None)

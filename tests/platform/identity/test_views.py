"""Identity settings pages: users, teams and roles for administrators only; forms show errors in place."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.platform.identity.models import Role, Team, User
from tests.factories import UserFactory, role


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


ADMIN_PAGES = [
    ("identity:user_list", None),
    ("identity:user_create", None),
    ("identity:user_edit", "rep_south"),
    ("identity:user_password", "rep_south"),
    ("identity:team_list", None),
    ("identity:team_create", None),
    ("identity:team_edit", "south"),
    ("identity:role_list", None),
    ("identity:role_create", None),
    ("identity:role_edit", "role"),
    ("customfields:definition_list", None),
    ("customfields:definition_create", None),
    ("annotations:tag_list", None),
    ("audit:access_log", None),
]


def _url(org: Any, name: str, arg: str | None) -> str:
    if arg is None:
        return reverse(name)
    obj = role("sales_rep") if arg == "role" else getattr(org, arg)
    return reverse(name, args=[obj.pk])


@pytest.mark.parametrize("username", ["rep_north", "manager_north", "analyst"])
def test_settings_pages_refuse_users_without_the_permission(org: Any, username: str) -> None:
    client = _client(getattr(org, username))
    pages = [
        (name, arg) for name, arg in ADMIN_PAGES if not (username == "manager_north" and name == "annotations:tag_list")
    ]
    answers = {name: client.get(_url(org, name, arg)).status_code for name, arg in pages}
    assert answers == {name: 403 for name, _arg in pages}
    posts = [
        client.post(reverse("identity:user_create"), {"username": "x", "password1": "a", "password2": "a"}),
        client.post(reverse("identity:team_create"), {"name": "x"}),
        client.post(reverse("identity:team_delete", args=[org.north_sub.pk])),
        client.post(reverse("identity:role_edit", args=[role("sales_rep").pk]), {"name_zh": "x", "name_en": "x"}),
    ]
    assert [r.status_code for r in posts] == [403] * 4
    assert Team.objects.filter(pk=org.north_sub.pk).exists() and not User.objects.filter(username="x").exists()


def test_settings_pages_send_anonymous_visitors_to_login(db: None) -> None:
    response = Client().get(reverse("identity:user_list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_admin_sees_the_settings_navigation_and_a_rep_only_tokens(org: Any) -> None:
    admin_html = _client(org.admin).get(reverse("identity:token_list")).content.decode()
    for name in ("identity:user_list", "identity:team_list", "identity:role_list", "customfields:definition_list",
                 "annotations:tag_list", "audit:access_log", "identity:token_list"):  # fmt: skip
        assert f'href="{reverse(name)}"' in admin_html, name
    rep_html = _client(org.rep_north).get(reverse("identity:token_list")).content.decode()
    assert f'href="{reverse("identity:user_list")}"' not in rep_html
    assert f'href="{reverse("identity:token_list")}"' in rep_html


# Users -------------------------------------------------------------------------------------------


def test_admin_creates_a_user_from_the_form(org: Any) -> None:
    response = _client(org.admin).post(
        reverse("identity:user_create"),
        {
            "username": "zhao.lei",
            "display_name": "赵磊",
            "email": "zhao@example.com",
            "team": org.south.pk,
            "role": role("sales_rep").pk,
            "password1": "Chun-feng-2024!",
            "password2": "Chun-feng-2024!",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("identity:user_list")
    user = User.objects.get(username="zhao.lei")
    assert (user.display_name, user.team, user.role.code) == ("赵磊", org.south, "sales_rep")
    assert user.check_password("Chun-feng-2024!")


def test_user_form_shows_password_rules_next_to_the_field(org: Any) -> None:
    client = _client(org.admin)
    weak = client.post(reverse("identity:user_create"), {"username": "zl", "password1": "12345", "password2": "12345"})
    assert weak.status_code == 422
    html = weak.content.decode()
    assert 'id="id_password1_error">This password is too short.' in html
    assert "This password is entirely numeric." in html
    differ = client.post(
        reverse("identity:user_create"),
        {"username": "zl", "password1": "Chun-feng-2024!", "password2": "other-one-2024"},
    )
    assert differ.status_code == 422 and "The two passwords differ." in differ.content.decode()
    taken = client.post(
        reverse("identity:user_create"),
        {"username": "Rep_North", "password1": "Chun-feng-2024!", "password2": "Chun-feng-2024!"},
    )
    assert taken.status_code == 422 and 'id="id_username_error">This user name is taken.' in taken.content.decode()
    assert not User.objects.filter(username="zl").exists()


def test_admin_edits_team_role_and_status_and_resets_a_password(org: Any) -> None:
    client = _client(org.admin)
    edited = client.post(
        reverse("identity:user_edit", args=[org.rep_south.pk]),
        {"display_name": "南方", "email": "", "team": org.north.pk, "role": role("sales_manager").pk},
    )
    assert edited.status_code == 302
    user = User.objects.get(pk=org.rep_south.pk)
    assert (user.display_name, user.team, user.role.code, user.is_active) == ("南方", org.north, "sales_manager", False)
    reset = client.post(
        reverse("identity:user_password", args=[user.pk]),
        {"password1": "Xin-mi-ma-2025", "password2": "Xin-mi-ma-2025"},
    )
    assert reset.status_code == 302
    assert User.objects.get(pk=user.pk).check_password("Xin-mi-ma-2025")


def test_admin_cannot_deactivate_themselves_from_the_form(org: Any) -> None:
    response = _client(org.admin).post(
        reverse("identity:user_edit", args=[org.admin.pk]),
        {"display_name": "", "email": "", "team": org.hq.pk, "role": org.admin.role_id},
    )
    assert response.status_code == 422
    assert "You cannot deactivate yourself." in response.content.decode()


def test_user_list_filters_and_runs_the_same_queries_for_10_or_50_users(org: Any) -> None:
    client = _client(org.admin)

    def queries_with(rows: int) -> int:
        UserFactory.create_batch(rows - User.objects.filter(team=org.south).count(), team=org.south)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("identity:user_list"), {"team": org.south.pk, "active": "1"})
        assert response.status_code == 200
        assert len(response.context["page"].items) == rows
        return len(queries)

    assert queries_with(10) == queries_with(50)


def test_user_list_pages_with_a_cursor(org: Any) -> None:
    UserFactory.create_batch(55, team=org.south)
    client = _client(org.admin)
    first = client.get(reverse("identity:user_list"))
    assert "Next page" in first.content.decode()
    next_url = first.context["next_url"]
    second = client.get(reverse("identity:user_list") + next_url)
    assert len(first.context["page"].items) == 50
    assert len(second.context["page"].items) == User.objects.count() - 50


# Teams -------------------------------------------------------------------------------------------


def test_team_tree_lists_teams_under_their_parents(org: Any) -> None:
    html = _client(org.admin).get(reverse("identity:team_list")).content.decode()
    order = [html.index(name) for name in ("总部", "华北销售", "北京组", "华南销售")]
    assert order == sorted(order)
    assert 'class="tree-depth-2"' in html


def test_team_form_creates_moves_and_refuses_cycles(org: Any) -> None:
    client = _client(org.admin)
    created = client.post(reverse("identity:team_create"), {"name": "上海组", "parent": org.south.pk})
    assert created.status_code == 302
    shanghai = Team.objects.get(name="上海组")
    assert shanghai.path == f"{org.south.path}{shanghai.pk}/"
    cycle = client.post(
        reverse("identity:team_edit", args=[org.north.pk]),
        {"name": "华北销售", "parent": org.north_sub.pk, "version": 1},
    )
    assert cycle.status_code == 422
    assert "A team cannot be placed under itself or one of its sub-teams." in cycle.content.decode()
    moved = client.post(
        reverse("identity:team_edit", args=[org.north_sub.pk]),
        {"name": "北京组", "parent": org.south.pk, "manager": org.manager_north.pk, "version": 1},
    )
    assert moved.status_code == 302
    sub = Team.objects.get(pk=org.north_sub.pk)
    assert (sub.parent_id, sub.manager_id) == (org.south.pk, org.manager_north.pk)


def test_deleting_a_team_with_members_explains_why_not(org: Any) -> None:
    client = _client(org.admin)
    refused = client.post(reverse("identity:team_delete", args=[org.south.pk]), follow=True)
    assert "Move the team&#x27;s members to another team first." in refused.content.decode()
    assert Team.objects.filter(pk=org.south.pk).exists()
    empty = Team.objects.create(name="空团队", parent=org.hq)
    assert client.post(reverse("identity:team_delete", args=[empty.pk])).status_code == 302
    assert not Team.objects.filter(pk=empty.pk).exists()


# Roles -------------------------------------------------------------------------------------------


def test_role_page_shows_the_permission_matrix_and_scopes(org: Any) -> None:
    html = _client(org.admin).get(reverse("identity:role_edit", args=[role("sales_rep").pk])).content.decode()
    assert '<input type="checkbox" name="permissions" value="customers.view" checked>' in html
    assert '<input type="checkbox" name="permissions" value="identity.manage">' in html
    assert 'name="scope_customers"' in html and '<option value="own" selected>' in html


def test_admin_edits_a_built_in_role_through_the_matrix(org: Any) -> None:
    rep_role = role("sales_rep")
    response = _client(org.admin).post(
        reverse("identity:role_edit", args=[rep_role.pk]),
        {
            "name_zh": "销售代表",
            "name_en": "Sales rep",
            "description": "",
            "permissions": ["customers.view", "customers.add"],
            "scope_customers": "team",
            "scope_leads": "own",
            "version": 1,
        },
    )
    assert response.status_code == 302
    rep_role.refresh_from_db()
    assert (rep_role.permissions, rep_role.scopes, rep_role.version) == (
        ["customers.add", "customers.view"],
        {"customers": "team", "leads": "own"},
        2,
    )


def test_role_form_refuses_unknown_permissions_with_a_message(org: Any) -> None:
    response = _client(org.admin).post(
        reverse("identity:role_create"),
        {
            "code": "helper",
            "name_zh": "助手",
            "name_en": "Helper",
            "permissions": ["customers.view", "world.domination"],
        },
    )
    assert response.status_code == 422
    assert "Unknown permission: world.domination" in response.content.decode()
    assert not Role.objects.filter(code="helper").exists()


def test_admin_creates_a_role(org: Any) -> None:
    response = _client(org.admin).post(
        reverse("identity:role_create"),
        {
            "code": "auditor",
            "name_zh": "审计",
            "name_en": "Auditor",
            "permissions": ["audit.view"],
            "scope_customers": "all",
        },
    )
    assert response.status_code == 302
    auditor = Role.objects.get(code="auditor")
    assert (auditor.permissions, auditor.scopes["customers"]) == (["audit.view"], "all")

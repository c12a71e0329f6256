"""Settings records keep their change history: each edit is one row naming who made it, with the values
before and after, and the record's settings page shows it. The password hash is never kept or shown."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.customers.selectors.pool import pool_change_history
from guanxi.customers.services.pool import pool_save
from guanxi.platform.annotations.selectors import tag_history
from guanxi.platform.annotations.services import tag_save
from guanxi.platform.customfields.selectors import definition_history
from guanxi.platform.customfields.services import custom_field_save
from guanxi.platform.identity.models import Role, User
from guanxi.platform.identity.selectors import role_history, team_history, user_history
from guanxi.platform.identity.services import role_save, team_update, user_set_password, user_update
from tests.factories import role

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(user: Any, name: str, pk: int) -> str:
    response = _client(user).get(reverse(name, args=[pk]))
    assert response.status_code == 200
    return response.content.decode()


def _changes(entry: Any) -> dict[str, tuple[Any, Any]]:
    return {change.field: (change.before, change.after) for change in entry.changes}


def _rows(record: Any) -> list[Any]:
    return list(type(record).history.filter(id=record.pk).order_by("-history_date", "-history_id"))


def _custom_role(admin: Any) -> Role:
    return role_save(
        actor=admin,
        role=None,
        code="auditor",
        name_zh="审计员",
        name_en="Auditor",
        description="",
        permissions=["customers.view", "leads.view"],
        scopes={"customers": "own"},
    )


def test_editing_a_roles_permissions_records_one_row_with_added_and_removed_codes(org: Any) -> None:
    admin = org.actor("admin")
    created = _custom_role(admin)
    before = len(_rows(created))
    role_save(
        actor=admin,
        role=created,
        code=created.code,
        name_zh="审计员",
        name_en="Auditor",
        description="",
        permissions=["customers.view", "pool.view"],
        scopes={"customers": "all"},
        version=created.version,
    )
    rows = _rows(created)
    assert len(rows) == before + 1
    assert rows[0].history_user_id == org.admin.pk
    assert rows[0].permissions == ["customers.view", "pool.view"]
    entry = role_history(actor=admin, role=created)[0]
    perms = next(c for c in entry.changes if c.field == "permissions")
    assert [a.endswith("(pool.view)") for a in perms.added] == [True]
    assert [r.endswith("(leads.view)") for r in perms.removed] == [True]
    scopes = next(c for c in entry.changes if c.field == "scopes")
    assert "Own records" in scopes.before and "All records" in scopes.after
    html = _page(org.admin, "identity:role_edit", created.pk)
    assert 'id="role-history"' in html and "(pool.view)" in html and "(leads.view)" in html
    assert str(org.admin) in html


def test_moving_a_team_records_its_new_parent_and_who_moved_it(org: Any) -> None:
    admin = org.actor("admin")
    before = len(_rows(org.north_sub))
    team_update(actor=admin, team=org.north_sub, name=org.north_sub.name, parent=org.south, manager=None, version=None)
    rows = _rows(org.north_sub)
    assert len(rows) == before + 1
    assert rows[0].history_user_id == org.admin.pk
    entry = team_history(actor=admin, team=org.north_sub)[0]
    assert entry.user_name == str(org.admin)
    assert _changes(entry)["parent"] == (org.north.name, org.south.name)
    html = _page(org.admin, "identity:team_edit", org.north_sub.pk)
    assert 'id="team-history"' in html and org.south.name in html


def test_changing_a_users_role_records_before_and_after(org: Any) -> None:
    admin = org.actor("admin")
    subject = org.rep_south
    before = len(_rows(subject))
    user_update(
        actor=admin,
        user=subject,
        display_name=subject.display_name,
        email=subject.email,
        team=subject.team,
        role=role("sales_manager"),
        is_active=True,
    )
    rows = _rows(subject)
    assert len(rows) == before + 1
    assert rows[0].history_user_id == org.admin.pk
    entry = user_history(actor=admin, user=subject)[0]
    assert _changes(entry) == {"role": (str(role("sales_rep")), str(role("sales_manager")))}
    html = _page(org.admin, "identity:user_edit", subject.pk)
    assert 'id="user-history"' in html and str(role("sales_manager")) in html


def test_a_new_password_is_recorded_as_a_fact_never_as_the_hash(org: Any) -> None:
    admin = org.actor("admin")
    subject = org.rep_south
    before = len(_rows(subject))
    user_set_password(actor=admin, user=subject, password="another-long-passphrase-42")
    subject.refresh_from_db()
    rows = _rows(subject)
    assert len(rows) == before + 1
    assert rows[0].history_user_id == org.admin.pk
    assert not hasattr(rows[0], "password") and not hasattr(rows[0], "last_login")
    assert "password" not in {f.name for f in User.history.model._meta.get_fields()}
    entry = user_history(actor=admin, user=subject)[0]
    assert entry.reason == "Password changed" and entry.changes == []
    html = _page(org.admin, "identity:user_edit", subject.pk)
    assert "Password changed" in html and subject.password not in html
    assert subject.password.split("$")[-1] not in html


def test_signing_in_writes_no_history_row(org: Any) -> None:
    before = len(_rows(org.rep_south))
    client = Client()
    # Through the login page: django-axes needs the request that authenticate() gets there.
    response = client.post(reverse("ui:login"), {"username": "rep_south", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert len(_rows(org.rep_south)) == before


def test_changing_a_pools_rules_records_one_row_attributed_to_the_actor(org: Any) -> None:
    admin = org.actor("admin")
    pool = pool_save(actor=admin, data={"name": "华北公海", "cooldown_days": 3, "max_owned_per_rep": 50})
    pool_save(actor=admin, pool=pool, data={"cooldown_days": 7, "max_owned_per_rep": 80}, expected_version=pool.version)
    rows = _rows(pool)
    assert [row.history_type for row in rows] == ["~", "+"]
    assert rows[0].history_user_id == org.admin.pk
    entry = pool_change_history(actor=admin, pool=pool)[0]
    assert _changes(entry) == {"cooldown_days": (3, 7), "max_owned_per_rep": (50, 80)}
    html = _page(org.admin, "customers:pool_edit", pool.pk)
    assert 'id="pool-history"' in html and str(org.admin) in html


def test_taking_the_default_flag_records_the_move_on_the_previous_default(org: Any) -> None:
    admin = org.actor("admin")
    first = pool_save(actor=admin, data={"name": "公司公海", "is_default": True})
    pool_save(actor=admin, data={"name": "新公海", "is_default": True})
    entry = pool_change_history(actor=admin, pool=first)[0]
    assert entry.user_id == org.admin.pk
    assert _changes(entry) == {"is_default": ("Yes", "No")}


def test_changing_a_custom_fields_labels_records_before_and_after(org: Any) -> None:
    admin = org.actor("admin")
    values: dict[str, Any] = {
        "target": "customers.customer",
        "key": "grade",
        "label_zh": "等级",
        "label_en": "Grade",
        "field_type": "choice",
        "choices": [{"value": "a", "label_zh": "甲", "label_en": "A"}],
    }
    definition = custom_field_save(actor=admin, definition=None, **values)
    values.update(
        label_zh="客户等级",
        label_en="Customer grade",
        choices=[*values["choices"], {"value": "b", "label_zh": "乙", "label_en": "B"}],
    )
    custom_field_save(actor=admin, definition=definition, version=definition.version, **values)
    rows = _rows(definition)
    assert [row.history_type for row in rows] == ["~", "+"]
    assert rows[0].history_user_id == org.admin.pk
    changes = {c.field: c for c in definition_history(actor=admin, definition=definition)[0].changes}
    assert (changes["label_zh"].before, changes["label_zh"].after) == ("等级", "客户等级")
    assert (changes["label_en"].before, changes["label_en"].after) == ("Grade", "Customer grade")
    assert changes["choices"].added == ("b (乙 / B)",) and changes["choices"].removed == ()
    html = _page(org.admin, "customfields:definition_edit", definition.pk)
    assert 'id="custom-field-history"' in html and "Customer grade" in html and "b (乙 / B)" in html


def test_renaming_a_tag_shows_on_its_edit_page(org: Any) -> None:
    admin = org.actor("admin")
    tag = tag_save(actor=admin, tag=None, name="重要", color="red")
    tag_save(actor=admin, tag=tag, name="很重要", color="red", version=tag.version)
    entry = tag_history(actor=admin, tag=tag)[0]
    assert entry.user_id == org.admin.pk and _changes(entry) == {"name": ("重要", "很重要")}
    html = _page(org.admin, "annotations:tag_edit", tag.pk)
    assert 'id="tag-history"' in html and "很重要" in html


def test_role_page_history_runs_a_fixed_number_of_queries(org: Any) -> None:
    admin = org.actor("admin")
    created = _custom_role(admin)
    client = _client(org.admin)
    url = reverse("identity:role_edit", args=[created.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def edit(permissions: list[str]) -> None:
        current = Role.objects.get(pk=created.pk)
        role_save(
            actor=admin,
            role=current,
            code=current.code,
            name_zh=current.name_zh,
            name_en=current.name_en,
            description="",
            permissions=permissions,
            scopes=dict(current.scopes),
            version=current.version,
        )

    edit(["customers.view"])
    few = count()
    for index in range(6):
        edit(["customers.view", "leads.view"] if index % 2 else ["customers.view", "pool.view"])
    assert count() == few


def test_history_pages_need_the_managing_permission(org: Any) -> None:
    client = _client(org.rep_north)
    assert client.get(reverse("identity:user_edit", args=[org.rep_south.pk])).status_code in (403, 404)

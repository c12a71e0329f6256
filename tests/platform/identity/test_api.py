"""Identity API: roles (read) next to users and teams."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


def test_roles_are_listed_with_permissions_and_scopes(org: Any) -> None:
    client = Client()
    client.force_login(org.rep_north)
    response = client.get("/api/v1/roles")
    assert response.status_code == 200
    roles = {r["code"]: r for r in response.json()}
    assert set(roles) >= {"administrator", "sales_manager", "sales_rep", "marketer", "service_agent", "analyst"}
    rep = roles["sales_rep"]
    assert rep["is_builtin"] is True and rep["name_en"] == "Sales rep" and rep["name_zh"] == "销售代表"
    assert "customers.view" in rep["permissions"] and rep["scopes"]["customers"] == "own"


@pytest.mark.django_db
def test_roles_need_authentication() -> None:
    assert Client().get("/api/v1/roles").status_code == 401

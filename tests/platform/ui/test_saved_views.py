"""Saved views of list pages: save (and replace by name), share, list, delete only one's own."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.platform.core.errors import NotFound, ValidationFailed
from guanxi.platform.ui.models import SavedView
from guanxi.platform.ui.selectors import saved_views_for
from guanxi.platform.ui.services import clean_view_query, saved_view_delete, saved_view_save

TARGET = "customers.customer"


def test_save_keeps_the_filters_without_page_pointers(org: Any) -> None:
    view = saved_view_save(
        actor=org.actor("rep_north"), target=TARGET, name="  My VIPs ", query="?stage=active&cursor=abc&q=&tag_id=3"
    )
    assert (view.name, view.query, view.is_shared, view.user) == (
        "My VIPs",
        "stage=active&tag_id=3",
        False,
        org.rep_north,
    )


def test_saving_again_under_the_same_name_replaces_the_filters(org: Any) -> None:
    rep = org.actor("rep_north")
    first = saved_view_save(actor=rep, target=TARGET, name="Hot", query="rating_min=4")
    second = saved_view_save(actor=rep, target=TARGET, name="Hot", query="rating_min=5", is_shared=True)
    assert second.pk == first.pk
    assert (second.query, second.is_shared, second.version) == ("rating_min=5", True, 2)
    assert SavedView.objects.count() == 1


def test_a_name_is_required_and_limited(org: Any) -> None:
    rep = org.actor("rep_north")
    with pytest.raises(ValidationFailed) as exc:
        saved_view_save(actor=rep, target=TARGET, name="   ", query="stage=new")
    assert list(exc.value.fields) == ["name"]
    with pytest.raises(ValidationFailed) as exc:
        saved_view_save(actor=rep, target=TARGET, name="x" * 101, query="")
    assert list(exc.value.fields) == ["name"]
    with pytest.raises(ValidationFailed) as exc:
        saved_view_save(actor=rep, target=TARGET, name="long", query="q=" + "x" * 2100)
    assert list(exc.value.fields) == ["query"]
    assert SavedView.objects.count() == 0


def test_users_see_their_own_and_shared_views_of_that_list(org: Any) -> None:
    own = saved_view_save(actor=org.actor("rep_north"), target=TARGET, name="b mine", query="owner=me")
    shared = saved_view_save(actor=org.actor("manager_north"), target=TARGET, name="a team", query="", is_shared=True)
    saved_view_save(actor=org.actor("manager_north"), target=TARGET, name="private", query="stage=new")
    saved_view_save(actor=org.actor("rep_north"), target="customers.lead", name="leads", query="status=new")
    assert list(saved_views_for(actor=org.actor("rep_north"), target=TARGET)) == [shared, own]


def test_only_the_owner_deletes_a_view(org: Any) -> None:
    shared = saved_view_save(actor=org.actor("manager_north"), target=TARGET, name="team", query="", is_shared=True)
    with pytest.raises(NotFound):
        saved_view_delete(actor=org.actor("rep_north"), saved_view_id=shared.pk)
    saved_view_delete(actor=org.actor("manager_north"), saved_view_id=shared.pk)
    assert not SavedView.objects.exists()
    with pytest.raises(NotFound):
        saved_view_delete(actor=org.actor("manager_north"), saved_view_id=shared.pk)


def test_clean_view_query_drops_blank_values_and_cursors() -> None:
    assert clean_view_query("?a=1&b=&cursor=xyz&page=2&c=%E5%BC%A0") == "a=1&c=%E5%BC%A0"

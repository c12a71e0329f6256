"""The notifications API: a user's own notifications only (404 for anyone else's), the unread filter and
cursor pages with a fixed query count, the unread count, marking read; API tokens need the scope."""

from __future__ import annotations

from typing import Any

from django.test import Client

from guanxi.platform.identity.services import api_token_create
from guanxi.platform.notifications.models import Notification
from guanxi.platform.notifications.services import notification_send
from tests.platform.notifications.conftest import PLAIN, signed_in

API = "/api/v1/notifications"


def _notify(user: Any, title: str, url: str = "", read: bool = False) -> Notification:
    note = notification_send(recipient_id=user.pk, kind=PLAIN, title=title, body=f"about {title}", url=url)
    assert note is not None
    if read:
        Notification.objects.filter(pk=note.pk).update(read_at=note.created_at)
        note.refresh_from_db()
    return note


def _token_client(org: Any, *scopes: str) -> Client:
    _token, secret = api_token_create(actor=org.actor("rep_north"), name="t", scopes=list(scopes), expires_at=None)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_the_list_has_only_own_notifications_newest_first(org):
    older = _notify(org.rep_north, "older", url="/customers/1/")
    newer = _notify(org.rep_north, "newer", read=True)
    _notify(org.rep_south, "theirs")
    body = signed_in(org.rep_north).get(API).json()
    assert [n["id"] for n in body["items"]] == [newer.pk, older.pk] and body["next_cursor"] is None
    first = body["items"][1]
    assert first == {
        "id": older.pk,
        "kind": PLAIN,
        "title": "older",
        "body": "about older",
        "url": "/customers/1/",
        "read": False,
        "read_at": None,
        "created_at": first["created_at"],
    }
    assert body["items"][0]["read"] is True and body["items"][0]["read_at"] is not None


def test_external_links_are_not_handed_out(org):
    _notify(org.rep_north, "x", url="https://evil.example/")
    assert signed_in(org.rep_north).get(API).json()["items"][0]["url"] == ""


def test_the_unread_filter_and_cursor_pages(org):
    for n in range(5):
        _notify(org.rep_north, f"n{n}")
    _notify(org.rep_north, "seen", read=True)
    client = signed_in(org.rep_north)
    first = client.get(API, {"unread": "true", "limit": 3}).json()
    assert [n["title"] for n in first["items"]] == ["n4", "n3", "n2"]
    second = client.get(API, {"unread": "true", "limit": 3, "cursor": first["next_cursor"]}).json()
    assert [n["title"] for n in second["items"]] == ["n1", "n0"] and second["next_cursor"] is None
    assert len(client.get(API).json()["items"]) == 6


def test_a_bad_cursor_or_limit_is_refused(org):
    client = signed_in(org.rep_north)
    response = client.get(API, {"cursor": "junk"})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"cursor": ["This page link is not valid; start from the first page."]}
    assert client.get(API, {"limit": 0}).status_code == 422


def test_the_list_runs_a_fixed_number_of_queries(org, django_assert_num_queries):
    client = signed_in(org.rep_north)
    _notify(org.rep_north, "one")
    client.get(API)
    with django_assert_num_queries(3):  # session, user, the page
        assert len(client.get(API).json()["items"]) == 1
    for n in range(60):
        _notify(org.rep_north, f"more {n}")
    with django_assert_num_queries(3):
        assert len(client.get(API, {"unread": "true"}).json()["items"]) == 50


def test_the_unread_count(org):
    _notify(org.rep_north, "a")
    _notify(org.rep_north, "b")
    _notify(org.rep_north, "c", read=True)
    _notify(org.rep_south, "d")
    assert signed_in(org.rep_north).get(f"{API}/unread-count").json() == {"count": 2}


def test_marking_one_read(org):
    mine = _notify(org.rep_north, "mine")
    client = signed_in(org.rep_north)
    response = client.post(f"{API}/{mine.pk}/read")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == mine.pk and body["read"] is True
    again = client.post(f"{API}/{mine.pk}/read").json()
    assert again["read_at"] == body["read_at"]  # the first read time stays


def test_anyone_elses_notification_is_not_found(org):
    theirs = _notify(org.rep_south, "theirs")
    client = signed_in(org.rep_north)
    response = client.post(f"{API}/{theirs.pk}/read")
    missing = client.post(f"{API}/987654321/read")
    assert response.status_code == missing.status_code == 404
    assert (
        response.json()
        == missing.json()
        == {"error": {"code": "not_found", "message": "Notification not found.", "fields": {}}}
    )
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_touches_only_own(org):
    _notify(org.rep_north, "a")
    _notify(org.rep_north, "b")
    _notify(org.rep_south, "theirs")
    client = signed_in(org.rep_north)
    assert client.post(f"{API}/read-all").json() == {"marked": 2}
    assert client.post(f"{API}/read-all").json() == {"marked": 0}
    assert Notification.objects.filter(read_at__isnull=True).get().title == "theirs"


def test_signed_out_requests_are_refused(client):
    assert client.get(API).status_code == 401
    assert client.post(f"{API}/read-all").status_code == 401


def test_tokens_need_the_notifications_scope(org):
    _notify(org.rep_north, "a")
    other = _token_client(org, "customers:read")
    assert other.get(API).status_code == 403
    assert other.get("/api/v1/notification-preferences").status_code == 403
    reader = _token_client(org, "notifications:read")
    assert len(reader.get(API).json()["items"]) == 1
    assert reader.get(f"{API}/unread-count").json() == {"count": 1}
    refused = reader.post(f"{API}/read-all")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    put = reader.put("/api/v1/notification-preferences", {"digest": {"enabled": True}}, content_type="application/json")
    assert put.status_code == 403
    writer = _token_client(org, "notifications:write")
    assert writer.post(f"{API}/read-all").json() == {"marked": 1}
    assert writer.get(API).status_code == 200


def test_the_routes_are_in_the_openapi_document(org):
    paths = signed_in(org.rep_north).get("/api/v1/openapi.json").json()["paths"]
    assert {"get"} <= set(paths["/api/v1/notifications"])
    assert {"get", "put"} <= set(paths["/api/v1/notification-preferences"])
    assert "404" in paths["/api/v1/notifications/{notification_id}/read"]["post"]["responses"]

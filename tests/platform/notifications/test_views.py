"""The notifications pages: the list (all/unread, pages, fixed query count), the bell's badge and panel,
opening one (local links only), marking read; nobody reaches anyone else's notifications."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from guanxi.platform.notifications.models import Notification
from guanxi.platform.notifications.services import notification_send
from tests.platform.notifications.conftest import PLAIN, signed_in, with_email

HTMX = {"HTTP_HX_REQUEST": "true"}


def _notify(user: Any, title: str, url: str = "", read: bool = False) -> Notification:
    note = notification_send(recipient_id=user.pk, kind=PLAIN, title=title, body=f"about {title}", url=url)
    assert note is not None
    if read:
        Notification.objects.filter(pk=note.pk).update(read_at=note.created_at)
    return note


def test_the_list_shows_own_notifications_newest_first(org):
    _notify(org.rep_north, "Older note", url="/customers/1/")
    _notify(org.rep_north, "Newer note", read=True)
    _notify(org.rep_south, "not mine")
    html = signed_in(org.rep_north).get(reverse("notifications:list")).content.decode()
    assert html.index("Newer note") < html.index("Older note") and "not mine" not in html
    assert html.count("badge badge-warn") == 1
    assert reverse("notifications:preferences") in html


def test_the_unread_filter(org):
    _notify(org.rep_north, "fresh one")
    _notify(org.rep_north, "seen one", read=True)
    html = signed_in(org.rep_north).get(reverse("notifications:list"), {"filter": "unread"}).content.decode()
    assert "fresh one" in html and "seen one" not in html
    Notification.objects.update(read_at=Notification.objects.first().created_at)
    html = signed_in(org.rep_north).get(reverse("notifications:list"), {"filter": "unread"}).content.decode()
    assert "No unread notifications." in html


def test_the_list_pages_by_cursor_keeping_the_filter(org):
    for n in range(30):
        _notify(org.rep_north, f"note {n:02d}")
    client = signed_in(org.rep_north)
    first = client.get(reverse("notifications:list"), {"filter": "unread"})
    html = first.content.decode()
    assert "note 29" in html and "note 05" in html and "note 04" not in html
    next_query = first.context["next_query"]
    assert next_query.startswith("filter=unread&cursor=")
    second = client.get(f"{reverse('notifications:list')}?{next_query}").content.decode()
    assert "note 04" in second and "note 00" in second and "note 05" not in second
    assert "First page" in second and "Next page" not in second
    broken = client.get(reverse("notifications:list"), {"filter": "unread", "cursor": "junk"})
    assert broken.status_code == 302 and broken["Location"] == f"{reverse('notifications:list')}?filter=unread"


def test_the_list_runs_a_fixed_number_of_queries(org, django_assert_num_queries):
    client = signed_in(org.rep_north)
    _notify(org.rep_north, "one")
    client.get(reverse("notifications:list"))  # warm the session and permission caches
    # Session, user, the page of notifications.
    with django_assert_num_queries(3):
        assert client.get(reverse("notifications:list")).status_code == 200
    for n in range(40):
        _notify(org.rep_north, f"more {n}")
    with django_assert_num_queries(3):
        assert client.get(reverse("notifications:list"), {"filter": "unread"}).status_code == 200


def test_the_badge_counts_unread(org):
    _notify(org.rep_north, "a")
    _notify(org.rep_north, "b")
    _notify(org.rep_north, "c", read=True)
    _notify(org.rep_south, "d")
    html = signed_in(org.rep_north).get(reverse("notifications:badge"), **HTMX).content.decode()
    assert '<span class="badge-count">2</span>' in html


def test_the_bell_panel_lists_the_latest_ten(org, django_assert_num_queries):
    for n in range(12):
        _notify(org.rep_north, f"item {n:02d}", url="/customers/1/", read=n < 2)
    _notify(org.rep_south, "theirs")
    client = signed_in(org.rep_north)
    client.get(reverse("notifications:panel"), **HTMX)
    with django_assert_num_queries(4):  # session, user, the latest ten, the unread count
        response = client.get(reverse("notifications:panel"), **HTMX)
    html = response.content.decode()
    assert "item 11" in html and "item 02" in html and "item 01" not in html and "theirs" not in html
    assert html.count('class="unread"') == 10 and "<script" not in html
    newest = Notification.objects.get(title="item 11")
    assert reverse("notifications:open", args=[newest.pk]) in html
    assert reverse("notifications:mark_all_read") in html


def test_the_base_layout_carries_the_bell_with_its_panel(org):
    html = signed_in(org.rep_north).get(reverse("notifications:list")).content.decode()
    assert f'hx-get="{reverse("notifications:panel")}"' in html
    assert f'hx-get="{reverse("notifications:badge")}"' in html and "notifications-changed from:body" in html
    assert 'id="bell-panel"' in html


def test_mark_all_read_from_the_panel(org):
    _notify(org.rep_north, "a")
    _notify(org.rep_south, "theirs")
    response = signed_in(org.rep_north).post(reverse("notifications:mark_all_read"), **HTMX)
    assert response.status_code == 200 and response["HX-Trigger"] == "notifications-changed"
    assert "Mark all as read" not in response.content.decode()  # nothing unread any more
    assert list(Notification.objects.filter(read_at__isnull=True).values_list("title", flat=True)) == ["theirs"]


def test_mark_all_read_from_the_page_goes_back(org):
    _notify(org.rep_north, "a")
    client = signed_in(org.rep_north)
    response = client.post(reverse("notifications:mark_all_read"), {"next": "/notifications/?filter=unread"})
    assert response.status_code == 302 and response["Location"] == "/notifications/?filter=unread"
    response = client.post(reverse("notifications:mark_all_read"), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("notifications:list")


def test_mark_one_read(org):
    mine = _notify(org.rep_north, "mine")
    client = signed_in(org.rep_north)
    response = client.post(reverse("notifications:mark_read", args=[mine.pk]), **HTMX)
    assert response.status_code == 200 and response["HX-Trigger"] == "notifications-changed"
    html = response.content.decode()
    assert html.startswith("<tr") and "mine" in html and "badge-warn" not in html
    mine.refresh_from_db()
    assert mine.read_at is not None
    panel = client.post(reverse("notifications:mark_read", args=[mine.pk]), {"from": "panel"}, **HTMX)
    assert 'class="bell-list"' in panel.content.decode()
    page = client.post(reverse("notifications:mark_read", args=[mine.pk]))
    assert page.status_code == 302 and page["Location"] == reverse("notifications:list")


def test_opening_marks_read_and_follows_a_local_link(org):
    note = _notify(org.rep_north, "go", url="/customers/7/?tab=tasks")
    response = signed_in(org.rep_north).get(reverse("notifications:open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == "/customers/7/?tab=tasks"
    note.refresh_from_db()
    assert note.read_at is not None


def test_opening_never_leaves_the_site(org):
    client = signed_in(org.rep_north)
    for url in ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "/ok\n/x"]:
        note = _notify(org.rep_north, "bad", url=url)
        response = client.get(reverse("notifications:open", args=[note.pk]))
        assert response.status_code == 302 and response["Location"] == reverse("notifications:list"), url
    page = client.get(reverse("notifications:list")).content.decode()
    assert "This notification links outside guanxi, so it was not opened." in page
    plain = _notify(org.rep_north, "no link")
    assert client.get(reverse("notifications:open", args=[plain.pk]))["Location"] == reverse("notifications:list")


def test_nobody_opens_or_marks_anyone_elses(org):
    theirs = _notify(org.rep_south, "theirs", url="/customers/1/")
    client = signed_in(org.rep_north)
    assert client.get(reverse("notifications:open", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notifications:mark_read", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notifications:mark_read", args=[theirs.pk]), **HTMX).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_pages_need_a_signed_in_user(client):
    for name in ("notifications:list", "notifications:panel", "notifications:badge", "notifications:preferences"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and reverse("ui:login") in response["Location"], name
    assert client.get(reverse("notifications:open", args=[1])).status_code == 302


def test_the_list_renders_in_chinese(org):
    with_email(org.rep_north, language="zh-hans")
    _notify(org.rep_north, "提醒")
    html = signed_in(org.rep_north).get(reverse("notifications:list")).content.decode()
    assert "全部标为已读" in html and '<html lang="zh-hans">' in html

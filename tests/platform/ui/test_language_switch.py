"""The sidebar's language switch: it works whether or not the user saved a language in the preferences."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from guanxi.platform.identity.models import User


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_switch_sets_the_cookie_and_leaves_follow_the_browser_alone(org: Any) -> None:
    client = _client(org.rep_north)

    response = client.post(reverse("ui:language_switch"), {"language": "zh-hans", "next": "/customers/"})

    assert (response.status_code, response["Location"]) == (302, "/customers/")
    assert response.cookies["django_language"].value == "zh-hans"
    org.rep_north.refresh_from_db()
    assert org.rep_north.language == ""
    assert 'lang="zh-hans"' in client.get(reverse("ui:workbench")).content.decode()


def test_switch_changes_a_saved_language_which_would_otherwise_win(org: Any) -> None:
    org.rep_north.language, org.rep_north.time_zone = "en", "Europe/Berlin"
    org.rep_north.save()
    client = _client(org.rep_north)

    client.post(reverse("ui:language_switch"), {"language": "zh-hans", "next": "/"})

    org.rep_north.refresh_from_db()
    assert (org.rep_north.language, org.rep_north.time_zone) == ("zh-hans", "Europe/Berlin")
    assert 'lang="zh-hans"' in client.get(reverse("ui:workbench")).content.decode()


def test_an_unknown_language_changes_nothing(org: Any) -> None:
    org.rep_north.language = "en"
    org.rep_north.save()

    response = _client(org.rep_north).post(reverse("ui:language_switch"), {"language": "xx", "next": "/"})

    assert response.status_code == 302
    org.rep_north.refresh_from_db()
    assert org.rep_north.language == "en"


def test_switch_only_answers_post(org: Any) -> None:
    assert _client(org.rep_north).get(reverse("ui:language_switch")).status_code == 405

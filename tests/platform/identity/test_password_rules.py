"""Password rules (Django's validators: length 10, common, numeric, like the user's name) apply wherever a
password is set: the user form, an administrator's reset, createadmin and the demo; hashes are Argon2."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from guanxi.config.settings import base
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.identity.services import user_create, user_set_password

TOO_SHORT = "This password is too short. It must contain at least 10 characters."
COMMON = "This password is too common."
NUMERIC = "This password is entirely numeric."
SIMILAR = "The password is too similar to the username."


@pytest.mark.parametrize(
    ("password", "messages"),
    [
        ("Short-1", [TOO_SHORT]),
        ("1234567890", [COMMON, NUMERIC]),
        ("84736251907", [NUMERIC]),
        ("password123", [COMMON]),
        ("zhang.wei.2024", [SIMILAR]),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(org: Any, password: str, messages: list[str]) -> None:
    with pytest.raises(ValidationFailed) as failed:
        user_create(actor=org.actor("admin"), username="zhang.wei.2024", password=password, team=org.hq)
    assert failed.value.fields == {"password": messages}


def test_the_user_form_shows_the_rules_next_to_the_password(org: Any) -> None:
    client = Client()
    client.force_login(org.admin)
    response = client.post(
        reverse("identity:user_create"),
        {"username": "li.lei", "password1": "abc", "password2": "abc", "team": org.hq.pk},
    )
    assert response.status_code == 422
    assert TOO_SHORT in response.content.decode()


def test_an_administrators_reset_follows_the_rules(org: Any) -> None:
    with pytest.raises(ValidationFailed) as failed:
        user_set_password(actor=org.actor("admin"), user=org.rep_south, password="1234567890")
    assert failed.value.fields == {"password": [COMMON, NUMERIC]}
    user_set_password(actor=org.actor("admin"), user=org.rep_south, password="a-long-enough-passphrase")
    org.rep_south.refresh_from_db()
    assert org.rep_south.check_password("a-long-enough-passphrase")


def test_createadmin_refuses_a_password_like_the_user_name(db: None, tmp_path: Any, settings: Any) -> None:
    settings.VAR_DIR = tmp_path
    with pytest.raises(CommandError, match="too similar to the username"):
        call_command("guanxi_createadmin", username="superadmin", password="superadmin1")


def test_the_demo_password_passes_the_rules(db: None) -> None:
    from django.contrib.auth.password_validation import validate_password

    from guanxi.customers.demo import DEMO_PASSWORD, DEMO_USERS
    from guanxi.platform.identity.models import User

    for spec in DEMO_USERS:
        validate_password(DEMO_PASSWORD, User(username=spec.username, email=f"{spec.username}@demo.guanxi.example"))


def test_argon2_hashes_new_passwords_outside_the_tests() -> None:
    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS] == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]

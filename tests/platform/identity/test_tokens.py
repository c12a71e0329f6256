"""API tokens: scopes and expiry validated, the secret shown once and stored hashed, revoked/expired refused."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanxi.platform.core.errors import NotFound, ValidationFailed
from guanxi.platform.identity.models import ApiToken
from guanxi.platform.identity.services import api_token_create, api_token_revoke, token_scope_choices

ME = "/api/v1/me"


def test_scope_choices_are_read_and_write_per_area(org: Any) -> None:
    choices = token_scope_choices()
    assert {"admin:read", "admin:write", "customers:read", "customers:write", "leads:read"} <= set(choices)
    assert all(choice.endswith((":read", ":write")) for choice in choices)


def test_token_validation_names_every_bad_field(org: Any) -> None:
    with pytest.raises(ValidationFailed) as failed:
        api_token_create(
            actor=org.actor("rep_north"),
            name=" ",
            scopes=["customers:read", "rockets:launch"],
            expires_at=timezone.now() - dt.timedelta(minutes=1),
        )
    assert failed.value.fields == {
        "name": ["Give the token a name."],
        "scopes": ["Choose at least one scope from the list."],
        "expires_at": ["The expiry must be in the future."],
    }
    with pytest.raises(ValidationFailed) as failed:
        api_token_create(actor=org.actor("rep_north"), name="n" * 101, scopes=[], expires_at=None)
    assert failed.value.fields == {
        "name": ["Keep the name to 100 characters or fewer."],
        "scopes": ["Choose at least one scope from the list."],
    }
    assert ApiToken.objects.count() == 0


def test_only_a_hash_of_the_secret_is_stored(org: Any) -> None:
    token, secret = api_token_create(
        actor=org.actor("rep_north"), name="shop", scopes=["customers:write", "customers:read"], expires_at=None
    )
    assert secret.startswith(f"gx_{token.prefix}_")
    secret_part = secret.split("_", 2)[2]
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert stored["secret_hash"] == hashlib.sha256(secret_part.encode()).hexdigest()
    assert not any(secret_part in str(value) for value in stored.values())
    assert stored["scopes"] == ["customers:read", "customers:write"]


def test_a_valid_token_authenticates_and_records_its_use(org: Any) -> None:
    token, secret = api_token_create(actor=org.actor("rep_north"), name="t", scopes=["admin:read"], expires_at=None)
    assert token.last_used_at is None
    response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get(ME)
    assert response.status_code == 200 and response.json()["username"] == "rep_north"
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert timezone.now() - token.last_used_at < dt.timedelta(minutes=1)


def test_revoked_token_is_refused_with_401(org: Any) -> None:
    token, secret = api_token_create(actor=org.actor("rep_north"), name="t", scopes=["admin:read"], expires_at=None)
    api_token_revoke(actor=org.actor("rep_north"), token_id=token.pk)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_expired_token_is_refused_with_401(org: Any) -> None:
    token, secret = api_token_create(
        actor=org.actor("rep_north"), name="t", scopes=["admin:read"], expires_at=timezone.now() + dt.timedelta(days=1)
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(ME).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get(ME).status_code == 401


def test_tokens_of_deactivated_users_and_wrong_secrets_are_refused(org: Any) -> None:
    _token, secret = api_token_create(actor=org.actor("rep_north"), name="t", scopes=["admin:read"], expires_at=None)
    assert Client(HTTP_AUTHORIZATION=f"Bearer {secret[:-2]}xx").get(ME).status_code == 401
    org.rep_north.is_active = False
    org.rep_north.save()
    assert Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get(ME).status_code == 401


def test_token_scopes_limit_what_the_token_may_do(org: Any) -> None:
    _token, secret = api_token_create(actor=org.actor("admin"), name="t", scopes=["customers:read"], expires_at=None)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").post(
        "/api/v1/custom-fields",
        {"target": "customers.customer", "key": "size", "field_type": "text", "label_zh": "规模", "label_en": "Size"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_a_user_revokes_only_their_own_tokens(org: Any) -> None:
    token, _secret = api_token_create(actor=org.actor("rep_north"), name="t", scopes=["admin:read"], expires_at=None)
    with pytest.raises(NotFound):
        api_token_revoke(actor=org.actor("admin"), token_id=token.pk)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


# The tokens page ---------------------------------------------------------------------------------


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_secret_is_shown_once_on_the_page_after_creation(org: Any) -> None:
    client = _client(org.rep_north)
    created = client.post(
        reverse("identity:token_list"),
        {"name": "门店同步", "scopes": ["customers:read", "customers:write"], "expires_on": "2099-12-31"},
    )
    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    html = created.content.decode()
    secret = html.split('id="new-token-secret"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    assert secret.startswith(f"gx_{token.prefix}_")
    assert token.secret_hash == hashlib.sha256(secret.split("_", 2)[2].encode()).hexdigest()
    assert token.expires_at is not None and timezone.localtime(token.expires_at).date() == dt.date(2099, 12, 31)
    again = client.get(reverse("identity:token_list")).content.decode()
    assert secret not in again and "门店同步" in again and f"gx_{token.prefix}_…" in again
    assert Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get(ME).status_code == 200


def test_token_form_errors_appear_next_to_the_fields(org: Any) -> None:
    response = _client(org.rep_north).post(reverse("identity:token_list"), {"name": "", "expires_on": "2001-01-01"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "This field is required." in html
    response = _client(org.rep_north).post(reverse("identity:token_list"), {"name": "x", "expires_on": "2001-01-01"})
    html = response.content.decode()
    assert "Choose at least one scope from the list." in html and "The expiry must be in the future." in html
    assert ApiToken.objects.count() == 0


def test_tokens_page_lists_only_my_tokens_and_revokes_them(org: Any) -> None:
    mine, _ = api_token_create(actor=org.actor("rep_north"), name="mine", scopes=["admin:read"], expires_at=None)
    theirs, _ = api_token_create(actor=org.actor("rep_south"), name="theirs", scopes=["admin:read"], expires_at=None)
    client = _client(org.rep_north)
    html = client.get(reverse("identity:token_list")).content.decode()
    assert "mine" in html and "theirs" not in html and "Never used" in html
    assert client.post(reverse("identity:token_revoke", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("identity:token_revoke", args=[mine.pk])).status_code == 302
    assert ApiToken.objects.get(pk=mine.pk).revoked_at is not None
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None
    assert "Revoked" in client.get(reverse("identity:token_list")).content.decode()


def test_a_write_scope_includes_reading_the_same_area_only(org):
    from guanxi.platform.core.actors import Actor
    from guanxi.platform.identity.scoping import has_permission

    writer = Actor(user=org.rep_north, channel="api", token_id=1, token_scopes=frozenset({"customers:write"}))
    assert has_permission(writer, "customers.view") is True
    assert has_permission(writer, "customers.change") is True
    assert has_permission(writer, "leads.view") is False
    reader = Actor(user=org.rep_north, channel="api", token_id=1, token_scopes=frozenset({"customers:read"}))
    assert has_permission(reader, "customers.view") is True
    assert has_permission(reader, "customers.change") is False

"""Annotation API: tags CRUD, the tags/notes/files of a record, upload and download, and 404 for hidden records."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from guanxi.customers.models import Customer
from guanxi.platform.annotations import services
from guanxi.platform.annotations.file_types import ALLOWED as ALLOWED_FILE_KINDS
from guanxi.platform.annotations.models import Attachment, Note, Tag, TaggedItem
from tests.platform.annotations.conftest import CUSTOMER, PDF_BYTES, upload

API = "/api/v1"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def record_url(customer: Customer, what: str) -> str:
    return f"{API}/records/{CUSTOMER}/{customer.pk}/{what}"


# Tags --------------------------------------------------------------------------------------------


def test_tag_crud_for_a_tag_manager(org: Any) -> None:
    client = client_for(org.admin)
    created = client.post(f"{API}/tags", {"name": "VIP", "color": "red"}, content_type="application/json")
    assert created.status_code == 201, created.content
    tag = created.json()
    assert tag == {"id": tag["id"], "name": "VIP", "color": "red", "description": "", "version": 1}
    got = client.get(f"{API}/tags/{tag['id']}")
    assert got["ETag"] == '"1"'
    patched = client.patch(
        f"{API}/tags/{tag['id']}", {"color": "green"}, content_type="application/json", HTTP_IF_MATCH='"1"'
    )
    assert patched.status_code == 200 and patched.json()["color"] == "green" and patched["ETag"] == '"2"'
    stale = client.patch(f"{API}/tags/{tag['id']}", {"name": "x"}, content_type="application/json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    missing = client.patch(f"{API}/tags/{tag['id']}", {"name": "x"}, content_type="application/json")
    assert missing.status_code == 428
    assert client.delete(f"{API}/tags/{tag['id']}").status_code == 204
    assert Tag.objects.count() == 0


def test_tag_validation_errors_name_the_fields(org: Any) -> None:
    response = client_for(org.admin).post(
        f"{API}/tags", {"name": "x" * 60, "color": "plaid"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "name": ["Keep the name to 50 characters or fewer."],
        "color": ["Choose a colour from the list."],
    }


def test_reps_may_read_tags_but_not_create_them(org: Any, vip: Tag) -> None:
    client = client_for(org.rep_north)
    assert [t["name"] for t in client.get(f"{API}/tags").json()["items"]] == ["VIP"]
    response = client.post(f"{API}/tags", {"name": "Mine"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("rows", [10, 50])
def test_tag_list_runs_a_fixed_number_of_queries(org: Any, rows: int) -> None:
    Tag.objects.bulk_create([Tag(name=f"tag {i:03d}") for i in range(rows)])
    client = client_for(org.rep_north)
    client.get(f"{API}/tags?limit=5")  # warm the session and the user
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{API}/tags?limit=500")
    assert len(response.json()["items"]) == rows
    assert len(queries) == 3  # session, user, tags


def test_tag_list_pages_with_a_cursor(org: Any) -> None:
    Tag.objects.bulk_create([Tag(name=name) for name in ("a", "b", "c")])
    client = client_for(org.rep_north)
    first = client.get(f"{API}/tags?limit=2").json()
    assert [t["name"] for t in first["items"]] == ["a", "b"]
    second = client.get(f"{API}/tags?limit=2&cursor={first['next_cursor']}").json()
    assert [t["name"] for t in second["items"]] == ["c"] and second["next_cursor"] is None


# The tags of a record ----------------------------------------------------------------------------


def test_owner_tags_and_untags_a_record(org: Any, vip: Tag, hot: Tag, north_customer: Customer) -> None:
    client = client_for(org.rep_north)
    added = client.post(record_url(north_customer, "tags"), {"tag_id": vip.pk}, content_type="application/json")
    assert added.status_code == 200
    assert [t["name"] for t in added.json()] == ["VIP"]
    again = client.post(record_url(north_customer, "tags"), {"tag_id": vip.pk}, content_type="application/json")
    assert [t["name"] for t in again.json()] == ["VIP"]
    assert [t["name"] for t in client.get(record_url(north_customer, "tags")).json()] == ["VIP"]
    assert client.delete(record_url(north_customer, f"tags/{vip.pk}")).status_code == 204
    assert TaggedItem.objects.count() == 0
    bad = client.post(record_url(north_customer, "tags"), {"tag_id": 999}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["error"]["fields"] == {"tag_id": ["Choose a tag from the list."]}


def test_another_reps_record_answers_404_for_every_annotation_route(
    org: Any, vip: Tag, north_customer: Customer
) -> None:
    rep = org.actor("rep_north")
    note = services.note_add(actor=rep, target=CUSTOMER, object_id=north_customer.pk, body="secret")
    attachment = services.attachment_add(
        actor=rep, target=CUSTOMER, object_id=north_customer.pk, uploaded_file=upload("a.pdf", PDF_BYTES)
    )
    services.tags_assign(actor=rep, target=CUSTOMER, object_ids=[north_customer.pk], tag_id=vip.pk)
    client = client_for(org.rep_south)
    json = "application/json"
    answers = [
        client.get(record_url(north_customer, "tags")),
        client.post(record_url(north_customer, "tags"), {"tag_id": vip.pk}, content_type=json),
        client.delete(record_url(north_customer, f"tags/{vip.pk}")),
        client.get(record_url(north_customer, "notes")),
        client.post(record_url(north_customer, "notes"), {"body": "hi"}, content_type=json),
        client.get(f"{API}/notes/{note.pk}"),
        client.patch(f"{API}/notes/{note.pk}", {"body": "x", "version": 1}, content_type=json),
        client.delete(f"{API}/notes/{note.pk}"),
        client.get(record_url(north_customer, "attachments")),
        client.post(record_url(north_customer, "attachments"), {"file": upload("b.pdf", PDF_BYTES)}),
        client.get(f"{API}/attachments/{attachment.pk}"),
        client.get(f"{API}/attachments/{attachment.pk}/download"),
        client.delete(f"{API}/attachments/{attachment.pk}"),
        client.get(f"{API}/records/unknown.type/{north_customer.pk}/notes"),
    ]
    assert [r.status_code for r in answers] == [404] * len(answers)
    assert {r.json()["error"]["code"] for r in answers} == {"not_found"}
    assert "secret" not in "".join(r.content.decode() for r in answers)
    assert (Note.objects.count(), Attachment.objects.count(), TaggedItem.objects.count()) == (1, 1, 1)


# Notes -------------------------------------------------------------------------------------------


def test_notes_are_added_listed_edited_and_deleted(org: Any, north_customer: Customer) -> None:
    client = client_for(org.rep_north)
    created = client.post(
        record_url(north_customer, "notes"), {"body": "客户想要报价"}, content_type="application/json"
    )
    assert created.status_code == 201
    note = created.json()
    assert (note["body"], note["author_id"], note["version"]) == ("客户想要报价", org.rep_north.pk, 1)
    listed = client.get(record_url(north_customer, "notes")).json()
    assert [n["id"] for n in listed["items"]] == [note["id"]] and listed["next_cursor"] is None
    edited = client.patch(
        f"{API}/notes/{note['id']}", {"body": "已报价"}, content_type="application/json", HTTP_IF_MATCH='"1"'
    )
    assert edited.status_code == 200 and edited.json()["body"] == "已报价"
    assert client.delete(f"{API}/notes/{note['id']}").status_code == 204
    empty = client.post(record_url(north_customer, "notes"), {"body": " "}, content_type="application/json")
    assert empty.status_code == 422
    assert empty.json()["error"]["fields"] == {"body": ["Write something in the note."]}


@pytest.mark.parametrize("rows", [10, 50])
def test_note_list_runs_a_fixed_number_of_queries(org: Any, north_customer: Customer, rows: int) -> None:
    Note.objects.bulk_create(
        [Note(target=CUSTOMER, object_id=north_customer.pk, body=f"n{i}", author=org.rep_north) for i in range(rows)]
    )
    client = client_for(org.rep_north)
    client.get(f"{API}/tags")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(record_url(north_customer, "notes") + "?limit=100")
    assert len(response.json()["items"]) == rows
    assert len(queries) == 4  # session, user, the customer (visibility), the notes with their authors


# Attachments -------------------------------------------------------------------------------------


def test_upload_and_download_a_file(org: Any, north_customer: Customer) -> None:
    client = client_for(org.rep_north)
    created = client.post(record_url(north_customer, "attachments"), {"file": upload("报价单.pdf", PDF_BYTES)})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["file_name"], body["size"], body["content_type"]) == ("报价单.pdf", len(PDF_BYTES), "application/pdf")
    assert body["download_url"] == f"{API}/attachments/{body['id']}/download"
    listed = client.get(record_url(north_customer, "attachments")).json()
    assert [a["id"] for a in listed["items"]] == [body["id"]]
    download = client.get(body["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == "attachment; filename*=utf-8''%E6%8A%A5%E4%BB%B7%E5%8D%95.pdf"
    assert b"".join(download.streaming_content) == PDF_BYTES
    assert client.delete(f"{API}/attachments/{body['id']}").status_code == 204


def test_token_user_downloads_with_the_token(org: Any, north_customer: Customer) -> None:
    from guanxi.platform.identity.services import api_token_create

    attachment = services.attachment_add(
        actor=org.actor("rep_north"),
        target=CUSTOMER,
        object_id=north_customer.pk,
        uploaded_file=upload("a.pdf", PDF_BYTES),
    )
    _token, secret = api_token_create(
        actor=org.actor("rep_north"), name="t", scopes=["customers:read"], expires_at=None
    )
    response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get(f"{API}/attachments/{attachment.pk}/download")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="a.pdf"'


def test_refused_uploads_answer_422_with_the_reason(org: Any, north_customer: Customer, settings: Any) -> None:
    client = client_for(org.rep_north)
    exe = client.post(record_url(north_customer, "attachments"), {"file": upload("tool.exe", b"MZ\x90")})
    assert exe.status_code == 422
    assert exe.json()["error"]["fields"]["file"][0].startswith("Files of type .exe are not accepted.")
    settings.GUANXI_ATTACHMENT_MAX_BYTES = 1024
    big = client.post(record_url(north_customer, "attachments"), {"file": upload("big.pdf", b"%PDF-" + b"0" * 4096)})
    assert big.status_code == 422
    assert big.json()["error"]["fields"] == {"file": ["The file is too large (4 KB); the limit is 1 KB."]}
    missing = client.post(record_url(north_customer, "attachments"), {})
    assert missing.status_code == 422
    assert Attachment.objects.count() == 0


@pytest.mark.django_db
def test_annotation_routes_are_in_the_openapi_schema() -> None:
    paths = Client().get(f"{API}/openapi.json").json()["paths"]
    for path in (
        "/api/v1/tags",
        "/api/v1/tags/{tag_id}",
        "/api/v1/records/{target}/{object_id}/tags",
        "/api/v1/records/{target}/{object_id}/tags/{tag_id}",
        "/api/v1/records/{target}/{object_id}/notes",
        "/api/v1/notes/{note_id}",
        "/api/v1/records/{target}/{object_id}/attachments",
        "/api/v1/attachments/{attachment_id}",
        "/api/v1/attachments/{attachment_id}/download",
    ):
        assert path in paths, path
    download = paths["/api/v1/attachments/{attachment_id}/download"]["get"]["responses"]
    assert set(download) >= {"200", "401", "404", "422"}
    # The file comes with the type it was accepted as: every type an upload may have is declared.
    assert set(download["200"]["content"]) == {kind.content_type for kind in ALLOWED_FILE_KINDS.values()}
    assert "428" in paths["/api/v1/notes/{note_id}"]["patch"]["responses"]

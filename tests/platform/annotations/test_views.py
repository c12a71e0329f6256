"""Annotation web views: htmx panels for tags, notes and files, downloads, and the tags settings page."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.customers.models import Customer
from guanxi.platform.annotations import services
from guanxi.platform.annotations.models import Attachment, Note, Tag, TaggedItem
from tests.platform.annotations.conftest import CUSTOMER, PDF_BYTES, upload

HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def panel(name: str, customer: Customer, **extra: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"target": CUSTOMER, "object_id": customer.pk, **extra}.items())
    return f"{reverse(f'annotations:{name}')}?{query}"


# Tags panel --------------------------------------------------------------------------------------


def test_tags_panel_shows_tags_and_adds_and_removes_them(
    org: Any, vip: Tag, hot: Tag, north_customer: Customer
) -> None:
    client = client_for(org.rep_north)
    shown = client.get(panel("tags_panel", north_customer), **HTMX)
    assert shown.status_code == 200
    html = shown.content.decode()
    assert "No tags yet." in html and f'<option value="{vip.pk}">VIP</option>' in html
    added = client.post(
        reverse("annotations:tags_panel"),
        {"target": CUSTOMER, "object_id": north_customer.pk, "tag_id": vip.pk},
        **HTMX,
    )
    assert added.status_code == 200
    assert '<span class="tag tag-red">VIP' in added.content.decode()
    assert TaggedItem.objects.filter(tag=vip, object_id=north_customer.pk).exists()
    removed = client.delete(panel("tags_panel", north_customer, tag_id=vip.pk), **HTMX)
    assert removed.status_code == 200 and "No tags yet." in removed.content.decode()
    assert TaggedItem.objects.count() == 0


def test_tags_panel_reports_a_bad_tag_with_422(org: Any, north_customer: Customer) -> None:
    response = client_for(org.rep_north).post(
        reverse("annotations:tags_panel"), {"target": CUSTOMER, "object_id": north_customer.pk, "tag_id": "x"}, **HTMX
    )
    assert response.status_code == 422
    assert "Choose an item from the list." in response.content.decode()


def test_read_only_users_see_tags_without_controls(org: Any, vip: Tag, north_customer: Customer) -> None:
    services.tags_assign(actor=org.actor("rep_north"), target=CUSTOMER, object_ids=[north_customer.pk], tag_id=vip.pk)
    html = client_for(org.marketer).get(panel("tags_panel", north_customer), **HTMX).content.decode()
    assert "VIP" in html and "tag-remove" not in html and "<select" not in html


# Notes panel -------------------------------------------------------------------------------------


def test_notes_panel_adds_edits_and_deletes(org: Any, north_customer: Customer) -> None:
    client = client_for(org.rep_north)
    url = reverse("annotations:notes_panel")
    added = client.post(url, {"target": CUSTOMER, "object_id": north_customer.pk, "body": "第一条<b>备注</b>"}, **HTMX)
    assert added.status_code == 200
    assert "第一条&lt;b&gt;备注&lt;/b&gt;" in added.content.decode()
    note = Note.objects.get()
    editing = client.get(panel("notes_panel", north_customer, edit=note.pk), **HTMX).content.decode()
    assert f'name="note_id" value="{note.pk}"' in editing
    edited = client.post(
        url,
        {"target": CUSTOMER, "object_id": north_customer.pk, "note_id": note.pk, "body": "改", "version": 1},
        **HTMX,
    )
    assert edited.status_code == 200 and "改" in edited.content.decode()
    stale = client.post(
        url,
        {"target": CUSTOMER, "object_id": north_customer.pk, "note_id": note.pk, "body": "再改", "version": 1},
        **HTMX,
    )
    assert stale.status_code == 409
    assert "The record was changed by someone else." in stale.content.decode()
    deleted = client.delete(panel("notes_panel", north_customer, note_id=note.pk), **HTMX)
    assert deleted.status_code == 200 and "No notes yet." in deleted.content.decode()


def test_empty_note_is_refused_and_the_form_says_why(org: Any, north_customer: Customer) -> None:
    response = client_for(org.rep_north).post(
        reverse("annotations:notes_panel"), {"target": CUSTOMER, "object_id": north_customer.pk, "body": "  "}, **HTMX
    )
    assert response.status_code == 422
    assert "Write something in the note." in response.content.decode()


def test_other_peoples_notes_have_no_edit_controls(org: Any, north_customer: Customer) -> None:
    services.note_add(actor=org.actor("rep_north"), target=CUSTOMER, object_id=north_customer.pk, body="mine")
    html = client_for(org.manager_north).get(panel("notes_panel", north_customer), **HTMX).content.decode()
    assert "mine" in html and "hx-delete" not in html


# Files panel -------------------------------------------------------------------------------------


def test_files_panel_uploads_lists_and_downloads(org: Any, north_customer: Customer) -> None:
    client = client_for(org.rep_north)
    uploaded = client.post(
        reverse("annotations:attachments_panel"),
        {"target": CUSTOMER, "object_id": north_customer.pk, "file": upload("方案.pdf", PDF_BYTES)},
        **HTMX,
    )
    assert uploaded.status_code == 200
    attachment = Attachment.objects.get()
    assert reverse("annotations:attachment_download", args=[attachment.pk]) in uploaded.content.decode()
    download = client.get(reverse("annotations:attachment_download", args=[attachment.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    assert b"".join(download.streaming_content) == PDF_BYTES


def test_files_panel_refuses_an_executable_with_the_reason(org: Any, north_customer: Customer) -> None:
    response = client_for(org.rep_north).post(
        reverse("annotations:attachments_panel"),
        {"target": CUSTOMER, "object_id": north_customer.pk, "file": upload("run.exe", b"MZ\x90")},
        **HTMX,
    )
    assert response.status_code == 422
    assert "Files of type .exe are not accepted." in response.content.decode()
    assert Attachment.objects.count() == 0


def test_files_panel_refuses_a_too_large_file(org: Any, north_customer: Customer, settings: Any) -> None:
    settings.GUANXI_ATTACHMENT_MAX_BYTES = 1024
    response = client_for(org.rep_north).post(
        reverse("annotations:attachments_panel"),
        {"target": CUSTOMER, "object_id": north_customer.pk, "file": upload("big.pdf", b"%PDF-" + b"0" * 5000)},
        **HTMX,
    )
    assert response.status_code == 422
    assert "The file is too large (4 KB); the limit is 1 KB." in response.content.decode()


# Visibility --------------------------------------------------------------------------------------


def test_panels_and_downloads_of_another_reps_record_are_404(org: Any, vip: Tag, north_customer: Customer) -> None:
    rep = org.actor("rep_north")
    services.note_add(actor=rep, target=CUSTOMER, object_id=north_customer.pk, body="secret note")
    attachment = services.attachment_add(
        actor=rep, target=CUSTOMER, object_id=north_customer.pk, uploaded_file=upload("secret.pdf", PDF_BYTES)
    )
    client = client_for(org.rep_south)
    post = {"target": CUSTOMER, "object_id": north_customer.pk}
    answers = [
        client.get(panel("tags_panel", north_customer), **HTMX),
        client.get(panel("notes_panel", north_customer), **HTMX),
        client.get(panel("attachments_panel", north_customer), **HTMX),
        client.post(reverse("annotations:tags_panel"), {**post, "tag_id": vip.pk}, **HTMX),
        client.post(reverse("annotations:notes_panel"), {**post, "body": "hi"}, **HTMX),
        client.post(reverse("annotations:attachments_panel"), {**post, "file": upload("x.pdf", PDF_BYTES)}, **HTMX),
        client.get(reverse("annotations:attachment_download", args=[attachment.pk])),
        client.get(f"{reverse('annotations:notes_panel')}?target={CUSTOMER}&object_id=abc", **HTMX),
        client.get(f"{reverse('annotations:notes_panel')}?target=nope&object_id={north_customer.pk}", **HTMX),
    ]
    assert [r.status_code for r in answers] == [404] * len(answers)
    assert not any(b"secret" in r.content for r in answers)
    assert (Note.objects.count(), Attachment.objects.count(), TaggedItem.objects.count()) == (1, 1, 0)


def test_panels_need_a_signed_in_user(north_customer: Customer) -> None:
    response = Client().get(panel("notes_panel", north_customer))
    assert response.status_code == 302 and "/login/" in response["Location"]


# Tags settings page ------------------------------------------------------------------------------


def test_tag_settings_page_is_refused_to_users_without_tags_manage(org: Any, vip: Tag) -> None:
    client = client_for(org.rep_north)
    assert client.get(reverse("annotations:tag_list")).status_code == 403
    assert client.post(reverse("annotations:tag_list"), {"name": "x", "color": "red"}).status_code == 403
    assert client.get(reverse("annotations:tag_edit", args=[vip.pk])).status_code == 403
    assert client.post(reverse("annotations:tag_delete", args=[vip.pk])).status_code == 403
    assert Tag.objects.count() == 1


def test_tag_manager_creates_edits_and_deletes_tags(org: Any) -> None:
    client = client_for(org.marketer)
    created = client.post(
        reverse("annotations:tag_list"), {"name": "老客户", "color": "teal", "description": "三年以上"}
    )
    assert created.status_code == 302
    tag = Tag.objects.get()
    page = client.get(reverse("annotations:tag_list")).content.decode()
    assert '<span class="tag tag-teal">老客户</span>' in page
    edited = client.post(
        reverse("annotations:tag_edit", args=[tag.pk]), {"name": "老客户", "color": "pink", "version": 1}
    )
    assert edited.status_code == 302
    tag.refresh_from_db()
    assert (tag.color, tag.description, tag.version) == ("pink", "", 2)
    assert client.post(reverse("annotations:tag_delete", args=[tag.pk])).status_code == 302
    assert Tag.objects.count() == 0


def test_tag_form_shows_errors_next_to_the_fields(org: Any) -> None:
    response = client_for(org.admin).post(reverse("annotations:tag_list"), {"name": "", "color": "plaid"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Enter a tag name." in html and "Choose a colour from the list." in html


def test_tag_settings_page_runs_the_same_queries_for_10_or_50_tags(org: Any) -> None:
    client = client_for(org.admin)

    def queries_with(rows: int) -> int:
        Tag.objects.bulk_create([Tag(name=f"t{rows}-{i}") for i in range(rows - Tag.objects.count())])
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("annotations:tag_list"))
        assert response.content.decode().count('<span class="tag tag-blue">') == rows + 1  # + the colour picker
        return len(queries)

    assert queries_with(10) == queries_with(50)

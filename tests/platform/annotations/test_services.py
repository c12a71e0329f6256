"""Annotation services: tags, assigning them in bulk, notes and attachments, with their permission rules."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import default_storage

from guanxi.customers.models import Customer
from guanxi.platform.annotations import services
from guanxi.platform.annotations.models import Attachment, Note, Tag, TaggedItem
from guanxi.platform.core.errors import NotFound, PermissionDenied, StaleVersion, ValidationFailed
from tests.factories import CustomerFactory
from tests.platform.annotations.conftest import CUSTOMER, PDF_BYTES, upload

# Tags --------------------------------------------------------------------------------------------


def test_tag_manager_creates_and_renames_a_tag(org: Any) -> None:
    tag = services.tag_save(actor=org.actor("marketer"), tag=None, name=" 大客户 ", color="green", description="重点")
    assert (tag.name, tag.color, tag.description, tag.version) == ("大客户", "green", "重点", 1)
    tag = services.tag_save(actor=org.actor("admin"), tag=tag, name="重点客户", color="red", version=1)
    assert (tag.name, tag.color, tag.version) == ("重点客户", "red", 2)


def test_tag_validation_names_every_bad_field(org: Any) -> None:
    with pytest.raises(ValidationFailed) as failed:
        services.tag_save(actor=org.actor("admin"), tag=None, name="x" * 51, color="chartreuse", description="d" * 201)
    assert failed.value.fields == {
        "name": ["Keep the name to 50 characters or fewer."],
        "color": ["Choose a colour from the list."],
        "description": ["Keep the description to 200 characters or fewer."],
    }
    with pytest.raises(ValidationFailed) as failed:
        services.tag_save(actor=org.actor("admin"), tag=None, name="  ", color="red")
    assert failed.value.fields == {"name": ["Enter a tag name."]}


def test_tag_names_are_unique_regardless_of_case(org: Any, vip: Tag) -> None:
    with pytest.raises(ValidationFailed) as failed:
        services.tag_save(actor=org.actor("admin"), tag=None, name="vip", color="red")
    assert failed.value.fields == {"name": ["A tag with this name already exists."]}
    # Saving a tag under its own name is fine.
    services.tag_save(actor=org.actor("admin"), tag=vip, name="VIP", color="blue")


def test_stale_tag_update_is_refused(org: Any, vip: Tag) -> None:
    services.tag_save(actor=org.actor("admin"), tag=vip, name="VIP", color="blue", version=1)
    with pytest.raises(StaleVersion):
        services.tag_save(actor=org.actor("admin"), tag=vip, name="VIP!", color="blue", version=1)
    assert Tag.objects.get().name == "VIP"


def test_reps_may_not_manage_tags(org: Any, vip: Tag) -> None:
    with pytest.raises(PermissionDenied):
        services.tag_save(actor=org.actor("rep_north"), tag=None, name="Mine", color="red")
    with pytest.raises(PermissionDenied):
        services.tag_delete(actor=org.actor("rep_north"), tag=vip)
    assert Tag.objects.count() == 1


def test_deleting_a_tag_takes_it_off_every_record(org: Any, vip: Tag, north_customer: Customer) -> None:
    services.tags_assign(actor=org.actor("rep_north"), target=CUSTOMER, object_ids=[north_customer.pk], tag_id=vip.pk)
    services.tag_delete(actor=org.actor("admin"), tag=vip)
    assert TaggedItem.objects.count() == 0


# Assigning tags ----------------------------------------------------------------------------------


def test_bulk_tagging_skips_records_the_actor_cannot_see_and_is_idempotent(
    org: Any, vip: Tag, north_customer: Customer, south_customer: Customer
) -> None:
    rep = org.actor("rep_north")
    ids = [north_customer.pk, south_customer.pk, 999_999]
    assert services.tags_assign(actor=rep, target=CUSTOMER, object_ids=ids, tag_id=vip.pk) == 1
    assert services.tags_assign(actor=rep, target=CUSTOMER, object_ids=ids, tag_id=vip.pk) == 0
    assert list(TaggedItem.objects.values_list("object_id", "created_by")) == [(north_customer.pk, org.rep_north.pk)]
    assert services.tags_unassign(actor=rep, target=CUSTOMER, object_ids=ids, tag_id=vip.pk) == 1
    assert services.tags_unassign(actor=rep, target=CUSTOMER, object_ids=ids, tag_id=vip.pk) == 0
    assert TaggedItem.objects.count() == 0


def test_manager_tags_the_whole_team_in_one_call(org: Any, vip: Tag) -> None:
    team_customers = [CustomerFactory(owner=org.rep_north), CustomerFactory(owner=org.rep_north_sub)]
    south = CustomerFactory(owner=org.rep_south)
    ids = [c.pk for c in [*team_customers, south]]
    assert services.tags_assign(actor=org.actor("manager_north"), target=CUSTOMER, object_ids=ids, tag_id=vip.pk) == 2


def test_tagging_needs_the_right_to_change_the_records(org: Any, vip: Tag, north_customer: Customer) -> None:
    # The marketer sees every customer but may not edit them.
    with pytest.raises(PermissionDenied):
        services.tags_assign(
            actor=org.actor("marketer"), target=CUSTOMER, object_ids=[north_customer.pk], tag_id=vip.pk
        )
    assert TaggedItem.objects.count() == 0


def test_tagging_with_an_unknown_tag_or_type(org: Any, north_customer: Customer) -> None:
    rep = org.actor("rep_north")
    with pytest.raises(ValidationFailed) as failed:
        services.tags_assign(actor=rep, target=CUSTOMER, object_ids=[north_customer.pk], tag_id=12345)
    assert failed.value.fields == {"tag_id": ["Choose a tag from the list."]}
    with pytest.raises(NotFound):
        services.tags_assign(actor=rep, target="nope.nothing", object_ids=[north_customer.pk], tag_id=1)


def test_bulk_tagging_is_limited_to_a_thousand_records(org: Any, vip: Tag) -> None:
    with pytest.raises(ValidationFailed) as failed:
        services.tags_assign(actor=org.actor("admin"), target=CUSTOMER, object_ids=list(range(1, 1002)), tag_id=vip.pk)
    assert failed.value.fields == {"object_ids": ["Choose at most 1000 records at once."]}


def test_leads_take_tags_too(org: Any, vip: Tag) -> None:
    from tests.factories import LeadFactory

    mine, theirs = LeadFactory(owner=org.rep_north), LeadFactory(owner=org.rep_south)
    assert (
        services.tags_assign(
            actor=org.actor("rep_north"), target="customers.lead", object_ids=[mine.pk, theirs.pk], tag_id=vip.pk
        )
        == 1
    )


# Notes -------------------------------------------------------------------------------------------


def test_note_lifecycle_by_its_author(org: Any, north_customer: Customer) -> None:
    rep = org.actor("rep_north")
    note = services.note_add(actor=rep, target=CUSTOMER, object_id=north_customer.pk, body="  第一行 \r\n第二行  ")
    assert (note.body, note.author, note.version) == ("第一行\n第二行", org.rep_north, 1)
    note = services.note_update(actor=rep, note_id=note.pk, body="改过了", version=1)
    assert (note.body, note.version) == ("改过了", 2)
    with pytest.raises(StaleVersion):
        services.note_update(actor=rep, note_id=note.pk, body="again", version=1)
    services.note_delete(actor=rep, note_id=note.pk)
    assert Note.objects.count() == 0


def test_notes_need_a_body_of_reasonable_length(org: Any, north_customer: Customer) -> None:
    rep = org.actor("rep_north")
    with pytest.raises(ValidationFailed) as failed:
        services.note_add(actor=rep, target=CUSTOMER, object_id=north_customer.pk, body=" \n ")
    assert failed.value.fields == {"body": ["Write something in the note."]}
    with pytest.raises(ValidationFailed) as failed:
        services.note_add(actor=rep, target=CUSTOMER, object_id=north_customer.pk, body="字" * 10_001)
    assert failed.value.fields == {"body": ["Keep the note to 10000 characters or fewer."]}


def test_notes_on_a_record_the_actor_cannot_see_are_not_found(org: Any, north_customer: Customer) -> None:
    with pytest.raises(NotFound):
        services.note_add(actor=org.actor("rep_south"), target=CUSTOMER, object_id=north_customer.pk, body="hi")
    note = services.note_add(actor=org.actor("rep_north"), target=CUSTOMER, object_id=north_customer.pk, body="hi")
    with pytest.raises(NotFound):
        services.note_update(actor=org.actor("rep_south"), note_id=note.pk, body="mine now")
    with pytest.raises(NotFound):
        services.note_delete(actor=org.actor("rep_south"), note_id=note.pk)


def test_only_the_author_or_an_administrator_changes_a_note(org: Any, north_customer: Customer) -> None:
    note = services.note_add(actor=org.actor("rep_north"), target=CUSTOMER, object_id=north_customer.pk, body="hi")
    # The manager sees the record (team scope) and may add notes, but not edit someone else's.
    services.note_add(actor=org.actor("manager_north"), target=CUSTOMER, object_id=north_customer.pk, body="ok")
    with pytest.raises(PermissionDenied):
        services.note_update(actor=org.actor("manager_north"), note_id=note.pk, body="changed")
    services.note_delete(actor=org.actor("admin"), note_id=note.pk)
    assert list(Note.objects.values_list("body", flat=True)) == ["ok"]


# Attachments -------------------------------------------------------------------------------------


def test_attachment_is_stored_under_a_random_name_with_the_checked_type(org: Any, north_customer: Customer) -> None:
    attachment = services.attachment_add(
        actor=org.actor("rep_north"),
        target=CUSTOMER,
        object_id=north_customer.pk,
        uploaded_file=upload("../报价 单.pdf", PDF_BYTES, content_type="text/html"),
    )
    assert attachment.original_name == "报价 单.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(PDF_BYTES)
    assert attachment.uploaded_by == org.rep_north
    assert attachment.file.name.startswith("attachments/") and attachment.file.name.endswith(".pdf")
    assert "报价" not in attachment.file.name
    with default_storage.open(attachment.file.name, "rb") as stored:
        assert stored.read() == PDF_BYTES


def test_too_large_file_is_refused_with_a_clear_message(org: Any, north_customer: Customer, settings: Any) -> None:
    settings.GUANXI_ATTACHMENT_MAX_BYTES = 2 * 1024 * 1024
    big = upload("big.pdf", b"%PDF-" + b"0" * (3 * 1024 * 1024))
    with pytest.raises(ValidationFailed) as failed:
        services.attachment_add(
            actor=org.actor("rep_north"), target=CUSTOMER, object_id=north_customer.pk, uploaded_file=big
        )
    assert failed.value.fields == {"file": ["The file is too large (3 MB); the limit is 2 MB."]}
    assert Attachment.objects.count() == 0


def test_executable_is_refused_with_a_clear_message(org: Any, north_customer: Customer) -> None:
    with pytest.raises(ValidationFailed) as failed:
        services.attachment_add(
            actor=org.actor("rep_north"),
            target=CUSTOMER,
            object_id=north_customer.pk,
            uploaded_file=upload("setup.exe", b"MZ\x90\x00"),
        )
    assert failed.value.fields["file"][0].startswith("Files of type .exe are not accepted. Accepted types: .bmp, ")
    with pytest.raises(ValidationFailed) as failed:
        services.attachment_add(
            actor=org.actor("rep_north"),
            target=CUSTOMER,
            object_id=north_customer.pk,
            uploaded_file=upload("invoice.pdf", b"MZ\x90\x00"),
        )
    assert failed.value.fields == {"file": ["Programs, scripts and web pages cannot be attached."]}
    assert Attachment.objects.count() == 0


def test_attaching_needs_visibility_and_the_right_to_change(org: Any, north_customer: Customer) -> None:
    with pytest.raises(NotFound):
        services.attachment_add(
            actor=org.actor("rep_south"),
            target=CUSTOMER,
            object_id=north_customer.pk,
            uploaded_file=upload("a.pdf", PDF_BYTES),
        )
    with pytest.raises(PermissionDenied):
        services.attachment_add(
            actor=org.actor("analyst"),
            target=CUSTOMER,
            object_id=north_customer.pk,
            uploaded_file=upload("a.pdf", PDF_BYTES),
        )


def test_attachment_delete_by_uploader_removes_the_file_after_commit(
    org: Any, north_customer: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    attachment = services.attachment_add(
        actor=org.actor("rep_north"),
        target=CUSTOMER,
        object_id=north_customer.pk,
        uploaded_file=upload("a.pdf", PDF_BYTES),
    )
    name = attachment.file.name
    with pytest.raises(PermissionDenied):
        services.attachment_delete(actor=org.actor("manager_north"), attachment_id=attachment.pk)
    with pytest.raises(NotFound):
        services.attachment_delete(actor=org.actor("rep_south"), attachment_id=attachment.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.attachment_delete(actor=org.actor("rep_north"), attachment_id=attachment.pk)
    assert Attachment.objects.count() == 0
    assert not default_storage.exists(name)


def test_annotations_of_deleted_records_are_removed_with_their_files(
    org: Any, vip: Tag, north_customer: Customer, south_customer: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    for customer, rep in ((north_customer, "rep_north"), (south_customer, "rep_south")):
        actor = org.actor(rep)
        services.tags_assign(actor=actor, target=CUSTOMER, object_ids=[customer.pk], tag_id=vip.pk)
        services.note_add(actor=actor, target=CUSTOMER, object_id=customer.pk, body="n")
        services.attachment_add(
            actor=actor, target=CUSTOMER, object_id=customer.pk, uploaded_file=upload("a.pdf", PDF_BYTES)
        )
    gone = Attachment.objects.get(object_id=north_customer.pk).file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.annotations_delete_for_records(target=CUSTOMER, object_ids=[north_customer.pk])
    remaining = {
        "tags": list(TaggedItem.objects.values_list("object_id", flat=True)),
        "notes": list(Note.objects.values_list("object_id", flat=True)),
        "files": list(Attachment.objects.values_list("object_id", flat=True)),
    }
    assert remaining == {"tags": [south_customer.pk], "notes": [south_customer.pk], "files": [south_customer.pk]}
    assert not default_storage.exists(gone)


def test_a_read_only_token_cannot_add_or_change_notes(org, north_customer):
    from guanxi.platform.annotations.services import note_add, note_delete
    from guanxi.platform.core.actors import Actor
    from guanxi.platform.core.errors import PermissionDenied

    reader = Actor(user=org.rep_north, channel="api", token_id=1, token_scopes=frozenset({"customers:read"}))
    writer = Actor(user=org.rep_north, channel="api", token_id=2, token_scopes=frozenset({"customers:write"}))
    with pytest.raises(PermissionDenied):
        note_add(actor=reader, target="customers.customer", object_id=north_customer.pk, body="只读令牌")
    note = note_add(actor=writer, target="customers.customer", object_id=north_customer.pk, body="可写令牌")
    with pytest.raises(PermissionDenied):
        note_delete(actor=reader, note_id=note.pk)
    web = org.actor("rep_north")
    assert note_add(actor=web, target="customers.customer", object_id=north_customer.pk, body="网页").body == "网页"

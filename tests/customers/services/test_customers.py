"""Customer services: names typed with spaces, and deleting a customer with its tags, notes and files."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.customers.models import Customer
from guanxi.customers.models.choices import CustomerKind
from guanxi.customers.services.customers import customer_create, customer_delete, customer_update
from guanxi.platform.annotations import services as annotations
from guanxi.platform.annotations.models import Attachment, Note, Tag, TaggedItem
from guanxi.platform.core.errors import PermissionDenied
from tests.factories import CustomerFactory

CUSTOMER = "customers.customer"
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# Names --------------------------------------------------------------------------------------


def test_a_chinese_name_typed_with_spaces_is_stored_without_them(org: Any) -> None:
    customer = customer_create(actor=org.actor("rep_north"), data={"name": " 张 伟 "})
    customer.refresh_from_db()
    assert (customer.name, customer.family_name, customer.given_name) == ("张伟", "张", "伟")
    assert (customer.name_pinyin, customer.name_initials) == ("zhangwei", "zw")


def test_a_compound_surname_typed_with_spaces_agrees_with_its_parts(org: Any) -> None:
    customer = customer_create(actor=org.actor("rep_north"), data={"name": "欧阳 娜娜"})
    assert (customer.name, customer.family_name, customer.given_name) == ("欧阳娜娜", "欧阳", "娜娜")


def test_renaming_with_spaces_stores_the_parsed_full_name(org: Any) -> None:
    customer = customer_create(actor=org.actor("rep_north"), data={"name": "李四"})
    customer = customer_update(
        actor=org.actor("rep_north"), customer=customer, data={"name": "王 小 明"}, expected_version=1
    )
    customer.refresh_from_db()
    assert (customer.name, customer.family_name, customer.given_name, customer.version) == ("王小明", "王", "小明", 2)


def test_latin_names_keep_their_spaces(org: Any) -> None:
    customer = customer_create(actor=org.actor("rep_north"), data={"name": "Anna  Schmidt"})
    assert (customer.name, customer.family_name, customer.given_name) == ("Anna Schmidt", "Schmidt", "Anna")


def test_explicit_name_parts_are_kept_while_the_name_is_normalised(org: Any) -> None:
    customer = customer_create(
        actor=org.actor("rep_north"), data={"name": "司马 光", "family_name": "司马", "given_name": "光"}
    )
    assert (customer.name, customer.family_name, customer.given_name) == ("司马光", "司马", "光")


def test_organisation_names_are_left_as_typed(org: Any) -> None:
    customer = customer_create(
        actor=org.actor("rep_north"), data={"kind": CustomerKind.ORGANISATION, "name": "星河 科技"}
    )
    assert (customer.name, customer.family_name, customer.given_name) == ("星河 科技", "", "")


# Delete -------------------------------------------------------------------------------------


def _annotate(actor: Any, customer: Customer, tag: Tag) -> str:
    """Tag, note and file on the customer; returns the stored file name."""
    annotations.tags_assign(actor=actor, target=CUSTOMER, object_ids=[customer.pk], tag_id=tag.pk)
    annotations.note_add(actor=actor, target=CUSTOMER, object_id=customer.pk, body="VIP since 2019")
    upload = SimpleUploadedFile("contract.pdf", PDF_BYTES, content_type="application/pdf")
    attachment = annotations.attachment_add(actor=actor, target=CUSTOMER, object_id=customer.pk, uploaded_file=upload)
    return str(attachment.file.name)


def test_deleting_a_customer_removes_its_tags_notes_and_files(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    tag = Tag.objects.create(name="VIP", color=Tag.Color.RED)
    doomed = CustomerFactory(owner=org.rep_north)
    kept = CustomerFactory(owner=org.rep_north)
    gone_file = _annotate(org.actor("rep_north"), doomed, tag)
    kept_file = _annotate(org.actor("rep_north"), kept, tag)

    with django_capture_on_commit_callbacks(execute=True):
        customer_delete(actor=org.actor("manager_north"), customer=doomed)

    assert not Customer.objects.filter(pk=doomed.pk).exists()
    assert list(TaggedItem.objects.values_list("target", "object_id")) == [(CUSTOMER, kept.pk)]
    assert list(Note.objects.values_list("target", "object_id")) == [(CUSTOMER, kept.pk)]
    assert list(Attachment.objects.values_list("target", "object_id")) == [(CUSTOMER, kept.pk)]
    assert Tag.objects.filter(pk=tag.pk).exists()
    assert not default_storage.exists(gone_file)
    assert default_storage.exists(kept_file)


def test_the_file_stays_until_the_delete_commits(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    tag = Tag.objects.create(name="VIP", color=Tag.Color.RED)
    doomed = CustomerFactory(owner=org.rep_north)
    stored = _annotate(org.actor("rep_north"), doomed, tag)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        customer_delete(actor=org.actor("manager_north"), customer=doomed)
    assert Attachment.objects.count() == 0
    assert default_storage.exists(stored)
    for callback in callbacks:
        callback()
    assert not default_storage.exists(stored)


def test_a_refused_delete_keeps_the_annotations(org: Any) -> None:
    tag = Tag.objects.create(name="VIP", color=Tag.Color.RED)
    customer = CustomerFactory(owner=org.rep_north)
    _annotate(org.actor("rep_north"), customer, tag)
    with pytest.raises(PermissionDenied):
        customer_delete(actor=org.actor("rep_north"), customer=customer)
    assert (TaggedItem.objects.count(), Note.objects.count(), Attachment.objects.count()) == (1, 1, 1)

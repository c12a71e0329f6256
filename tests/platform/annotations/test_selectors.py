"""Annotation reads: tags of many records in one query, and notes/files only through a visible record."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.customers.models import Customer
from guanxi.platform.annotations import selectors, services
from guanxi.platform.annotations.models import Tag, TaggedItem
from guanxi.platform.core.errors import NotFound
from tests.factories import CustomerFactory
from tests.platform.annotations.conftest import CUSTOMER, PDF_BYTES, upload


@pytest.mark.parametrize("rows", [10, 50])
def test_tags_for_objects_is_one_query_whatever_the_page_size(
    org: Any, vip: Tag, hot: Tag, rows: int, django_assert_num_queries: Any
) -> None:
    customers = CustomerFactory.create_batch(rows, owner=org.rep_north)
    TaggedItem.objects.bulk_create(
        [TaggedItem(tag=tag, target=CUSTOMER, object_id=c.pk) for c in customers for tag in (vip, hot)]
    )
    with django_assert_num_queries(1):
        tags = selectors.tags_for_objects(target=CUSTOMER, object_ids=[c.pk for c in customers])
    assert {pk: [t.name for t in ts] for pk, ts in tags.items()} == {c.pk: ["Hot", "VIP"] for c in customers}


def test_tags_for_objects_gives_an_empty_list_for_untagged_records_and_no_query_for_none(
    org: Any, vip: Tag, django_assert_num_queries: Any
) -> None:
    a, b = CustomerFactory(owner=org.rep_north), CustomerFactory(owner=org.rep_north)
    TaggedItem.objects.create(tag=vip, target=CUSTOMER, object_id=a.pk)
    TaggedItem.objects.create(tag=vip, target="customers.lead", object_id=b.pk)
    assert selectors.tags_for_objects(target=CUSTOMER, object_ids=[a.pk, b.pk]) == {a.pk: [vip], b.pk: []}
    with django_assert_num_queries(0):
        assert selectors.tags_for_objects(target=CUSTOMER, object_ids=[]) == {}


def test_tag_list_counts_records(org: Any, vip: Tag, hot: Tag, north_customer: Customer) -> None:
    TaggedItem.objects.create(tag=vip, target=CUSTOMER, object_id=north_customer.pk)
    assert [(t.name, t.item_count) for t in selectors.tag_list(actor=org.actor("rep_north"))] == [
        ("Hot", 0),
        ("VIP", 1),
    ]


def test_other_reps_cannot_read_notes_files_or_tags_of_a_record(org: Any, vip: Tag, north_customer: Customer) -> None:
    rep = org.actor("rep_north")
    services.note_add(actor=rep, target=CUSTOMER, object_id=north_customer.pk, body="secret")
    attachment = services.attachment_add(
        actor=rep, target=CUSTOMER, object_id=north_customer.pk, uploaded_file=upload("a.pdf", PDF_BYTES)
    )
    services.tags_assign(actor=rep, target=CUSTOMER, object_ids=[north_customer.pk], tag_id=vip.pk)
    assert [n.body for n in selectors.notes_for(actor=rep, target=CUSTOMER, object_id=north_customer.pk)] == ["secret"]
    assert selectors.attachment_get_for_download(actor=rep, attachment_id=attachment.pk) == attachment

    south = org.actor("rep_south")
    with pytest.raises(NotFound):
        selectors.notes_for(actor=south, target=CUSTOMER, object_id=north_customer.pk)
    with pytest.raises(NotFound):
        selectors.attachments_for(actor=south, target=CUSTOMER, object_id=north_customer.pk)
    with pytest.raises(NotFound):
        selectors.tags_for_record(actor=south, target=CUSTOMER, object_id=north_customer.pk)
    with pytest.raises(NotFound):
        selectors.attachment_get_for_download(actor=south, attachment_id=attachment.pk)
    with pytest.raises(NotFound):
        selectors.notes_for(actor=rep, target="unknown.type", object_id=north_customer.pk)

"""Reads for annotations: tags (all, and per record in one query for list pages), notes and attachments.

Notes and attachments are read only through their record, so they follow the record's visibility:
a record the actor may not see makes its notes and files answer NotFound.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, QuerySet

from guanxi.platform.annotations.models import Attachment, Note, Tag, TaggedItem
from guanxi.platform.annotations.registry import require_annotated_type, visible_record
from guanxi.platform.audit.history import HistoryEntry, record_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound
from guanxi.platform.identity.permissions import IDENTITY_MANAGE, TAGS_MANAGE
from guanxi.platform.identity.scoping import has_permission, require_permission


def tag_list(*, actor: Actor) -> QuerySet[Tag]:
    """Every tag (everyone needs them to tag records and to filter lists), with how many records carry it."""
    return Tag.objects.annotate(item_count=Count("items")).order_by("name")


def tag_choices(*, actor: Actor) -> QuerySet[Tag]:
    """Every tag by name, without the counts: for pickers and filters on busy pages (counting the
    assignments of every tag reads the whole tagged-item table, 200 ms at a million customers)."""
    return Tag.objects.order_by("name")


def tag_get(*, actor: Actor, tag_id: int) -> Tag:
    tag = Tag.objects.filter(pk=tag_id).first()
    if tag is None:
        raise NotFound()
    return tag


def tag_history(*, actor: Actor, tag: Tag) -> list[HistoryEntry]:
    """Who renamed or recoloured the tag, and when (for those who manage tags)."""
    require_permission(actor, TAGS_MANAGE)
    return record_history(tag)


def tags_for_objects(*, target: str, object_ids: Iterable[int]) -> dict[int, list[Tag]]:
    """The tags of each record, in one query: for list pages whose rows are already visibility-checked."""
    ids = list(object_ids)
    result: dict[int, list[Tag]] = {object_id: [] for object_id in ids}
    if not ids:
        return result
    items = (
        TaggedItem.objects.filter(target=target, object_id__in=ids)
        .select_related("tag")
        .order_by("tag__name", "tag_id")
    )
    for item in items:
        result.setdefault(item.object_id, []).append(item.tag)
    return result


def record_get(*, actor: Actor, target: str, object_id: int) -> Any:
    """The annotated record itself, if the actor may see it."""
    return visible_record(actor, target, object_id)[1]


def annotation_record_check(*, actor: Actor, target: str, object_id: int) -> None:
    """NotFound unless the actor may see the record a note or file is on.

    The message is the one a missing note or file gets: the record's own message ("Customer not found.")
    would tell that the note or file exists.
    """
    try:
        visible_record(actor, target, object_id)
    except NotFound:
        raise NotFound() from None


def record_can_change(*, actor: Actor, target: str, record: Any) -> bool:
    """Whether the actor may tag the record and attach files to it."""
    return bool(require_annotated_type(target).can_change(actor, record))


def tags_for_record(*, actor: Actor, target: str, object_id: int) -> list[Tag]:
    visible_record(actor, target, object_id)
    return tags_for_objects(target=target, object_ids=[int(object_id)])[int(object_id)]


def notes_for(*, actor: Actor, target: str, object_id: int) -> QuerySet[Note]:
    """The notes on a record, newest first."""
    visible_record(actor, target, object_id)
    return Note.objects.filter(target=target, object_id=int(object_id)).select_related("author").order_by("-id")


def attachments_for(*, actor: Actor, target: str, object_id: int) -> QuerySet[Attachment]:
    """The files attached to a record, newest first."""
    visible_record(actor, target, object_id)
    return (
        Attachment.objects.filter(target=target, object_id=int(object_id)).select_related("uploaded_by").order_by("-id")
    )


def attachment_get_for_download(*, actor: Actor, attachment_id: int) -> Attachment:
    """An attachment whose record the actor may see; NotFound otherwise (also for hidden records)."""
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound()
    annotation_record_check(actor=actor, target=attachment.target, object_id=attachment.object_id)
    return attachment


def note_get(*, actor: Actor, note_id: int) -> Note:
    note = Note.objects.select_related("author").filter(pk=note_id).first()
    if note is None:
        raise NotFound()
    annotation_record_check(actor=actor, target=note.target, object_id=note.object_id)
    return note


def may_edit_annotation(*, actor: Actor, author_id: int | None) -> bool:
    """Notes and files are edited or deleted by whoever added them, or by an administrator."""
    return author_id == actor.user.pk or has_permission(actor, IDENTITY_MANAGE)

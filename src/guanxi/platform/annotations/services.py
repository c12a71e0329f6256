"""Writes for annotations: tags and their assignment to records, notes and attachments.

A record is reached only through its registered type (`registry.register_annotated`), whose getters
apply the actor's visibility: a record the actor may not see answers NotFound, like everywhere else.
Who may do what:
- tags: creating, renaming and deleting them needs `tags.manage`; putting them on a record or taking
  them off needs the right to change that record.
- notes: anyone who can see a record may add one; only the author or an administrator edits or deletes it.
- attachments: adding one needs the right to change the record; deleting it needs the uploader or an
  administrator.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from guanxi.platform.annotations.file_types import FileRefused, check_upload, extension_of, sanitize_file_name
from guanxi.platform.annotations.models import Attachment, Note, Tag, TaggedItem
from guanxi.platform.annotations.registry import AnnotatedType, require_annotated_type, visible_record
from guanxi.platform.annotations.selectors import annotation_record_check, may_edit_annotation
from guanxi.platform.audit.history import attribute_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.platform.core.text import clean_multiline, clean_text
from guanxi.platform.core.versioning import ensure_version
from guanxi.platform.identity.permissions import TAGS_MANAGE
from guanxi.platform.identity.scoping import require_permission

TAG_NAME_MAX = 50
TAG_DESCRIPTION_MAX = 200
NOTE_MAX = 10_000
BULK_MAX = 1_000


# Records ---------------------------------------------------------------------------------------


def _require_change(actor: Actor, spec: AnnotatedType, record: Any) -> None:
    if not spec.can_change(actor, record):
        raise PermissionDenied(_("You may not change this record."))


def _require_write_scope_for_tokens(actor: Actor, target: str, object_id: int) -> None:
    """People may note on any record they can see; an API token also needs write access to its area,
    so a read-only token stays read-only."""
    if actor.token_scopes is None:
        return
    spec, record = visible_record(actor, target, object_id)
    _require_change(actor, spec, record)


# Tags ------------------------------------------------------------------------------------------


@transaction.atomic
def tag_save(
    *,
    actor: Actor,
    tag: Tag | None,
    name: str,
    color: str,
    description: str = "",
    version: int | None = None,
) -> Tag:
    """Create (tag=None) or update a tag. Names are unique regardless of case."""
    require_permission(actor, TAGS_MANAGE)
    name = clean_text(name)
    description = clean_text(description)
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Enter a tag name.")]
    elif len(name) > TAG_NAME_MAX:
        errors["name"] = [_("Keep the name to %(n)s characters or fewer.") % {"n": TAG_NAME_MAX}]
    else:
        same_name = Tag.objects.filter(name__iexact=name)
        if tag is not None:
            same_name = same_name.exclude(pk=tag.pk)
        if same_name.exists():
            errors["name"] = [_("A tag with this name already exists.")]
    if color not in Tag.Color.values:
        errors["color"] = [_("Choose a colour from the list.")]
    if len(description) > TAG_DESCRIPTION_MAX:
        errors["description"] = [_("Keep the description to %(n)s characters or fewer.") % {"n": TAG_DESCRIPTION_MAX}]
    if errors:
        raise ValidationFailed(fields=errors)
    if tag is None:
        tag = Tag()
    else:
        tag = Tag.objects.select_for_update().get(pk=tag.pk)
        ensure_version(tag, version)
        tag.bump_version()
    tag.name, tag.color, tag.description = name, color, description
    attribute_history(tag, actor)
    try:
        with transaction.atomic():
            tag.save()
    except IntegrityError:  # a concurrent save took the name between our check and the insert
        raise ValidationFailed.for_field("name", _("A tag with this name already exists.")) from None
    return tag


@transaction.atomic
def tag_delete(*, actor: Actor, tag: Tag) -> None:
    """Delete a tag and take it off every record."""
    require_permission(actor, TAGS_MANAGE)
    locked = Tag.objects.filter(pk=tag.pk).first()
    if locked is None:
        return
    attribute_history(locked, actor)
    locked.delete()


def _clean_object_ids(object_ids: list[int]) -> list[int]:
    try:
        ids = list(dict.fromkeys(int(i) for i in object_ids))
    except (TypeError, ValueError):
        raise ValidationFailed.for_field("object_ids", _("Give record ids as whole numbers.")) from None
    if len(ids) > BULK_MAX:
        raise ValidationFailed.for_field("object_ids", _("Choose at most %(n)s records at once.") % {"n": BULK_MAX})
    return ids


def _changeable_visible_ids(actor: Actor, spec: AnnotatedType, object_ids: list[int]) -> list[int]:
    """The ids among `object_ids` the actor may see; PermissionDenied if they may not change one of them."""
    visible = spec.filter_visible(actor, object_ids)
    if not visible:
        return []
    records = spec.model._default_manager.in_bulk(visible)
    if any(not spec.can_change(actor, record) for record in records.values()):
        raise PermissionDenied(_("You may not change some of these records."))
    return [i for i in visible if i in records]


def _tag_for_assignment(tag_id: int) -> Tag:
    tag = Tag.objects.filter(pk=tag_id).first()
    if tag is None:
        raise ValidationFailed.for_field("tag_id", _("Choose a tag from the list."))
    return tag


@transaction.atomic
def tags_assign(*, actor: Actor, target: str, object_ids: list[int], tag_id: int) -> int:
    """Put a tag on the records among `object_ids` the actor may see; returns how many newly got it.

    Ids the actor cannot see are skipped silently (nothing reveals that they exist); assigning a tag a
    record already has changes nothing.
    """
    spec = require_annotated_type(target)
    tag = _tag_for_assignment(tag_id)
    ids = _changeable_visible_ids(actor, spec, _clean_object_ids(object_ids))
    if not ids:
        return 0
    existing = set(
        TaggedItem.objects.filter(tag=tag, target=target, object_id__in=ids).values_list("object_id", flat=True)
    )
    new_items = [
        TaggedItem(tag=tag, target=target, object_id=object_id, created_by=actor.user)
        for object_id in ids
        if object_id not in existing
    ]
    TaggedItem.objects.bulk_create(new_items, ignore_conflicts=True)
    return len(new_items)


@transaction.atomic
def tags_unassign(*, actor: Actor, target: str, object_ids: list[int], tag_id: int) -> int:
    """Take a tag off the records among `object_ids` the actor may see; returns how many lost it."""
    spec = require_annotated_type(target)
    tag = _tag_for_assignment(tag_id)
    ids = _changeable_visible_ids(actor, spec, _clean_object_ids(object_ids))
    if not ids:
        return 0
    deleted, _per_model = TaggedItem.objects.filter(tag=tag, target=target, object_id__in=ids).delete()
    return int(deleted)


# Notes -----------------------------------------------------------------------------------------


def _clean_note_body(body: str) -> str:
    text = clean_multiline(body)
    if not text:
        raise ValidationFailed.for_field("body", _("Write something in the note."))
    if len(text) > NOTE_MAX:
        raise ValidationFailed.for_field("body", _("Keep the note to %(n)s characters or fewer.") % {"n": NOTE_MAX})
    return text


@transaction.atomic
def note_add(*, actor: Actor, target: str, object_id: int, body: str) -> Note:
    visible_record(actor, target, object_id)
    _require_write_scope_for_tokens(actor, target, object_id)
    note = Note(target=target, object_id=int(object_id), body=_clean_note_body(body), author=actor.user)
    attribute_history(note, actor)
    note.save()
    return note


def _note_for_change(actor: Actor, note_id: int) -> Note:
    note = Note.objects.select_for_update().filter(pk=note_id).first()
    if note is None:
        raise NotFound()
    annotation_record_check(actor=actor, target=note.target, object_id=note.object_id)
    _require_write_scope_for_tokens(actor, note.target, note.object_id)
    if not may_edit_annotation(actor=actor, author_id=note.author_id):
        raise PermissionDenied(_("Only the author or an administrator may change this note."))
    return note


@transaction.atomic
def note_update(*, actor: Actor, note_id: int, body: str, version: int | None = None) -> Note:
    note = _note_for_change(actor, note_id)
    ensure_version(note, version)
    note.body = _clean_note_body(body)
    note.bump_version()
    attribute_history(note, actor)
    note.save()
    return note


@transaction.atomic
def note_delete(*, actor: Actor, note_id: int) -> None:
    note = _note_for_change(actor, note_id)
    attribute_history(note, actor)
    note.delete()


# Attachments -----------------------------------------------------------------------------------


def _size_label(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    return f"{max(size // 1024, 1)} KB"


@transaction.atomic
def attachment_add(*, actor: Actor, target: str, object_id: int, uploaded_file: UploadedFile) -> Attachment:
    """Attach an uploaded file to a record: checked for size and type, stored under a random name."""
    spec, record = visible_record(actor, target, object_id)
    _require_change(actor, spec, record)
    limit = int(settings.GUANXI_ATTACHMENT_MAX_BYTES)
    size = int(uploaded_file.size or 0)
    if size > limit:
        raise ValidationFailed.for_field(
            "file",
            _("The file is too large (%(size)s); the limit is %(limit)s.")
            % {"size": _size_label(size), "limit": _size_label(limit)},
        )
    name = sanitize_file_name(uploaded_file.name)
    try:
        kind = check_upload(name, uploaded_file)
    except FileRefused as exc:
        raise ValidationFailed.for_field("file", str(exc)) from None
    attachment = Attachment(
        target=target,
        object_id=int(object_id),
        original_name=name,
        size=size,
        content_type=kind.content_type,
        uploaded_by=actor.user,
    )
    attachment.file.save(f"{uuid.uuid4().hex}.{extension_of(name)}", uploaded_file, save=False)
    stored_name = str(attachment.file.name)
    try:
        attachment.save()
    except Exception:
        attachment.file.storage.delete(stored_name)
        raise
    return attachment


@transaction.atomic
def attachment_delete(*, actor: Actor, attachment_id: int) -> None:
    attachment = Attachment.objects.select_for_update().filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound()
    annotation_record_check(actor=actor, target=attachment.target, object_id=attachment.object_id)
    _require_write_scope_for_tokens(actor, attachment.target, attachment.object_id)
    if not may_edit_annotation(actor=actor, author_id=attachment.uploaded_by_id):
        raise PermissionDenied(_("Only the uploader or an administrator may delete this file."))
    storage, name = attachment.file.storage, str(attachment.file.name)
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))


# Records that go away ------------------------------------------------------------------------------


@transaction.atomic
def annotations_delete_for_records(*, target: str, object_ids: list[int]) -> None:
    """Remove the tags, notes and files of records being deleted (or merged away); the files go after commit.

    Called by the domain service that deletes the records, inside its transaction; it has checked the
    actor's right to delete them.
    """
    ids = [int(i) for i in object_ids]
    if not ids:
        return
    TaggedItem.objects.filter(target=target, object_id__in=ids).delete()
    Note.objects.filter(target=target, object_id__in=ids).delete()
    files = list(Attachment.objects.filter(target=target, object_id__in=ids).values_list("file", flat=True))
    Attachment.objects.filter(target=target, object_id__in=ids).delete()
    if files:
        storage = Attachment._meta.get_field("file").storage  # type: ignore[attr-defined]

        def delete_files() -> None:
            for name in files:
                storage.delete(name)

        transaction.on_commit(delete_files)

"""API routes for annotations: tags, the tags of a record, notes and attachments (upload and download).

A record is addressed as /records/{target}/{object_id}/... with `target` a registered type code such as
"customers.customer"; a record the caller may not see answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import File, NinjaAPI, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from guanxi.platform.annotations import selectors, services
from guanxi.platform.annotations.downloads import attachment_file_response
from guanxi.platform.annotations.file_types import ALLOWED as ALLOWED_FILE_KINDS
from guanxi.platform.annotations.models import Attachment, Note, Tag
from guanxi.platform.core.api import (
    DEFAULT_PAGE_SIZE,
    IF_MATCH,
    UPDATE_ERROR_STATUSES,
    PageQuery,
    Payload,
    RecordId,
    actor_of,
    etag_for,
    expected_version,
    listed_choices,
    page_out,
    responses,
)
from guanxi.platform.core.pagination import MAX_PAGE_SIZE, keyset_paginate

router = Router(tags=["tags, notes and attachments"])
ETAG_NOTE = "The ETag header carries the version."


# Schemas -----------------------------------------------------------------------------------------


class TagOut(Schema):
    id: int
    name: str
    color: str
    description: str
    version: int


class TagIn(Payload):
    name: str
    color: Annotated[str, listed_choices(Tag.Color.values)] = Tag.Color.BLUE
    description: str = ""


class TagPatch(Payload):
    name: str | None = None
    color: Annotated[str, listed_choices(Tag.Color.values)] | None = None
    description: str | None = None
    version: int | None = None


class TagPage(Schema):
    items: list[TagOut]
    next_cursor: str | None


class TagAssignIn(Payload):
    tag_id: RecordId


class NoteOut(Schema):
    id: int
    target: str
    object_id: int
    body: str
    author_id: int | None
    author_name: str
    created_at: datetime
    updated_at: datetime
    version: int


class NoteIn(Payload):
    body: str


class NotePatch(Payload):
    body: str
    version: int | None = None


class NotePage(Schema):
    items: list[NoteOut]
    next_cursor: str | None


class AttachmentOut(Schema):
    id: int
    target: str
    object_id: int
    file_name: str
    size: int
    content_type: str
    uploaded_by_id: int | None
    created_at: datetime
    download_url: str


class AttachmentPage(Schema):
    items: list[AttachmentOut]
    next_cursor: str | None


class AnnotationPageQuery(PageQuery):
    """Tags, notes and files are short lists: up to 500 in one call."""

    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Rows per page.")


# Helpers -----------------------------------------------------------------------------------------


def _tag_out(tag: Tag) -> TagOut:
    return TagOut(id=tag.pk, name=tag.name, color=tag.color, description=tag.description, version=tag.version)


def _note_out(note: Note) -> NoteOut:
    return NoteOut(
        id=note.pk,
        target=note.target,
        object_id=note.object_id,
        body=note.body,
        author_id=note.author_id,
        author_name=str(note.author) if note.author else "",
        created_at=note.created_at,
        updated_at=note.updated_at,
        version=note.version,
    )


def _attachment_out(attachment: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=attachment.pk,
        target=attachment.target,
        object_id=attachment.object_id,
        file_name=attachment.original_name,
        size=attachment.size,
        content_type=attachment.content_type,
        uploaded_by_id=attachment.uploaded_by_id,
        created_at=attachment.created_at,
        download_url=reverse("api-v1:attachment_download", kwargs={"attachment_id": attachment.pk}),
    )


# Tags --------------------------------------------------------------------------------------------


@router.get("/tags", response=responses(TagPage), summary="List tags")
def list_tags(request: HttpRequest, page: Query[AnnotationPageQuery]) -> TagPage:
    result = keyset_paginate(
        selectors.tag_list(actor=actor_of(request)), sort="name", cursor=page.cursor, page_size=page.limit
    )
    return page_out(TagPage, result, _tag_out)


@router.post("/tags", response=responses(TagOut, status=201), summary="Create a tag")
def create_tag(request: HttpRequest, payload: TagIn) -> Status[TagOut]:
    tag = services.tag_save(
        actor=actor_of(request), tag=None, name=payload.name, color=payload.color, description=payload.description
    )
    return Status(201, _tag_out(tag))


@router.get(
    "/tags/{tag_id}", response=responses(TagOut), summary="Get a tag", description="The ETag carries the version."
)
def get_tag(request: HttpRequest, response: HttpResponse, tag_id: int) -> TagOut:
    tag = selectors.tag_get(actor=actor_of(request), tag_id=tag_id)
    response["ETag"] = etag_for(tag.version)
    return _tag_out(tag)


@router.patch(
    "/tags/{tag_id}",
    response=responses(TagOut, errors=UPDATE_ERROR_STATUSES),
    summary="Change a tag",
    description="Send the version you read (If-Match or `version`): 428 without it, 412 when stale.",
)
def update_tag(
    request: HttpRequest, response: HttpResponse, tag_id: int, payload: TagPatch, if_match: str | None = IF_MATCH
) -> TagOut:
    actor = actor_of(request)
    tag = selectors.tag_get(actor=actor, tag_id=tag_id)
    tag = services.tag_save(
        actor=actor,
        tag=tag,
        name=payload.name if payload.name is not None else tag.name,
        color=payload.color if payload.color is not None else tag.color,
        description=payload.description if payload.description is not None else tag.description,
        version=expected_version(request, payload.version),
    )
    response["ETag"] = etag_for(tag.version)
    return _tag_out(tag)


@router.delete("/tags/{tag_id}", response=responses(None, status=204), summary="Delete a tag")
def delete_tag(request: HttpRequest, tag_id: int) -> Status[None]:
    actor = actor_of(request)
    services.tag_delete(actor=actor, tag=selectors.tag_get(actor=actor, tag_id=tag_id))
    return Status(204, None)


# The tags of a record ----------------------------------------------------------------------------


@router.get("/records/{target}/{object_id}/tags", response=responses(list[TagOut]), summary="Tags of a record")
def record_tags(request: HttpRequest, target: str, object_id: int) -> list[TagOut]:
    tags = selectors.tags_for_record(actor=actor_of(request), target=target, object_id=object_id)
    return [_tag_out(t) for t in tags]


@router.post("/records/{target}/{object_id}/tags", response=responses(list[TagOut]), summary="Put a tag on a record")
def record_tag_add(request: HttpRequest, target: str, object_id: int, payload: TagAssignIn) -> list[TagOut]:
    actor = actor_of(request)
    selectors.record_get(actor=actor, target=target, object_id=object_id)
    services.tags_assign(actor=actor, target=target, object_ids=[object_id], tag_id=payload.tag_id)
    return [_tag_out(t) for t in selectors.tags_for_record(actor=actor, target=target, object_id=object_id)]


@router.delete(
    "/records/{target}/{object_id}/tags/{tag_id}",
    response=responses(None, status=204),
    summary="Take a tag off a record",
)
def record_tag_remove(request: HttpRequest, target: str, object_id: int, tag_id: int) -> Status[None]:
    actor = actor_of(request)
    selectors.record_get(actor=actor, target=target, object_id=object_id)
    services.tags_unassign(actor=actor, target=target, object_ids=[object_id], tag_id=tag_id)
    return Status(204, None)


# Notes -------------------------------------------------------------------------------------------


@router.get("/records/{target}/{object_id}/notes", response=responses(NotePage), summary="Notes on a record")
def record_notes(request: HttpRequest, target: str, object_id: int, page: Query[AnnotationPageQuery]) -> NotePage:
    notes = selectors.notes_for(actor=actor_of(request), target=target, object_id=object_id)
    result = keyset_paginate(notes, sort="-id", cursor=page.cursor, page_size=page.limit)
    return page_out(NotePage, result, _note_out)


@router.post(
    "/records/{target}/{object_id}/notes", response=responses(NoteOut, status=201), summary="Add a note to a record"
)
def record_note_add(request: HttpRequest, target: str, object_id: int, payload: NoteIn) -> Status[NoteOut]:
    note = services.note_add(actor=actor_of(request), target=target, object_id=object_id, body=payload.body)
    return Status(201, _note_out(note))


@router.get(
    "/notes/{note_id}", response=responses(NoteOut), summary="Get a note", description="The ETag carries the version."
)
def get_note(request: HttpRequest, response: HttpResponse, note_id: int) -> NoteOut:
    note = selectors.note_get(actor=actor_of(request), note_id=note_id)
    response["ETag"] = etag_for(note.version)
    return _note_out(note)


@router.patch(
    "/notes/{note_id}",
    response=responses(NoteOut, errors=UPDATE_ERROR_STATUSES),
    summary="Edit a note",
    description=(
        "Only the author or an administrator may edit a note. Send the version you read (If-Match or `version`): "
        "428 without it, 412 when stale."
    ),
)
def update_note(
    request: HttpRequest, response: HttpResponse, note_id: int, payload: NotePatch, if_match: str | None = IF_MATCH
) -> NoteOut:
    note = services.note_update(
        actor=actor_of(request),
        note_id=note_id,
        body=payload.body,
        version=expected_version(request, payload.version),
    )
    response["ETag"] = etag_for(note.version)
    return _note_out(note)


@router.delete("/notes/{note_id}", response=responses(None, status=204), summary="Delete a note")
def delete_note(request: HttpRequest, note_id: int) -> Status[None]:
    services.note_delete(actor=actor_of(request), note_id=note_id)
    return Status(204, None)


# Attachments -------------------------------------------------------------------------------------


@router.get(
    "/records/{target}/{object_id}/attachments", response=responses(AttachmentPage), summary="Files of a record"
)
def record_attachments(
    request: HttpRequest, target: str, object_id: int, page: Query[AnnotationPageQuery]
) -> AttachmentPage:
    files = selectors.attachments_for(actor=actor_of(request), target=target, object_id=object_id)
    result = keyset_paginate(files, sort="-id", cursor=page.cursor, page_size=page.limit)
    return page_out(AttachmentPage, result, _attachment_out)


@router.post(
    "/records/{target}/{object_id}/attachments",
    response=responses(AttachmentOut, status=201),
    summary="Attach a file to a record (multipart/form-data, field “file”)",
)
def record_attachment_add(
    request: HttpRequest, target: str, object_id: int, file: File[UploadedFile]
) -> Status[AttachmentOut]:
    actor = actor_of(request)
    attachment = services.attachment_add(actor=actor, target=target, object_id=object_id, uploaded_file=file)
    return Status(201, _attachment_out(attachment))


@router.get("/attachments/{attachment_id}", response=responses(AttachmentOut), summary="Describe an attachment")
def get_attachment(request: HttpRequest, attachment_id: int) -> AttachmentOut:
    return _attachment_out(selectors.attachment_get_for_download(actor=actor_of(request), attachment_id=attachment_id))


@router.get(
    "/attachments/{attachment_id}/download",
    response=responses(None),
    url_name="attachment_download",
    summary="Download an attachment's file",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, as an attachment",
                # Exactly the types an upload may have: the file is served with the type it was accepted as.
                "content": {
                    content_type: {"schema": {"type": "string", "format": "binary"}}
                    for content_type in sorted({kind.content_type for kind in ALLOWED_FILE_KINDS.values()})
                },
            }
        }
    },
)
def download_attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    attachment = selectors.attachment_get_for_download(actor=actor_of(request), attachment_id=attachment_id)
    return attachment_file_response(attachment)


@router.delete("/attachments/{attachment_id}", response=responses(None, status=204), summary="Delete an attachment")
def delete_attachment(request: HttpRequest, attachment_id: int) -> Status[None]:
    services.attachment_delete(actor=actor_of(request), attachment_id=attachment_id)
    return Status(204, None)


def mount(api: NinjaAPI) -> None:
    api.add_router("/", router)

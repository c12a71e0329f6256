"""Web pages for annotations: the tags, notes and files panels a record page loads with htmx, the
download of a file, and the settings page where tags and their colours are managed.

Each panel answers GET ?target=<code>&object_id=<id> with its partial; POST (add) and DELETE (remove)
do the action and answer the refreshed partial, or the partial with the error (status 422).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.platform.annotations import selectors, services
from guanxi.platform.annotations.downloads import attachment_file_response
from guanxi.platform.annotations.file_types import allowed_extensions
from guanxi.platform.annotations.models import Tag
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.platform.identity.permissions import TAGS_MANAGE
from guanxi.platform.identity.scoping import require_permission
from guanxi.platform.ui.actors import actor_from_request

PANEL_NOTES = 50
PANEL_ATTACHMENTS = 50


def _params(request: HttpRequest) -> QueryDict:
    """Form fields of a POST, or the query string (htmx sends DELETE parameters in the URL)."""
    return request.POST if request.method == "POST" else request.GET


def _address(request: HttpRequest) -> tuple[str, int]:
    """The record a panel is about; a malformed address is as absent as a hidden record."""
    params = _params(request)
    target = params.get("target") or request.GET.get("target") or ""
    raw_id = params.get("object_id") or request.GET.get("object_id") or ""
    try:
        return target, int(raw_id)
    except (TypeError, ValueError):
        raise NotFound() from None


def _visible_address(request: HttpRequest, actor: Actor) -> tuple[str, int]:
    """The record a panel is about, checked before the panel does anything: a hidden record answers
    NotFound with nothing done (not even to the actor's own note or file named in the request)."""
    target, object_id = _address(request)
    selectors.record_get(actor=actor, target=target, object_id=object_id)
    return target, object_id


def _int_param(request: HttpRequest, name: str) -> int:
    try:
        return int(_params(request).get(name) or "")
    except ValueError:
        raise ValidationFailed.for_field(name, _("Choose an item from the list.")) from None


def _finish(request: HttpRequest, panel: str, context: dict[str, Any], status: int) -> HttpResponse:
    """htmx gets the refreshed partial; a plain form post goes back to the page it came from."""
    if not getattr(request, "htmx", False) and request.method == "POST" and status < 400:
        back = request.POST.get("next", "")
        if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            return redirect(back)
    return render(request, f"annotations/partials/{panel}.html", context, status=status)


def _error_context(exc: ValidationFailed | Conflict) -> dict[str, Any]:
    messages_ = [m for msgs in exc.fields.values() for m in msgs] or [exc.message]
    return {"errors": messages_}


def _tags_context(actor: Actor, target: str, object_id: int) -> dict[str, Any]:
    record = selectors.record_get(actor=actor, target=target, object_id=object_id)
    tags = selectors.tags_for_record(actor=actor, target=target, object_id=object_id)
    assigned = {t.pk for t in tags}
    return {
        "target": target,
        "object_id": object_id,
        "tags": tags,
        "available": [t for t in selectors.tag_choices(actor=actor) if t.pk not in assigned],
        "can_change": selectors.record_can_change(actor=actor, target=target, record=record),
    }


@login_required
@require_http_methods(["GET", "POST", "DELETE"])
def tags_panel(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    target, object_id = _visible_address(request, actor)
    extra: dict[str, Any] = {}
    status = 200
    if request.method in ("POST", "DELETE"):
        try:
            tag_id = _int_param(request, "tag_id")
            action = services.tags_assign if request.method == "POST" else services.tags_unassign
            action(actor=actor, target=target, object_ids=[object_id], tag_id=tag_id)
        except ValidationFailed as exc:
            extra, status = _error_context(exc), 422
    context = _tags_context(actor, target, object_id)
    return _finish(request, "tags_panel", {**context, **extra}, status)


def _notes_context(actor: Actor, target: str, object_id: int, editing: int | None = None) -> dict[str, Any]:
    notes = list(selectors.notes_for(actor=actor, target=target, object_id=object_id)[: PANEL_NOTES + 1])
    rows = [
        {"note": n, "editable": selectors.may_edit_annotation(actor=actor, author_id=n.author_id)}
        for n in notes[:PANEL_NOTES]
    ]
    return {
        "target": target,
        "object_id": object_id,
        "rows": rows,
        "more": len(notes) > PANEL_NOTES,
        "editing": editing,
        "note_max": services.NOTE_MAX,
    }


@login_required
@require_http_methods(["GET", "POST", "DELETE"])
def notes_panel(request: HttpRequest) -> HttpResponse:
    """GET shows the notes (?edit=<id> opens one in place); POST adds (or, with note_id, edits); DELETE removes."""
    actor = actor_from_request(request)
    target, object_id = _visible_address(request, actor)
    extra: dict[str, Any] = {}
    status = 200
    edit = request.GET.get("edit", "")
    editing: int | None = int(edit) if request.method == "GET" and edit.isdigit() else None
    try:
        if request.method == "POST" and request.POST.get("note_id"):
            editing = _int_param(request, "note_id")
            extra["draft_edit"] = request.POST.get("body", "")
            services.note_update(
                actor=actor, note_id=editing, body=request.POST.get("body", ""), version=_version(request)
            )
            editing, extra = None, {}
        elif request.method == "POST":
            extra["draft"] = request.POST.get("body", "")
            services.note_add(actor=actor, target=target, object_id=object_id, body=request.POST.get("body", ""))
            extra = {}
        elif request.method == "DELETE":
            services.note_delete(actor=actor, note_id=_int_param(request, "note_id"))
    except ValidationFailed as exc:
        extra, status = {**extra, **_error_context(exc)}, 422
    except Conflict as exc:  # someone else edited the note meanwhile
        extra, status = {**extra, **_error_context(exc)}, 409
    context = _notes_context(actor, target, object_id, editing)
    return _finish(request, "notes_panel", {**context, **extra}, status)


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


def _attachments_context(actor: Actor, target: str, object_id: int) -> dict[str, Any]:
    record = selectors.record_get(actor=actor, target=target, object_id=object_id)
    files = list(selectors.attachments_for(actor=actor, target=target, object_id=object_id)[: PANEL_ATTACHMENTS + 1])
    rows = [
        {"file": f, "deletable": selectors.may_edit_annotation(actor=actor, author_id=f.uploaded_by_id)}
        for f in files[:PANEL_ATTACHMENTS]
    ]
    return {
        "target": target,
        "object_id": object_id,
        "rows": rows,
        "more": len(files) > PANEL_ATTACHMENTS,
        "can_change": selectors.record_can_change(actor=actor, target=target, record=record),
        "accept": ",".join(f".{ext}" for ext in allowed_extensions()),
        "max_bytes": settings.GUANXI_ATTACHMENT_MAX_BYTES,
    }


@login_required
@require_http_methods(["GET", "POST", "DELETE"])
def attachments_panel(request: HttpRequest) -> HttpResponse:
    """GET lists the files; POST (multipart, field "file") uploads one; DELETE ?attachment_id= removes one."""
    actor = actor_from_request(request)
    target, object_id = _visible_address(request, actor)
    extra: dict[str, Any] = {}
    status = 200
    try:
        if request.method == "POST":
            uploaded = request.FILES.get("file")
            if uploaded is None:
                raise ValidationFailed.for_field("file", _("Choose a file to upload."))
            services.attachment_add(actor=actor, target=target, object_id=object_id, uploaded_file=uploaded)
        elif request.method == "DELETE":
            services.attachment_delete(actor=actor, attachment_id=_int_param(request, "attachment_id"))
    except ValidationFailed as exc:
        extra, status = _error_context(exc), 422
    context = _attachments_context(actor, target, object_id)
    return _finish(request, "attachments_panel", {**context, **extra}, status)


@login_required
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    attachment = selectors.attachment_get_for_download(actor=actor_from_request(request), attachment_id=attachment_id)
    return attachment_file_response(attachment)


# Settings: tags ----------------------------------------------------------------------------------


def _tag_page(request: HttpRequest, actor: Actor, **context: Any) -> HttpResponse:
    status = context.pop("status", 200)
    base = {
        "tags": list(selectors.tag_list(actor=actor)),
        "colors": Tag.Color.choices,
        "values": {"name": "", "color": Tag.Color.BLUE, "description": ""},
        "errors": {},
    }
    return render(request, "annotations/pages/tag_list.html", {**base, **context}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def tag_list(request: HttpRequest) -> HttpResponse:
    """The tags with their colours and usage; POST creates a tag."""
    actor = actor_from_request(request)
    require_permission(actor, TAGS_MANAGE)
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("name", "color", "description")}
        try:
            tag = services.tag_save(
                actor=actor, tag=None, name=values["name"], color=values["color"], description=values["description"]
            )
        except ValidationFailed as exc:
            return _tag_page(request, actor, values=values, errors=exc.fields, status=422)
        messages.success(request, _("Tag “%(name)s” created.") % {"name": tag.name})
        return redirect("annotations:tag_list")
    return _tag_page(request, actor)


@login_required
@require_http_methods(["GET", "POST"])
def tag_edit(request: HttpRequest, tag_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    require_permission(actor, TAGS_MANAGE)
    tag = selectors.tag_get(actor=actor, tag_id=tag_id)
    values = {"name": tag.name, "color": tag.color, "description": tag.description}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("name", "color", "description")}
        try:
            services.tag_save(
                actor=actor,
                tag=tag,
                name=values["name"],
                color=values["color"],
                description=values["description"],
                version=_version(request),
            )
        except ValidationFailed as exc:
            errors = exc.fields or {"name": [exc.message]}
        except Conflict as exc:  # someone else saved the tag meanwhile
            errors = {"name": [exc.message]}
        else:
            messages.success(request, _("Tag saved."))
            return redirect("annotations:tag_list")
    context = {
        "tag": tag,
        "values": values,
        "errors": errors,
        "colors": Tag.Color.choices,
        "history": selectors.tag_history(actor=actor, tag=tag),
    }
    return render(request, "annotations/pages/tag_edit.html", context, status=422 if errors else 200)


@login_required
@require_POST
def tag_delete(request: HttpRequest, tag_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    tag = selectors.tag_get(actor=actor, tag_id=tag_id)
    services.tag_delete(actor=actor, tag=tag)
    messages.success(request, _("Tag “%(name)s” deleted.") % {"name": tag.name})
    return redirect("annotations:tag_list")

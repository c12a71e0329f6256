"""Inbox pages: the list of inbound messages with filters, and one message with its text (always as plain,
escaped text) and the actions of inbox managers: file it on a customer or lead, create a lead, retry."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import Conflict, StaleVersion, ValidationFailed
from guanxi.platform.core.pagination import Page, keyset_paginate
from guanxi.platform.identity.scoping import can_see_personal_data, has_permission
from guanxi.platform.identity.web.decorators import permission_required_page
from guanxi.platform.inbox import selectors, services
from guanxi.platform.inbox.models import InboundChannel, InboundMessage, MatchStatus
from guanxi.platform.inbox.permissions import INBOX_MANAGE, INBOX_VIEW
from guanxi.platform.inbox.registry import sender_handlers
from guanxi.platform.search.services import search_groups
from guanxi.platform.ui.actors import actor_from_request

PAGE_SIZE = 50
FILTER_PARAMS = ("channel", "status", "received_from", "received_to")
STATUS_BADGES = {
    MatchStatus.PENDING: "badge",
    MatchStatus.MATCHED: "badge badge-ok",
    MatchStatus.LEAD_CREATED: "badge badge-ok",
    MatchStatus.UNMATCHED: "badge badge-warn",
    MatchStatus.IGNORED: "badge",
    MatchStatus.ERROR: "badge badge-err",
}
SEARCH_LIMIT = 8
ASSIGN_ERROR_STATUS = {ValidationFailed: 422, StaleVersion: 412, Conflict: 409}


def badge_class(status: str) -> str:
    return STATUS_BADGES.get(MatchStatus(status), "badge") if status in MatchStatus.values else "badge"


def _query(params: dict[str, Any]) -> str:
    return urlencode({key: value for key, value in params.items() if value not in (None, "")})


def _row(actor: Actor, message: InboundMessage, links: dict[Any, Any], unmasked: bool) -> dict[str, Any]:
    return {
        "message": message,
        "sender": selectors.shown_sender(actor, message, unmasked=unmasked),
        "preview": selectors.preview(message.subject or getattr(message, "body_start", "")),
        "badge": badge_class(message.match_status),
        "record": links.get((message.record_type, message.record_id)),
        "record_type_label": selectors.record_type_label(message.record_type) if message.record_type else "",
    }


@permission_required_page(INBOX_VIEW)
@require_GET
def message_list(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    error = ""
    try:
        filters = selectors.InboundFilters.from_params(request.GET)
        page = keyset_paginate(
            selectors.inbound_message_list(actor=actor, filters=filters),
            sort=selectors.LIST_SORT,
            cursor=request.GET.get("cursor") or None,
            page_size=PAGE_SIZE,
        )
    except ValidationFailed as exc:
        error = "; ".join(m for msgs in exc.fields.values() for m in msgs) or exc.message
        filters = selectors.InboundFilters()
        page = Page(items=[], next_cursor=None, page_size=PAGE_SIZE)
    unmasked = can_see_personal_data(actor)
    links = selectors.record_links(page.items)
    rows = [_row(actor, message, links, unmasked) for message in page.items]
    if unmasked and rows:
        services.inbound_messages_record_personal_data_view(
            actor=actor, message_ids=[m.pk for m in page.items], detail={"page": "inbox"}
        )
    kept = {key: request.GET.get(key, "") for key in FILTER_PARAMS}
    context = {
        "rows": rows,
        "error": error,
        "params": kept,
        "filtered": filters.active or bool(error),
        "channel_choices": InboundChannel.choices,
        "status_choices": MatchStatus.choices,
        "can_manage": has_permission(actor, INBOX_MANAGE),
        "next_query": _query({**kept, "cursor": page.next_cursor}) if page.next_cursor else "",
        "first_query": _query(kept) if request.GET.get("cursor") else None,
    }
    return render(request, "inbox/pages/list.html", context, status=422 if error else 200)


def _detail_context(request: HttpRequest, message: InboundMessage) -> dict[str, Any]:
    actor = actor_from_request(request)
    unmasked = can_see_personal_data(actor)
    links = selectors.record_links([message])
    candidates = []
    if message.other_candidates and message.record_type:
        handler = next((h for h in sender_handlers() if message.record_type in h.record_types), None)
        if handler is not None:
            visible = set(
                handler.visible_ids(actor, message.record_type)
                .filter(pk__in=message.other_candidates)
                .values_list("pk", flat=True)
            )
            described = handler.describe(message.record_type, sorted(visible))
            candidates = [described[pk] for pk in message.other_candidates if pk in described]
    can_manage = has_permission(actor, INBOX_MANAGE)
    return {
        "message": message,
        "sender": selectors.shown_sender(actor, message, unmasked=unmasked),
        "badge": badge_class(message.match_status),
        "record": links.get((message.record_type, message.record_id or 0)),
        "record_type_label": selectors.record_type_label(message.record_type) if message.record_type else "",
        "candidates": candidates,
        "hidden_candidates": len(message.other_candidates) - len(candidates),
        "headers": (message.metadata or {}).get("headers") or [],
        "provider_fields": sorted(((message.metadata or {}).get("provider") or {}).items()),
        "bounce": (message.metadata or {}).get("bounce"),
        "can_manage": can_manage,
        "can_assign": can_manage and message.match_status != MatchStatus.PENDING,
        "can_create_lead": can_manage
        and message.from_address_valid
        and message.match_status in (MatchStatus.UNMATCHED, MatchStatus.IGNORED, MatchStatus.ERROR),
        "can_retry": can_manage and message.match_status == MatchStatus.ERROR,
        "unmasked": unmasked,
    }


@permission_required_page(INBOX_VIEW)
@require_GET
def message_detail(request: HttpRequest, inbound_message_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    message = selectors.inbound_message_get(actor=actor, message_id=inbound_message_id)
    context = _detail_context(request, message)
    if context["unmasked"] and message.from_address:
        services.inbound_messages_record_personal_data_view(
            actor=actor, message_ids=[message.pk], detail={"page": "inbox_message"}
        )
    return render(request, "inbox/pages/detail.html", context)


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


def _action_failed(request: HttpRequest, message: InboundMessage, error: Exception) -> HttpResponse:
    """The message page again, with the reason the action was refused."""
    text = error.message if isinstance(error, (ValidationFailed, Conflict)) else str(error)
    if isinstance(error, ValidationFailed) and error.fields:
        text = " ".join(m for msgs in error.fields.values() for m in msgs)
    context = _detail_context(request, message)
    context["action_error"] = text
    status = next((code for kind, code in ASSIGN_ERROR_STATUS.items() if isinstance(error, kind)), 400)
    return render(request, "inbox/pages/detail.html", context, status=status)


@permission_required_page(INBOX_MANAGE)
@require_POST
def message_assign(request: HttpRequest, inbound_message_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    message = selectors.inbound_message_get(actor=actor, message_id=inbound_message_id)
    try:
        services.inbound_message_assign(
            actor=actor,
            message=message,
            record_type=request.POST.get("record_type", ""),
            record_id=request.POST.get("record_id", ""),  # type: ignore[arg-type]  # the service checks it
            expected_version=_version(request),
        )
    except (ValidationFailed, Conflict) as error:
        return _action_failed(request, message, error)
    messages.success(request, _("The message is filed."))
    return redirect("inbox:message_detail", inbound_message_id=message.pk)


@permission_required_page(INBOX_MANAGE)
@require_POST
def message_create_lead(request: HttpRequest, inbound_message_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    message = selectors.inbound_message_get(actor=actor, message_id=inbound_message_id)
    try:
        services.inbound_message_create_lead(
            actor=actor, message=message, name=request.POST.get("name", ""), expected_version=_version(request)
        )
    except (ValidationFailed, Conflict) as error:
        return _action_failed(request, message, error)
    messages.success(request, _("A lead was created from the message."))
    return redirect("inbox:message_detail", inbound_message_id=message.pk)


@permission_required_page(INBOX_MANAGE)
@require_POST
def message_retry(request: HttpRequest, inbound_message_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    message = selectors.inbound_message_get(actor=actor, message_id=inbound_message_id)
    try:
        retried = services.inbound_message_retry(actor=actor, message=message)
    except Conflict as error:
        return _action_failed(request, message, error)
    if retried.match_status == MatchStatus.ERROR:
        messages.error(request, _("Filing the message failed again."))
    else:
        messages.success(request, _("The message was filed again."))
    return redirect("inbox:message_detail", inbound_message_id=message.pk)


SEARCH_HINT = gettext_lazy("Type a name, phone or email to find a customer or lead.")


@permission_required_page(INBOX_MANAGE)
@require_GET
def record_search(request: HttpRequest, inbound_message_id: int) -> HttpResponse:
    """Customers and leads the actor may see that match `q`, each with a button filing the message on it."""
    actor = actor_from_request(request)
    message = selectors.inbound_message_get(actor=actor, message_id=inbound_message_id)
    kinds = {kind: record_type for handler in sender_handlers() for kind, record_type in handler.search_kinds.items()}
    text = request.GET.get("q", "").strip()[:100]
    groups = []
    if text:
        for group in search_groups(actor=actor, text=text, limit_per_kind=SEARCH_LIMIT):
            if group.code in kinds and group.hits:
                groups.append({"label": group.label, "record_type": kinds[group.code], "hits": group.hits})
    context = {"message": message, "groups": groups, "q": text, "hint": SEARCH_HINT}
    return render(request, "inbox/partials/record_search.html", context)

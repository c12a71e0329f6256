"""Pages of the channels app. Each view parses, calls a selector or a service, renders; the services decide.

- the message log with filters, one message, sending one (from a record page), the record page's panel;
- templates: list, create/edit with a live preview against a customer, delete;
- the contact policy with the list of blocked and unsubscribed addresses;
- the public unsubscribe page (no sign-in; a POST button, CSRF-protected) and its RFC 8058 one-click twin.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.platform.channels import selectors, services
from guanxi.platform.channels.composition import TextDraft
from guanxi.platform.channels.forms import (
    ComposeForm,
    MessageFilterForm,
    PolicyForm,
    PreviewForm,
    SuppressionForm,
    TemplateForm,
    param_lines,
    parse_param_lines,
)
from guanxi.platform.channels.models import MessageChannel, MessagePurpose, MessageStatus, OutboundMessage
from guanxi.platform.channels.permissions import (
    MESSAGES_MANAGE_POLICY,
    MESSAGES_MANAGE_TEMPLATES,
    MESSAGES_SEND,
    MESSAGES_SEND_MARKETING,
    MESSAGES_VIEW,
)
from guanxi.platform.channels.registry import recipient_source
from guanxi.platform.channels.services.templates import clean_body
from guanxi.platform.channels.unsubscribe import read_unsubscribe_token
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.platform.core.pagination import keyset_paginate
from guanxi.platform.identity.scoping import has_permission
from guanxi.platform.identity.web.decorators import permission_required_page
from guanxi.platform.ui.actors import actor_from_request
from guanxi.platform.ui.forms import add_domain_errors
from guanxi.platform.ui.pages import next_page_url, render_form_page

LOG_PAGE = 50
PANEL_ROWS = 10


def _error_text(exc: ValidationFailed) -> str:
    return "; ".join(m for msgs in exc.fields.values() for m in msgs) or exc.message


def _rows(actor: Actor, items: list[OutboundMessage]) -> list[dict[str, Any]]:
    """What a log row shows: the message, its record's name and page, the address as the reader may see it."""
    links = selectors.record_links(items)
    return [
        {
            "message": message,
            "record": links.get((message.record_type, int(message.record_id))),
            "to": selectors.shown_address(actor, message.channel, message.to_address),
        }
        for message in items
    ]


# The message log ----------------------------------------------------------------------------------------


@permission_required_page(MESSAGES_VIEW)
def message_list(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    form = MessageFilterForm(request.GET or None)
    error = ""
    try:
        filters = selectors.MessageFilters.from_params(request.GET)
        page = keyset_paginate(
            selectors.message_list(actor=actor, filters=filters),
            sort="-id",
            cursor=request.GET.get("cursor") or None,
            page_size=LOG_PAGE,
        )
    except ValidationFailed as exc:
        error = _error_text(exc)
        filters = selectors.MessageFilters()
        page = keyset_paginate(selectors.message_list(actor=actor), sort="-id", cursor=None, page_size=LOG_PAGE)
    context = {
        "form": form,
        "rows": _rows(actor, page.items),
        "next_url": next_page_url(request, page.next_cursor),
        "filtered": filters.active,
        "error": error,
    }
    return render(request, "channels/pages/message_list.html", context, status=422 if error else 200)


@permission_required_page(MESSAGES_VIEW)
def message_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    message = selectors.message_get(actor=actor, message_id=message_id)
    can_retry = (
        message.status == MessageStatus.FAILED
        and has_permission(actor, MESSAGES_SEND)
        and (message.purpose != MessagePurpose.MARKETING or has_permission(actor, MESSAGES_SEND_MARKETING))
    )
    context = {"row": _rows(actor, [message])[0], "message": message, "can_retry": can_retry}
    return render(request, "channels/pages/message_detail.html", context)


@permission_required_page(MESSAGES_SEND)
@require_POST
def message_retry(request: HttpRequest, message_id: int) -> HttpResponse:
    try:
        services.message_retry(actor=actor_from_request(request), message_id=message_id)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The message is queued to be sent again."))
    return redirect("channels:message_detail", message_id=message_id)


def _record_from(params: Any) -> tuple[str, int]:
    """The record a page is about (?record_type=&record_id=, or the panels' ?target=&object_id=)."""
    record_type = params.get("record_type") or params.get("target") or ""
    try:
        record_id = int(params.get("record_id") or params.get("object_id") or "")
    except ValueError:
        raise NotFound() from None
    if recipient_source(record_type) is None:
        raise NotFound()
    return record_type, record_id


@login_required
def record_panel(request: HttpRequest) -> HttpResponse:
    """The "Messages" card of a record page: its latest messages and a link to send one. Readers without
    the right to see messages get nothing, so the card's slot disappears from the page."""
    actor = actor_from_request(request)
    if not has_permission(actor, MESSAGES_VIEW):
        return HttpResponse("")
    record_type, record_id = _record_from(request.GET)
    qs = selectors.messages_for_record(actor=actor, record_type=record_type, record_id=record_id)
    items = list(qs[: PANEL_ROWS + 1])
    query = urlencode({"record_type": record_type, "record_id": record_id})
    context = {
        "rows": _rows(actor, items[:PANEL_ROWS]),
        "more": len(items) > PANEL_ROWS,
        "query": query,
        "can_send": has_permission(actor, MESSAGES_SEND),
    }
    return render(request, "channels/partials/record_panel.html", context)


def _compose_form(actor: Actor, record_type: str, record_id: int, data: Any = None) -> ComposeForm:
    source = recipient_source(record_type)
    addresses: list[tuple[str, str]] = []
    if source is not None:
        for channel in MessageChannel:
            for recipient in source.resolve(record_id, channel.value):
                shown = selectors.shown_address(actor, channel.value, recipient.address)
                addresses.append((recipient.address, f"{channel.label}: {shown}"))
    purposes = [(MessagePurpose.TRANSACTIONAL.value, str(MessagePurpose.TRANSACTIONAL.label))]
    if has_permission(actor, MESSAGES_SEND_MARKETING):
        purposes.append((MessagePurpose.MARKETING.value, str(MessagePurpose.MARKETING.label)))
    return ComposeForm(
        data,
        initial={"record_type": record_type, "record_id": record_id},
        templates=selectors.template_list(actor=actor, record_type=record_type),
        addresses=addresses,
        purposes=purposes,
    )


@permission_required_page(MESSAGES_SEND)
@require_http_methods(["GET", "POST"])
def message_compose(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    record_type, record_id = _record_from(request.POST if request.method == "POST" else request.GET)
    source = recipient_source(record_type)
    assert source is not None
    if not source.is_visible(actor, record_id):
        raise NotFound()
    posted = request.POST if request.method == "POST" else None
    form = _compose_form(actor, record_type, record_id, posted)
    if posted is not None and form.is_valid():
        data = form.cleaned_data
        try:
            message = services.message_send(
                actor=actor,
                channel=data["channel"],
                record_type=record_type,
                record_id=record_id,
                template_id=data["template"].pk if data.get("template") else None,
                subject=data.get("subject") or "",
                body=data.get("body") or "",
                purpose=data["purpose"],
                to_address=data.get("to_address") or "",
            )
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
        else:
            if message.status == MessageStatus.HELD:
                messages.warning(
                    request, _("The message was held back: %(reason)s") % {"reason": message.held_reason_text}
                )
            elif message.is_deferred:
                messages.info(request, message.held_reason_text)
            else:
                messages.success(request, _("The message is on its way."))
            return redirect("channels:message_detail", message_id=message.pk)
    labels = source.record_labels([record_id])
    context = {
        "form": form,
        "record_label": labels.get(record_id, ""),
        "record_url": source.record_url(record_id),
        "merge_fields": selectors.merge_fields_for(record_type),
    }
    return render_form_page(request, "channels/pages/message_compose.html", context, form=form)


# Templates ------------------------------------------------------------------------------------------------


@permission_required_page(MESSAGES_MANAGE_TEMPLATES)
def template_list(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    templates = list(selectors.template_list(actor=actor, include_inactive=True))
    return render(request, "channels/pages/template_list.html", {"templates": templates})


def _render_template_form(request: HttpRequest, form: TemplateForm, template: Any, record_type: str) -> HttpResponse:
    context = {
        "form": form,
        "template": template,
        "preview_form": PreviewForm(),
        "merge_fields": selectors.merge_fields_for(record_type) if record_type else [],
        "history": selectors.template_history(actor=actor_from_request(request), template=template) if template else [],
    }
    return render_form_page(request, "channels/pages/template_form.html", context, form=form)


def _save_template(request: HttpRequest, form: TemplateForm, template_id: int | None) -> int | None:
    if not form.is_valid():
        return None
    actor = actor_from_request(request)
    try:
        data = form.service_data()
        if template_id is None:
            saved = services.message_template_create(actor=actor, data=data)
        else:
            data.pop("channel", None)
            data.pop("record_type", None)
            saved = services.message_template_update(
                actor=actor, template_id=template_id, data=data, version=form.cleaned_data.get("version")
            )
    except ValidationFailed as exc:
        add_domain_errors(form, exc)
        return None
    except Conflict as exc:
        form.add_error(None, exc.message)
        return None
    messages.success(request, _("Template “%(name)s” saved.") % {"name": saved.name})
    return saved.pk


@permission_required_page(MESSAGES_MANAGE_TEMPLATES)
@require_http_methods(["GET", "POST"])
def template_create(request: HttpRequest) -> HttpResponse:
    posted = request.POST if request.method == "POST" else None
    initial = {
        "channel": request.GET.get("channel") or MessageChannel.EMAIL,
        "is_active": True,
        "purpose": MessagePurpose.MARKETING,
        "record_type": "customers.customer",
    }
    form = TemplateForm(posted, initial=initial)
    if posted is not None and _save_template(request, form, None):
        return redirect("channels:template_list")
    record_type = (posted.get("record_type") if posted is not None else "") or initial["record_type"]
    return _render_template_form(request, form, None, str(record_type))


@permission_required_page(MESSAGES_MANAGE_TEMPLATES)
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    template = selectors.template_get(actor=actor_from_request(request), template_id=template_id)
    initial = {
        "name": template.name,
        "channel": template.channel,
        "record_type": template.record_type,
        "purpose": template.purpose,
        "subject_zh": template.subject_zh,
        "body_zh": template.body_zh,
        "subject_en": template.subject_en,
        "body_en": template.body_en,
        "provider_template_id": template.provider_template_id,
        "provider_params": param_lines(template.provider_params),
        "is_active": template.is_active,
        "version": template.version,
    }
    posted = request.POST if request.method == "POST" else None
    form = TemplateForm(posted, initial=initial, template=template)
    if posted is not None and _save_template(request, form, template.pk):
        return redirect("channels:template_list")
    return _render_template_form(request, form, template, template.record_type)


@permission_required_page(MESSAGES_MANAGE_TEMPLATES)
@require_POST
def template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    try:
        services.message_template_delete(actor=actor_from_request(request), template_id=template_id)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("channels:template_edit", template_id=template_id)
    messages.success(request, _("Template deleted."))
    return redirect("channels:template_list")


@permission_required_page(MESSAGES_MANAGE_TEMPLATES)
@require_POST
def template_preview(request: HttpRequest) -> HttpResponse:
    """The live preview of the template form (htmx): the unsaved texts rendered for the chosen customer."""
    actor = actor_from_request(request)
    preview_form = PreviewForm(request.POST)
    context: dict[str, Any] = {}
    status = 200
    if not preview_form.is_valid() or not preview_form.cleaned_data.get("record_id"):
        context["hint"] = _("Enter a customer number to see the message as that customer would get it.")
        return render(request, "channels/partials/template_preview.html", context)
    data = request.POST
    record_type = data.get("record_type") or ""
    channel = data.get("channel") or ""
    template_id = data.get("template_id") or ""
    if template_id.isdigit():  # channel and record type are fixed on a saved template (disabled fields)
        saved = selectors.template_get(actor=actor, template_id=int(template_id))
        record_type, channel = saved.record_type, saved.channel
    if channel not in MessageChannel.values:
        channel = MessageChannel.EMAIL
    try:
        texts = TextDraft(
            channel=channel,
            purpose=str(data.get("purpose"))
            if data.get("purpose") in MessagePurpose.values
            else MessagePurpose.MARKETING,
            subject_zh=clean_body(data.get("subject_zh")),
            body_zh=clean_body(data.get("body_zh")),
            subject_en=clean_body(data.get("subject_en")),
            body_en=clean_body(data.get("body_en")),
            provider_template_id=data.get("provider_template_id") or "",
            provider_params=parse_param_lines(data.get("provider_params") or ""),
        )
        context["preview"] = selectors.template_preview(
            actor=actor,
            texts=texts,
            record_type=record_type,
            record_id=preview_form.cleaned_data["record_id"],
            language=preview_form.cleaned_data.get("language") or "",
            check_texts=True,
        )
    except ValidationFailed as exc:
        context["errors"] = [f"{field}: {m}" for field, msgs in exc.fields.items() for m in msgs] or [exc.message]
        status = 422
    except NotFound as exc:
        context["errors"] = [exc.message]
        status = 422
    return render(request, "channels/partials/template_preview.html", context, status=status)


# Contact policy ------------------------------------------------------------------------------------------


def _policy_initial(policy: Any) -> dict[str, Any]:
    names = [name for name in PolicyForm.base_fields if name != "version"]
    return {**{name: getattr(policy, name) for name in names}, "version": policy.version}


def _render_policy(request: HttpRequest, form: PolicyForm, suppression_form: SuppressionForm) -> HttpResponse:
    actor = actor_from_request(request)
    address = request.GET.get("q", "")
    suppressions = list(selectors.suppression_list(actor=actor, address=address)[:200])
    context = {
        "form": form,
        "suppression_form": suppression_form,
        "suppressions": suppressions,
        "q": address,
        "history": selectors.contact_policy_history(actor=actor),
    }
    status = 422 if form.errors or suppression_form.errors else 200
    return render(request, "channels/pages/policy.html", context, status=status)


@permission_required_page(MESSAGES_MANAGE_POLICY)
@require_http_methods(["GET", "POST"])
def policy(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    current = selectors.contact_policy_get(actor=actor)
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version")
            try:
                services.contact_policy_update(actor=actor, data=data, version=version)
            except ValidationFailed as exc:
                add_domain_errors(form, exc)
            except Conflict as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Contact policy saved."))
                return redirect("channels:policy")
    else:
        form = PolicyForm(initial=_policy_initial(current))
    return _render_policy(request, form, SuppressionForm())


@permission_required_page(MESSAGES_MANAGE_POLICY)
@require_POST
def suppression_create(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    form = SuppressionForm(request.POST)
    if form.is_valid():
        try:
            services.suppression_add(actor=actor, **form.cleaned_data)
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
        except Conflict as exc:
            form.add_error("address", exc.message)
        else:
            messages.success(request, _("Address added to the list."))
            return redirect("channels:policy")
    policy_form = PolicyForm(initial=_policy_initial(selectors.contact_policy_get(actor=actor)))
    return _render_policy(request, policy_form, form)


@permission_required_page(MESSAGES_MANAGE_POLICY)
@require_POST
def suppression_delete(request: HttpRequest, suppression_id: int) -> HttpResponse:
    services.suppression_remove(actor=actor_from_request(request), suppression_id=suppression_id)
    messages.success(request, _("Address removed from the list."))
    return redirect("channels:policy")


# Unsubscribing (public) ----------------------------------------------------------------------------------


def _channel_label(channel: str) -> str:
    return str(MessageChannel(channel).label)


@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The page an email's unsubscribe link opens: confirm with a button (a GET alone changes nothing, since
    mail scanners follow links); no sign-in needed, the signed token is the proof."""
    target = read_unsubscribe_token(token)
    if target is None:
        return render(request, "channels/pages/unsubscribe.html", {"invalid": True, "bare_layout": True}, status=404)
    channel, address = target
    context: dict[str, Any] = {"bare_layout": True, "channel": _channel_label(channel), "address": address}
    if request.method == "POST":
        services.contact_unsubscribe(channel=channel, address=address, source="unsubscribe link")
        context["done"] = True
    return render(request, "channels/pages/unsubscribe.html", context)


@csrf_exempt
@require_POST
def unsubscribe_one_click(request: HttpRequest, token: str) -> HttpResponse:
    """RFC 8058 one-click unsubscribe: mail clients POST "List-Unsubscribe=One-Click" without cookies or CSRF
    tokens; the signed token in the URL is what authorises it."""
    target = read_unsubscribe_token(token)
    if target is None:
        raise Http404()
    if request.POST.get("List-Unsubscribe") != "One-Click":
        return HttpResponseBadRequest("List-Unsubscribe=One-Click expected")
    channel, address = target
    services.contact_unsubscribe(channel=channel, address=address, source="one-click unsubscribe")
    return HttpResponse(status=204)

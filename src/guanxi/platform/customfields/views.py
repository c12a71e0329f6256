"""Settings pages for custom fields: the definitions of each record type, and their create/edit form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from guanxi.platform.core.errors import Conflict, ValidationFailed
from guanxi.platform.customfields import selectors, services
from guanxi.platform.customfields.definition_form import DefinitionForm, choice_lines, parse_choice_lines
from guanxi.platform.customfields.models import CustomFieldDefinition
from guanxi.platform.customfields.registry import targets
from guanxi.platform.identity.permissions import CUSTOMFIELDS_MANAGE
from guanxi.platform.identity.web.decorators import permission_required_page
from guanxi.platform.ui.actors import actor_from_request
from guanxi.platform.ui.forms import add_domain_errors
from guanxi.platform.ui.pages import render_form_page


def _list_url() -> str:
    return reverse("customfields:definition_list")


def _current_target(request: HttpRequest) -> str:
    available = list(targets())
    wanted = request.GET.get("target", "")
    return wanted if wanted in available else (available[0] if available else "")


@permission_required_page(CUSTOMFIELDS_MANAGE)
def definition_list(request: HttpRequest) -> HttpResponse:
    """The definitions of one record type (tabs switch the type), inactive ones included."""
    actor = actor_from_request(request)
    target = _current_target(request)
    definitions = list(selectors.definition_list(actor=actor, target=target, include_inactive=True)) if target else []
    tabs = [{"code": code, "label": label, "active": code == target} for code, label in targets().items()]
    return render(
        request, "customfields/pages/definition_list.html", {"definitions": definitions, "tabs": tabs, "target": target}
    )


def _save(request: HttpRequest, form: DefinitionForm, definition: CustomFieldDefinition | None) -> bool:
    """Parse the form and call the service; errors land on the form. True when saved."""
    if not form.is_valid():
        return False
    data = form.cleaned_data
    try:
        saved = services.custom_field_save(
            actor=actor_from_request(request),
            definition=definition,
            target=data.get("target") or "",
            key=data.get("key") or "",
            field_type=data.get("field_type") or "",
            label_zh=data["label_zh"],
            label_en=data["label_en"],
            choices=parse_choice_lines(data.get("choices") or ""),
            required=data["required"],
            help_text_zh=data["help_text_zh"],
            help_text_en=data["help_text_en"],
            position=data["position"] if data.get("position") is not None else 0,
            is_active=data["is_active"],
            version=data.get("version"),
        )
    except ValidationFailed as exc:
        add_domain_errors(form, exc)
        return False
    except Conflict as exc:  # someone else saved it meanwhile
        form.add_error(None, exc.message)
        return False
    messages.success(request, _("Custom field “%(label)s” saved.") % {"label": saved.label})
    return True


def _render_form(
    request: HttpRequest, form: DefinitionForm, definition: CustomFieldDefinition | None, target: str
) -> HttpResponse:
    context: dict[str, Any] = {"form": form, "definition": definition, "target": target}
    if definition is not None:
        context["history"] = selectors.definition_history(actor=actor_from_request(request), definition=definition)
    return render_form_page(request, "customfields/pages/definition_form.html", context, form=form)


@permission_required_page(CUSTOMFIELDS_MANAGE)
@require_http_methods(["GET", "POST"])
def definition_create(request: HttpRequest) -> HttpResponse:
    target = _current_target(request)
    posted = request.POST if request.method == "POST" else None
    form = DefinitionForm(posted, initial={"target": target, "position": 0, "is_active": True})
    if posted is not None and _save(request, form, None):
        return redirect(f"{_list_url()}?target={form.cleaned_data['target']}")
    return _render_form(request, form, None, target)


@permission_required_page(CUSTOMFIELDS_MANAGE)
@require_http_methods(["GET", "POST"])
def definition_edit(request: HttpRequest, definition_id: int) -> HttpResponse:
    definition = selectors.definition_get(actor=actor_from_request(request), definition_id=definition_id)
    initial = {
        "target": definition.target,
        "key": definition.key,
        "field_type": definition.field_type,
        "label_zh": definition.label_zh,
        "label_en": definition.label_en,
        "choices": choice_lines(definition.choices),
        "required": definition.required,
        "help_text_zh": definition.help_text_zh,
        "help_text_en": definition.help_text_en,
        "position": definition.position,
        "is_active": definition.is_active,
        "version": definition.version,
    }
    posted = request.POST if request.method == "POST" else None
    form = DefinitionForm(posted, initial=initial, definition=definition)
    if posted is not None and _save(request, form, definition):
        return redirect(f"{_list_url()}?target={definition.target}")
    return _render_form(request, form, definition, definition.target)

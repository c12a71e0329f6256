"""The access log page: views of unmasked personal data and exports, filtered by user, action and date."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from guanxi.platform.audit import selectors
from guanxi.platform.audit.models import AccessLogEntry
from guanxi.platform.core.pagination import keyset_paginate
from guanxi.platform.identity.models import User
from guanxi.platform.identity.permissions import AUDIT_VIEW
from guanxi.platform.identity.web.decorators import permission_required_page
from guanxi.platform.ui.actors import actor_from_request
from guanxi.platform.ui.pages import next_page_url, render_form_page

ENTRIES_PER_PAGE = 100


class AccessLogFilterForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=User.objects.order_by("username"), required=False, label=_("User"), empty_label=_("Everyone")
    )
    action = forms.ChoiceField(
        required=False, label=_("Action"), choices=[("", _("All")), *AccessLogEntry.Action.choices]
    )
    date_from = forms.DateField(required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))


@permission_required_page(AUDIT_VIEW)
def access_log(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    form = AccessLogFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "user_id": data["user"].pk if data.get("user") else None,
            "action": data.get("action") or "",
            "day_from": data.get("date_from"),
            "day_to": data.get("date_to"),
        }
    entries = selectors.access_log_list(actor=actor, **filters)
    page = keyset_paginate(entries, sort="-id", cursor=request.GET.get("cursor"), page_size=ENTRIES_PER_PAGE)
    context = {"form": form, "page": page, "next_url": next_page_url(request, page.next_cursor)}
    return render_form_page(request, "audit/pages/access_log.html", context, form=form)

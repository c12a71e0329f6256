"""What every settings or list page renders the same way: the 422 status of a form page with errors,
and the "next page" link of a keyset-paginated list that keeps the filters in the query string."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render


def render_form_page(
    request: HttpRequest, template: str, context: Mapping[str, Any], *, form: forms.Form
) -> HttpResponse:
    """Render a page holding `form`: 422 when it has errors, so clients and tests see the failed submit."""
    return render(request, template, context, status=422 if form.errors else 200)


def next_page_url(request: HttpRequest, cursor: str | None) -> str | None:
    """The current query string with `cursor` set, or None when there is no next page."""
    if not cursor:
        return None
    params: QueryDict = request.GET.copy()
    params["cursor"] = cursor
    return f"?{params.urlencode()}"

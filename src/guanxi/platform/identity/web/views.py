"""Settings pages: API tokens (users, teams, roles follow)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from guanxi.platform.identity import selectors
from guanxi.platform.ui.actors import actor_from_request


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    return render(request, "identity/pages/token_list.html", {"tokens": selectors.api_token_list(actor=actor)})

"""The search results page and the as-you-type suggestions under the search box."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from guanxi.platform.search.services import SearchGroup, search_groups
from guanxi.platform.ui.actors import actor_from_request

RESULTS_PER_KIND = 50
SUGGESTIONS_PER_KIND = 5


def _groups(request: HttpRequest, limit: int) -> list[SearchGroup]:
    return search_groups(actor=actor_from_request(request), text=request.GET.get("q", ""), limit_per_kind=limit)


@login_required
def results(request: HttpRequest) -> HttpResponse:
    groups = _groups(request, RESULTS_PER_KIND)
    return render(request, "search/pages/results.html", {"groups": groups, "q": request.GET.get("q", "")})


@login_required
def suggest(request: HttpRequest) -> HttpResponse:
    groups = [group for group in _groups(request, SUGGESTIONS_PER_KIND) if group.hits]
    return render(request, "search/partials/suggest.html", {"groups": groups, "q": request.GET.get("q", "")})

"""The search results page and the as-you-type suggestions under the search box."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from guanxi.platform.search.registry import providers
from guanxi.platform.search.services import global_search
from guanxi.platform.ui.actors import actor_from_request


def _groups(request: HttpRequest, limit: int) -> list[dict[str, object]]:
    hits = global_search(actor=actor_from_request(request), text=request.GET.get("q", ""), limit_per_kind=limit)
    return [{"label": p.label, "code": p.code, "hits": hits.get(p.code, [])} for p in providers() if p.code in hits]


@login_required
def results(request: HttpRequest) -> HttpResponse:
    groups = _groups(request, 50)
    return render(request, "search/pages/results.html", {"groups": groups, "q": request.GET.get("q", "")})


@login_required
def suggest(request: HttpRequest) -> HttpResponse:
    groups = [g for g in _groups(request, 5) if g["hits"]]
    return render(request, "search/partials/suggest.html", {"groups": groups, "q": request.GET.get("q", "")})

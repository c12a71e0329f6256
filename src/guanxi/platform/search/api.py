"""API routes for search: GET /api/v1/search?q=&limit= across every provider the caller may use."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI, Query, Router, Schema
from pydantic import Field

from guanxi.platform.core.api import actor_of, responses
from guanxi.platform.search.services import MAX_LIMIT_PER_KIND, search_groups

router = Router(tags=["search"])


class SearchParams(Schema):
    q: str = Field("", max_length=200, description="Name, pinyin, initials, phone digits, email, company or card")
    limit: int = Field(10, ge=1, le=MAX_LIMIT_PER_KIND, description="Most hits per kind")


class SearchHitOut(Schema):
    kind: str
    id: int
    title: str
    subtitle: str
    url: str
    matched_on: str
    extra: dict[str, str]


class SearchGroupOut(Schema):
    kind: str
    label: str
    hits: list[SearchHitOut]


class SearchOut(Schema):
    q: str
    groups: list[SearchGroupOut]


@router.get(
    "/search",
    response=responses(SearchOut, errors=(400, 401, 403, 422)),
    summary="Search customers, leads and more by name, pinyin, phone, email, company or card number",
)
def search(request: HttpRequest, params: Query[SearchParams]) -> SearchOut:
    groups = search_groups(actor=actor_of(request), text=params.q, limit_per_kind=params.limit, require_text=True)
    return SearchOut(
        q=params.q,
        groups=[
            SearchGroupOut(
                kind=group.code,
                label=str(group.label),
                hits=[
                    SearchHitOut(
                        kind=hit.kind,
                        id=hit.id,
                        title=hit.title,
                        subtitle=hit.subtitle,
                        url=hit.url,
                        matched_on=hit.matched_on,
                        extra=dict(hit.extra),
                    )
                    for hit in group.hits
                ],
            )
            for group in groups
        ],
    )


def mount(api: NinjaAPI) -> None:
    api.add_router("/", router)

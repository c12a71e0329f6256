"""API routes for search."""

from ninja import NinjaAPI, Router

router = Router(tags=["search"])


def mount(api: NinjaAPI) -> None:
    api.add_router("/", router)

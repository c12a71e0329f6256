"""API routes for annotations."""

from ninja import NinjaAPI, Router

router = Router(tags=["annotations"])


def mount(api: NinjaAPI) -> None:
    api.add_router("/", router)

"""API routes for customfields."""

from ninja import NinjaAPI, Router

router = Router(tags=["customfields"])


def mount(api: NinjaAPI) -> None:
    api.add_router("/", router)

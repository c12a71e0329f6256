"""The customers app's API routers, mounted on the root API by config.api."""

from __future__ import annotations

from ninja import NinjaAPI


def mount(api: NinjaAPI) -> None:
    from guanxi.customers.api.customers import router as customers_router

    api.add_router("/customers", customers_router)

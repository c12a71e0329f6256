"""The customers app's API routers, mounted on the root API by config.api."""

from __future__ import annotations

from ninja import NinjaAPI


def mount(api: NinjaAPI) -> None:
    from guanxi.customers.api.activities import router as activities_router
    from guanxi.customers.api.customers import router as customers_router
    from guanxi.customers.api.leads import router as leads_router
    from guanxi.customers.api.pool import router as pool_router

    api.add_router("/customers", customers_router)
    api.add_router("/leads", leads_router)
    api.add_router("/", activities_router)
    api.add_router("/", pool_router)

"""The NinjaAPI root at /api/v1/: authentication, error format, and every app's routers."""

from __future__ import annotations

from ninja import NinjaAPI

from guanxi.platform.core.api import install_error_handlers
from guanxi.platform.identity.api_auth import SessionActorAuth, TokenAuth

api = NinjaAPI(
    title="guanxi API",
    version="1",
    description="The guanxi CRM REST API. Authenticate with `Authorization: Bearer <token>` or a browser session.",
    urls_namespace="api-v1",
    auth=[TokenAuth(), SessionActorAuth()],
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)


def _mount() -> None:
    from guanxi.customers.api import mount as mount_customers
    from guanxi.platform.identity.api import mount as mount_identity

    from guanxi.platform.annotations.api import mount as mount_annotations
    from guanxi.platform.customfields.api import mount as mount_customfields
    from guanxi.platform.search.api import mount as mount_search

    mount_identity(api)
    mount_customfields(api)
    mount_annotations(api)
    mount_search(api)
    mount_customers(api)


_mount()

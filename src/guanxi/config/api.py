"""The NinjaAPI root at /api/v1/: authentication, error format, and every app's routers."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from guanxi.platform.core.api import install_error_handlers
from guanxi.platform.identity.api_auth import SessionActorAuth, TokenAuth


def _publish_custom_fields(schema: OpenAPISchema) -> None:
    """Replace every `custom_fields` property marked with its record type by the live definitions' schema."""
    from guanxi.platform.customfields.openapi import custom_fields_schema

    by_target: dict[str, dict[str, Any]] = {}
    for component in schema.get("components", {}).get("schemas", {}).values():
        for name, prop in list(component.get("properties", {}).items()):
            target = prop.get("x-custom-fields-target") if isinstance(prop, dict) else None
            if not target:
                continue
            if target not in by_target:
                by_target[target] = custom_fields_schema(target)
            published = dict(by_target[target])
            if not prop.get("x-custom-fields-required"):
                published.pop("required", None)
            nullable = any(option.get("type") == "null" for option in prop.get("anyOf", []))
            body: dict[str, Any] = {"anyOf": [published, {"type": "null"}]} if nullable else published
            keep = {k: v for k, v in prop.items() if k in ("title", "description", "x-custom-fields-target")}
            component["properties"][name] = {**body, **keep}


class GuanxiAPI(NinjaAPI):
    """The NinjaAPI root; its OpenAPI schema publishes the custom fields an administrator defined."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        _publish_custom_fields(schema)
        return schema


api = GuanxiAPI(
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
    from guanxi.platform.annotations.api import mount as mount_annotations
    from guanxi.platform.approvals.api import mount as mount_approvals
    from guanxi.platform.automation.api import mount as mount_automation
    from guanxi.platform.channels.api import mount as mount_channels
    from guanxi.platform.customfields.api import mount as mount_customfields
    from guanxi.platform.identity.api import mount as mount_identity
    from guanxi.platform.inbox.api import mount as mount_inbox
    from guanxi.platform.notifications.api import mount as mount_notifications
    from guanxi.platform.search.api import mount as mount_search
    from guanxi.platform.webhooks.api import mount as mount_webhooks

    mount_identity(api)
    mount_customfields(api)
    mount_annotations(api)
    mount_search(api)
    mount_notifications(api)
    mount_channels(api)
    mount_inbox(api)
    mount_webhooks(api)
    mount_approvals(api)
    mount_automation(api)
    mount_customers(api)


_mount()

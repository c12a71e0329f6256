"""The webhooks permission and API token area; administrators get it (every permission) by default."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.platform.identity.permissions import register_area, register_permission

WEBHOOKS_MANAGE = "webhooks.manage"
AREA = "webhooks"


def register_permissions() -> None:
    register_area(AREA, _("Webhooks"))
    register_permission(WEBHOOKS_MANAGE, _("Manage webhooks and see their deliveries"), area=AREA)

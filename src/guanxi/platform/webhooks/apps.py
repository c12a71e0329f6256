"""The webhooks app: outbound, signed HTTP calls for platform events (see delivery.py and services.py)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "guanxi.platform.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from guanxi.platform.core.jobs import register_periodic
        from guanxi.platform.events.registry import register_subscriber
        from guanxi.platform.notifications.registry import register_notification_type
        from guanxi.platform.ui.registry import NavItem, register_nav_item
        from guanxi.platform.webhooks.delivery import NOTIFY_DISABLED, handle_event
        from guanxi.platform.webhooks.permissions import WEBHOOKS_MANAGE, register_permissions
        from guanxi.platform.webhooks.tasks import retry_due

        register_permissions()
        register_subscriber("webhooks", handle_event)
        register_periodic(retry_due, name="webhooks.retry_due", minute="*")
        register_notification_type(
            NOTIFY_DISABLED,
            _("A webhook was switched off after failed deliveries"),
            description=_("Sent to the person who created the webhook subscription."),
            default_in_app=True,
            default_email=True,
        )
        register_nav_item(
            NavItem(
                "webhooks",
                _("Webhooks"),
                "webhooks:subscription_list",
                WEBHOOKS_MANAGE,
                order=60,
                section="settings",
            )
        )

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "guanxi.platform.channels"
    label = "channels"
    verbose_name = _("Messages")

    def ready(self) -> None:
        from guanxi.platform.channels import permissions
        from guanxi.platform.channels.tasks import retry_due_messages
        from guanxi.platform.core.jobs import register_periodic
        from guanxi.platform.ui.registry import NavItem, register_nav_item

        register_nav_item(
            NavItem("messages", _("Messages"), "channels:message_list", permissions.MESSAGES_VIEW, order=70)
        )
        register_nav_item(
            NavItem(
                "message_templates",
                _("Message templates"),
                "channels:template_list",
                permissions.MESSAGES_MANAGE_TEMPLATES,
                order=55,
                section="settings",
            )
        )
        register_nav_item(
            NavItem(
                "contact_policy",
                _("Contact policy"),
                "channels:policy",
                permissions.MESSAGES_MANAGE_POLICY,
                order=56,
                section="settings",
            )
        )
        register_periodic(retry_due_messages, name="channels.retry_due", minute="*")

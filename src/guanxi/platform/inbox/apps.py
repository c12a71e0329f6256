from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "guanxi.platform.inbox"
    label = "inbox"
    verbose_name = _("Inbound messages")

    def ready(self) -> None:
        from guanxi.platform.core.jobs import register_periodic
        from guanxi.platform.inbox.permissions import INBOX_VIEW
        from guanxi.platform.inbox.tasks import file_waiting_messages, imap_poll
        from guanxi.platform.ui.registry import NavItem, register_nav_item

        register_nav_item(NavItem("inbox", _("Inbox"), "inbox:message_list", INBOX_VIEW, order=45))
        register_periodic(imap_poll, name="inbox.imap_poll", minute="*/2")
        register_periodic(file_waiting_messages, name="inbox.file_waiting", minute="*/5")

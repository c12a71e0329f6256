from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnnotationsConfig(AppConfig):
    name = "guanxi.platform.annotations"
    label = "annotations"
    verbose_name = _("Tags, attachments and notes")

    def ready(self) -> None:
        from guanxi.platform.identity.permissions import TAGS_MANAGE
        from guanxi.platform.ui.registry import NavItem, register_nav_item

        register_nav_item(NavItem("tags", _("Tags"), "annotations:tag_list", TAGS_MANAGE, order=45, section="settings"))

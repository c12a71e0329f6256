from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomFieldsConfig(AppConfig):
    name = "guanxi.platform.customfields"
    label = "customfields"
    verbose_name = _("Custom fields")

    def ready(self) -> None:
        from guanxi.platform.identity.permissions import CUSTOMFIELDS_MANAGE
        from guanxi.platform.ui.registry import NavItem, register_nav_item

        register_nav_item(
            NavItem(
                "custom_fields",
                _("Custom fields"),
                "customfields:definition_list",
                CUSTOMFIELDS_MANAGE,
                order=40,
                section="settings",
            )
        )

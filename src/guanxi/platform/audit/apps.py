from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "guanxi.platform.audit"
    label = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from guanxi.platform.identity.permissions import AUDIT_VIEW
        from guanxi.platform.ui.registry import NavItem, register_nav_item

        register_nav_item(
            NavItem("access_log", _("Access log"), "audit:access_log", AUDIT_VIEW, order=80, section="settings")
        )

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_builtin_roles(sender: AppConfig, **kwargs: Any) -> None:
    """After migrate (and after a test flush), make sure the built-in roles exist."""
    if sender.label != "identity":
        return
    from guanxi.platform.identity.services import roles_ensure_builtin

    roles_ensure_builtin()


class IdentityConfig(AppConfig):
    name = "guanxi.platform.identity"
    label = "identity"
    verbose_name = _("Users and permissions")

    def ready(self) -> None:
        post_migrate.connect(_ensure_builtin_roles, sender=self)

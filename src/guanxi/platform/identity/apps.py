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
        from django.contrib.auth.signals import user_logged_in

        from guanxi.platform.identity.session_security import session_begin

        post_migrate.connect(_ensure_builtin_roles, sender=self)
        # Session plumbing, not business logic: start the idle clock and note whether a code is owed.
        user_logged_in.connect(session_begin, dispatch_uid="guanxi.session_begin")
        _register_navigation()


def _register_navigation() -> None:
    from guanxi.platform.identity.permissions import IDENTITY_MANAGE
    from guanxi.platform.ui.registry import NavItem, register_nav_item

    for code, label, url_name, permission, order in (
        ("users", _("Users"), "identity:user_list", IDENTITY_MANAGE, 10),
        ("teams", _("Teams"), "identity:team_list", IDENTITY_MANAGE, 20),
        ("roles", _("Roles"), "identity:role_list", IDENTITY_MANAGE, 30),
        ("api_tokens", _("API tokens"), "identity:token_list", None, 90),
    ):
        register_nav_item(NavItem(code, label, url_name, permission, order=order, section="settings"))

"""The "notifications" API token area: a token reads a user's notifications and preferences only with
`notifications:read` (or `:write`), and changes them only with `notifications:write`.

Every user has notifications, so there is no role permission to check: browser sessions may always read and
change their own; only scoped API tokens are limited.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import PermissionDenied

AREA = "notifications"
AREA_LABEL = gettext_lazy("Notifications")


def require_token_scope(actor: Actor, *, write: bool) -> None:
    """Raise PermissionDenied when the actor is an API token without the notifications scope needed."""
    scopes = actor.token_scopes
    if scopes is None:
        return
    if f"{AREA}:write" in scopes or (not write and f"{AREA}:read" in scopes):
        return
    if write:
        raise PermissionDenied(_("This API token may not change notifications; give it the notifications write scope."))
    raise PermissionDenied(_("This API token may not read notifications; give it the notifications read scope."))

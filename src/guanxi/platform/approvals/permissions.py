"""Permissions of approvals, the API token area they belong to, and what the built-in roles get.

Deciding needs no permission of its own: whoever a step asks may decide it (and an approval administrator,
`approvals.manage`, may decide any pending step). Through an API token, reading needs the area's read
scope and every write its write scope.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import PermissionDenied
from guanxi.platform.identity import roles
from guanxi.platform.identity.permissions import register_area, register_permission

AREA = "approvals"
APPROVALS_SUBMIT = "approvals.submit"
APPROVALS_MANAGE = "approvals.manage"


def register_permissions() -> None:
    register_area(AREA, _("Approvals"))
    register_permission(APPROVALS_SUBMIT, _("Request approvals"), area=AREA)
    register_permission(APPROVALS_MANAGE, _("Manage approval processes and decide any approval"), area=AREA)
    for role in (roles.SALES_REP, roles.SALES_MANAGER, roles.SERVICE_AGENT, roles.MARKETER):
        roles.grant(role, APPROVALS_SUBMIT)
    # The administrator role receives every registered permission (roles.grant_everything_to_administrator).


def require_token_scope(actor: Actor, *, write: bool) -> None:
    """API tokens carry scopes per area: reading approvals needs approvals:read (or :write), acting :write."""
    scopes = actor.token_scopes
    if scopes is None:
        return
    allowed = f"{AREA}:write" in scopes or (not write and f"{AREA}:read" in scopes)
    if not allowed:
        raise PermissionDenied()

"""The registry of action permissions and data-scoped object types; domain apps add theirs in ready()."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DataScope(models.TextChoices):
    OWN = "own", _("Own records")
    TEAM = "team", _("Own team and sub-teams")
    ALL = "all", _("All records")


@dataclass(frozen=True)
class PermissionSpec:
    code: str
    label: Promise | str
    area: str


@dataclass(frozen=True)
class ScopeSpec:
    object_type: str
    label: Promise | str


_permissions: dict[str, PermissionSpec] = {}
_scopes: dict[str, ScopeSpec] = {}
_areas: dict[str, Promise | str] = {}


def register_area(code: str, label: Promise | str) -> None:
    """An area groups permissions and is the unit of API token scopes (read/write per area)."""
    _areas[code] = label


def register_permission(code: str, label: Promise | str, *, area: str) -> None:
    _permissions[code] = PermissionSpec(code=code, label=label, area=area)


def register_scope(object_type: str, label: Promise | str) -> None:
    _scopes[object_type] = ScopeSpec(object_type=object_type, label=label)


def all_permissions() -> list[PermissionSpec]:
    return list(_permissions.values())


def all_scopes() -> list[ScopeSpec]:
    return list(_scopes.values())


def all_areas() -> dict[str, Promise | str]:
    return dict(_areas)


def is_known_permission(code: str) -> bool:
    return code in _permissions


def is_known_scope(object_type: str) -> bool:
    return object_type in _scopes


# Platform-level permissions.
PERSONAL_DATA_VIEW = "personal_data.view"
IDENTITY_MANAGE = "identity.manage"
CUSTOMFIELDS_MANAGE = "customfields.manage"
AUDIT_VIEW = "audit.view"
TAGS_MANAGE = "tags.manage"

register_area("admin", _("Administration"))
# Not an action: it changes how records read in any area are shown, so token scopes do not gate it.
register_permission(PERSONAL_DATA_VIEW, _("See personal data unmasked"), area="")
register_permission(IDENTITY_MANAGE, _("Manage users, teams and roles"), area="admin")
register_permission(CUSTOMFIELDS_MANAGE, _("Manage custom fields"), area="admin")
register_permission(AUDIT_VIEW, _("See the access log"), area="admin")
register_permission(TAGS_MANAGE, _("Manage tags"), area="admin")

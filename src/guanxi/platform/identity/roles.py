"""Built-in roles: each app contributes the grants its permissions give to each built-in role."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from guanxi.platform.identity import permissions as p
from guanxi.platform.identity.permissions import DataScope


@dataclass
class BuiltinRole:
    code: str
    name_zh: str
    name_en: str
    description: str
    permissions: set[str] = field(default_factory=set)
    scopes: dict[str, str] = field(default_factory=dict)


ADMINISTRATOR = "administrator"
SALES_MANAGER = "sales_manager"
SALES_REP = "sales_rep"
MARKETER = "marketer"
SERVICE_AGENT = "service_agent"
ANALYST = "analyst"

BUILTIN_ROLES: dict[str, BuiltinRole] = {
    ADMINISTRATOR: BuiltinRole(ADMINISTRATOR, "系统管理员", "Administrator", str(_("Everything, all records."))),
    SALES_MANAGER: BuiltinRole(SALES_MANAGER, "销售经理", "Sales manager", str(_("Their team's records."))),
    SALES_REP: BuiltinRole(SALES_REP, "销售代表", "Sales rep", str(_("Their own customers and the pool."))),
    MARKETER: BuiltinRole(MARKETER, "市场专员", "Marketer", str(_("All customers, read mostly."))),
    SERVICE_AGENT: BuiltinRole(SERVICE_AGENT, "客服专员", "Service agent", str(_("All customers, for service."))),
    ANALYST: BuiltinRole(ANALYST, "数据分析师", "Analyst", str(_("All records, masked personal data."))),
}


def grant(role_code: str, *permission_codes: str, scopes: dict[str, str] | None = None) -> None:
    """Give built-in role `role_code` these permissions and data scopes (called by apps at import)."""
    role = BUILTIN_ROLES[role_code]
    role.permissions.update(permission_codes)
    role.scopes.update(scopes or {})


def grant_everything_to_administrator(object_types: list[str]) -> None:
    admin = BUILTIN_ROLES[ADMINISTRATOR]
    admin.permissions.update(spec.code for spec in p.all_permissions())
    admin.scopes.update(dict.fromkeys(object_types, DataScope.ALL))


grant(SALES_MANAGER, p.PERSONAL_DATA_VIEW, p.TAGS_MANAGE)
grant(SALES_REP, p.PERSONAL_DATA_VIEW)
grant(SERVICE_AGENT, p.PERSONAL_DATA_VIEW)
grant(MARKETER, p.TAGS_MANAGE)

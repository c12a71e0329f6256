"""Permissions and data scopes the customers app adds to the platform registry, and built-in grants."""

from django.utils.translation import gettext_lazy as _

from guanxi.platform.identity import roles
from guanxi.platform.identity.permissions import DataScope, register_area, register_permission, register_scope

CUSTOMERS_VIEW = "customers.view"
CUSTOMERS_ADD = "customers.add"
CUSTOMERS_CHANGE = "customers.change"
CUSTOMERS_DELETE = "customers.delete"
CUSTOMERS_ASSIGN = "customers.assign"
CUSTOMERS_EXPORT = "customers.export"
LEADS_VIEW = "leads.view"
LEADS_ADD = "leads.add"
LEADS_CHANGE = "leads.change"
LEADS_DELETE = "leads.delete"
LEADS_CONVERT = "leads.convert"
ACTIVITIES_VIEW = "activities.view"
ACTIVITIES_ADD = "activities.add"
ACTIVITIES_CHANGE = "activities.change"
POOL_VIEW = "pool.view"
POOL_CLAIM = "pool.claim"
POOL_RETURN = "pool.return"
POOL_MANAGE = "pool.manage"
HANDOVER_RUN = "handover.run"

register_area("customers", _("Customers"))
register_area("leads", _("Leads"))
register_area("activities", _("Interactions and tasks"))
register_area("pool", _("Public pool"))

register_permission(CUSTOMERS_VIEW, _("See customers"), area="customers")
register_permission(CUSTOMERS_ADD, _("Create customers"), area="customers")
register_permission(CUSTOMERS_CHANGE, _("Edit customers"), area="customers")
register_permission(CUSTOMERS_DELETE, _("Delete customers"), area="customers")
register_permission(CUSTOMERS_ASSIGN, _("Assign customers to other users"), area="customers")
register_permission(CUSTOMERS_EXPORT, _("Export customers"), area="customers")
register_permission(LEADS_VIEW, _("See leads"), area="leads")
register_permission(LEADS_ADD, _("Create leads"), area="leads")
register_permission(LEADS_CHANGE, _("Edit leads"), area="leads")
register_permission(LEADS_DELETE, _("Delete leads"), area="leads")
register_permission(LEADS_CONVERT, _("Convert leads into customers"), area="leads")
register_permission(ACTIVITIES_VIEW, _("See interactions and tasks"), area="activities")
register_permission(ACTIVITIES_ADD, _("Log interactions and create tasks"), area="activities")
register_permission(ACTIVITIES_CHANGE, _("Edit and complete tasks"), area="activities")
register_permission(POOL_VIEW, _("See the public pool"), area="pool")
register_permission(POOL_CLAIM, _("Claim customers from the pool"), area="pool")
register_permission(POOL_RETURN, _("Return customers to the pool"), area="pool")
register_permission(POOL_MANAGE, _("Manage pools and their rules"), area="pool")
register_permission(HANDOVER_RUN, _("Hand over a user's customers"), area="customers")

register_scope("customers", _("Customers"))
register_scope("leads", _("Leads"))

_WORK = [
    CUSTOMERS_VIEW, CUSTOMERS_ADD, CUSTOMERS_CHANGE, LEADS_VIEW, LEADS_ADD, LEADS_CHANGE, LEADS_CONVERT,
    ACTIVITIES_VIEW, ACTIVITIES_ADD, ACTIVITIES_CHANGE, POOL_VIEW, POOL_CLAIM, POOL_RETURN,
]  # fmt: skip
roles.grant(roles.SALES_REP, *_WORK, scopes={"customers": DataScope.OWN, "leads": DataScope.OWN})
roles.grant(
    roles.SALES_MANAGER,
    *_WORK,
    CUSTOMERS_DELETE, CUSTOMERS_ASSIGN, CUSTOMERS_EXPORT, LEADS_DELETE, POOL_MANAGE, HANDOVER_RUN,
    scopes={"customers": DataScope.TEAM, "leads": DataScope.TEAM},
)  # fmt: skip
roles.grant(
    roles.MARKETER,
    CUSTOMERS_VIEW, CUSTOMERS_EXPORT, LEADS_VIEW, LEADS_ADD, LEADS_CHANGE, ACTIVITIES_VIEW, POOL_VIEW,
    scopes={"customers": DataScope.ALL, "leads": DataScope.ALL},
)  # fmt: skip
roles.grant(
    roles.SERVICE_AGENT,
    CUSTOMERS_VIEW, CUSTOMERS_CHANGE, ACTIVITIES_VIEW, ACTIVITIES_ADD, ACTIVITIES_CHANGE, LEADS_VIEW, LEADS_ADD,
    scopes={"customers": DataScope.ALL, "leads": DataScope.OWN},
)  # fmt: skip
roles.grant(
    roles.ANALYST,
    CUSTOMERS_VIEW, LEADS_VIEW, ACTIVITIES_VIEW, POOL_VIEW,
    scopes={"customers": DataScope.ALL, "leads": DataScope.ALL},
)  # fmt: skip

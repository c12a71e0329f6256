"""The permissions of workflow rules and their API area; administrators hold them (built-in grant)."""

from django.utils.translation import gettext_lazy as _

from guanxi.platform.identity.permissions import register_area, register_permission

AUTOMATION_VIEW = "automation.view"
AUTOMATION_MANAGE = "automation.manage"

register_area("automation", _("Workflow rules"))
register_permission(AUTOMATION_VIEW, _("See workflow rules and their runs"), area="automation")
register_permission(AUTOMATION_MANAGE, _("Manage workflow rules"), area="automation")

"""The inbox's permissions, its API token area and the built-in roles' grants.

`inbox.view`: the inbox page and API, showing the messages filed on records the user may see.
`inbox.manage`: also the messages nobody was matched to (unmatched, ignored, failed), and filing a message by
hand, creating a lead from it or retrying it.
"""

from django.utils.translation import gettext_lazy as _

from guanxi.platform.identity import roles
from guanxi.platform.identity.permissions import register_area, register_permission

INBOX_VIEW = "inbox.view"
INBOX_MANAGE = "inbox.manage"

register_area("inbox", _("Inbound messages"))
register_permission(INBOX_VIEW, _("See inbound messages"), area="inbox")
register_permission(INBOX_MANAGE, _("Sort unmatched inbound messages"), area="inbox")

roles.grant(roles.SALES_REP, INBOX_VIEW)
roles.grant(roles.SALES_MANAGER, INBOX_VIEW, INBOX_MANAGE)
roles.grant(roles.SERVICE_AGENT, INBOX_VIEW, INBOX_MANAGE)
roles.grant(roles.MARKETER, INBOX_VIEW)

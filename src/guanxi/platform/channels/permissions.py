"""Permissions of the messages area (API token scope "messages") and what the built-in roles get.

Sales reps and service agents see and send transactional messages for the records they can see; marketers
also send marketing messages and write the templates; administrators get everything, including the contact
policy and the whole message log (`messages.all.view`).
"""

from django.utils.translation import gettext_lazy as _

from guanxi.platform.identity import roles
from guanxi.platform.identity.permissions import register_area, register_permission

MESSAGES_VIEW = "messages.view"
MESSAGES_VIEW_ALL = "messages.all.view"
MESSAGES_SEND = "messages.send"
MESSAGES_SEND_MARKETING = "messages.send_marketing"
MESSAGES_MANAGE_TEMPLATES = "messages.manage_templates"
MESSAGES_MANAGE_POLICY = "messages.manage_policy"

register_area("messages", _("Messages"))
register_permission(MESSAGES_VIEW, _("See messages of records you can see"), area="messages")
register_permission(MESSAGES_VIEW_ALL, _("See every message, whatever the record"), area="messages")
register_permission(MESSAGES_SEND, _("Send transactional messages"), area="messages")
register_permission(MESSAGES_SEND_MARKETING, _("Send marketing messages"), area="messages")
register_permission(MESSAGES_MANAGE_TEMPLATES, _("Manage message templates"), area="messages")
register_permission(MESSAGES_MANAGE_POLICY, _("Manage the contact policy and blocked addresses"), area="messages")

roles.grant(roles.SALES_REP, MESSAGES_VIEW, MESSAGES_SEND)
roles.grant(roles.SERVICE_AGENT, MESSAGES_VIEW, MESSAGES_SEND)
roles.grant(roles.SALES_MANAGER, MESSAGES_VIEW, MESSAGES_SEND, MESSAGES_SEND_MARKETING)
roles.grant(roles.MARKETER, MESSAGES_VIEW, MESSAGES_SEND, MESSAGES_SEND_MARKETING, MESSAGES_MANAGE_TEMPLATES)
roles.grant(roles.ANALYST, MESSAGES_VIEW)

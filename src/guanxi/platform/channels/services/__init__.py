"""Every write of the channels app: sending and delivering messages, templates, the contact policy.

Import from here: `from guanxi.platform.channels.services import message_send`.
"""

from guanxi.platform.channels.services.delivery import message_deliver, messages_retry_due
from guanxi.platform.channels.services.messages import (
    contact_unsubscribe,
    message_mark_bounced,
    message_record_delivery_report,
    message_retry,
    message_send,
)
from guanxi.platform.channels.services.policy import contact_policy_update, suppression_add, suppression_remove
from guanxi.platform.channels.services.templates import (
    message_template_create,
    message_template_delete,
    message_template_update,
)

__all__ = [
    "contact_policy_update",
    "contact_unsubscribe",
    "message_deliver",
    "message_mark_bounced",
    "message_record_delivery_report",
    "message_retry",
    "message_send",
    "message_template_create",
    "message_template_delete",
    "message_template_update",
    "messages_retry_due",
    "suppression_add",
    "suppression_remove",
]

"""The platform's own actions: notify users, send a message from a template, call a webhook, start an
approval, add a tag. Domain apps register theirs (customers: assign, set a field, create a task, return to
the pool) in their own modules; all of them go through the same registry.

Each action calls the owning package's service — `notification_send`, `message_send` (as the system),
`webhook_call`, `approval_start` (as the system, the record's owner as requester) and `tags_assign` (as the
rule's run-as user) — so a rule does exactly what a person doing it by hand would, with the same checks.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.platform.automation.registry import (
    ActionContext,
    ActionParam,
    ActionResult,
    ActionType,
    ParamKind,
    RecordType,
    register_action_type,
)
from guanxi.platform.automation.values import is_empty, read_value
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.identity.models import Team, User

NOTIFICATION_KIND = "automation.rule"


class ActionFailed(ValidationFailed):
    """An action cannot do its work for this record (no owner to notify, no address to write to)."""

    code = "action_failed"


def _user_name(user_id: int | None) -> str:
    user = User.objects.filter(pk=user_id).first() if user_id else None
    return str(user) if user is not None else f"#{user_id}"


# Notify --------------------------------------------------------------------------------------------------

OWNER, NAMED_USER, TEAM_MANAGER = "owner", "user", "team_manager"


def _recipient_choices(record_type: RecordType) -> list[tuple[str, str]]:
    return [
        (OWNER, _("The record's owner")),
        (NAMED_USER, _("A named user")),
        (TEAM_MANAGER, _("The manager of the record's team")),
    ]


def _notify_recipient(context: ActionContext) -> int:
    who = context.params.get("recipient")
    if who == NAMED_USER:
        return int(context.params["user_id"])
    if who == TEAM_MANAGER:
        team_id = context.team_id()
        manager_id = Team.objects.filter(pk=team_id).values_list("manager_id", flat=True).first() if team_id else None
        if manager_id is None:
            raise ActionFailed(_("The record's team has no manager to notify."))
        return int(manager_id)
    owner_id = context.owner_id()
    if owner_id is None:
        raise ActionFailed(_("The record has no owner to notify."))
    return owner_id


def _notify(context: ActionContext) -> ActionResult:
    from guanxi.platform.notifications.services import notification_send

    recipient_id = _notify_recipient(context)
    title = context.merge(str(context.params["title"]))
    notification = notification_send(
        recipient_id=recipient_id,
        kind=NOTIFICATION_KIND,
        title=title,
        body=context.merge(str(context.params.get("body") or "")),
        url=context.record_url(),
    )
    return ActionResult(
        _("Notified %(user)s: “%(title)s”.") % {"user": _user_name(recipient_id), "title": title},
        {"recipient_id": recipient_id, "notification_id": notification.pk if notification is not None else None},
    )


def _describe_notify(context: ActionContext) -> str:
    recipient_id = _notify_recipient(context)
    return _("Notify %(user)s: “%(title)s”.") % {
        "user": _user_name(recipient_id),
        "title": context.merge(str(context.params["title"])),
    }


# Send a message ----------------------------------------------------------------------------------------


def _channel_choices(record_type: RecordType) -> list[tuple[str, str]]:
    from guanxi.platform.channels.models import MessageChannel

    return [(str(value), str(label)) for value, label in MessageChannel.choices]


def _purpose_choices(record_type: RecordType) -> list[tuple[str, str]]:
    from guanxi.platform.channels.models import MessagePurpose

    return [(str(value), str(label)) for value, label in MessagePurpose.choices]


def _template_choices(record_type: RecordType) -> list[tuple[str, str]]:
    from guanxi.platform.channels.models import MessageChannel, MessageTemplate

    templates = MessageTemplate.objects.filter(is_active=True, record_type=record_type.message_recipient)
    return [
        (str(pk), f"{name} ({MessageChannel(channel).label})")
        for pk, name, channel in templates.order_by("name", "id").values_list("pk", "name", "channel")
    ]


def _can_message(record_type: RecordType) -> bool:
    from guanxi.platform.channels.registry import recipient_source

    return bool(record_type.message_recipient) and recipient_source(record_type.message_recipient) is not None


def _clean_message(record_type: RecordType, params: dict[str, Any], author: Actor) -> dict[str, Any]:
    from guanxi.platform.channels.models import MessageChannel, MessagePurpose, MessageTemplate
    from guanxi.platform.channels.permissions import MESSAGES_SEND, MESSAGES_SEND_MARKETING
    from guanxi.platform.identity.scoping import has_permission

    template = MessageTemplate.objects.filter(pk=int(params["template_id"])).first()
    errors: dict[str, list[str]] = {}
    if template is None or not template.is_active:
        errors["template_id"] = [_("Choose an active template from the list.")]
    elif template.channel != params["channel"]:
        errors["template_id"] = [
            _("This template is for %(channel)s messages, not %(chosen)s.")
            % {"channel": MessageChannel(template.channel).label, "chosen": MessageChannel(params["channel"]).label}
        ]
    elif template.purpose == MessagePurpose.MARKETING and params["purpose"] != MessagePurpose.MARKETING:
        errors["purpose"] = [_("This is a marketing template: send it as a marketing message.")]
    needed = [MESSAGES_SEND] + ([MESSAGES_SEND_MARKETING] if params["purpose"] == MessagePurpose.MARKETING else [])
    if not errors and not all(has_permission(author, code) for code in needed):
        errors["purpose"] = [_("The rule runs with your rights, and you may not send such messages.")]
    if errors:
        raise ValidationFailed(fields=errors)
    params["template_id"] = int(params["template_id"])
    return params


def _message_target(context: ActionContext) -> int:
    target_id = context.linked_id(context.record_type.message_recipient)
    if target_id is None:
        raise ActionFailed(_("This record is not linked to anyone a message could go to."))
    return target_id


def _send_message(context: ActionContext) -> ActionResult:
    from guanxi.platform.channels.models import MessageStatus
    from guanxi.platform.channels.services import message_send

    message = message_send(
        actor=None,
        channel=str(context.params["channel"]),
        record_type=context.record_type.message_recipient,
        record_id=_message_target(context),
        template_id=int(context.params["template_id"]),
        purpose=str(context.params["purpose"]),
    )
    if message.status == MessageStatus.HELD:
        summary = _("Message to %(address)s held back: %(reason)s") % {
            "address": message.to_address,
            "reason": message.held_reason_text,
        }
    else:
        summary = _("Message to %(address)s queued.") % {"address": message.to_address}
    return ActionResult(summary, {"message_id": message.pk, "status": message.status})


def _describe_message(context: ActionContext) -> str:
    from guanxi.platform.channels.models import MessageChannel, MessageTemplate
    from guanxi.platform.channels.registry import recipient_source

    source = recipient_source(context.record_type.message_recipient)
    channel = str(context.params["channel"])
    template = MessageTemplate.objects.filter(pk=context.params["template_id"]).first()
    recipients = source.resolve(_message_target(context), channel) if source is not None else []
    if not recipients:
        raise ActionFailed(_("The record has no address for %(channel)s.") % {"channel": MessageChannel(channel).label})
    return _("Send “%(template)s” by %(channel)s to %(address)s (consent: %(consent)s).") % {
        "template": template.name if template is not None else context.params["template_id"],
        "channel": MessageChannel(channel).label,
        "address": recipients[0].address,
        "consent": recipients[0].consent,
    }


# Call a webhook ------------------------------------------------------------------------------------------


def _subscription_choices(record_type: RecordType) -> list[tuple[str, str]]:
    from guanxi.platform.webhooks.models import WebhookSubscription

    rows = WebhookSubscription.objects.filter(is_active=True).order_by("name", "id").values_list("pk", "name", "url")
    return [(str(pk), f"{name} ({url})") for pk, name, url in rows]


def _clean_webhook(record_type: RecordType, params: dict[str, Any], author: Actor) -> dict[str, Any]:
    from guanxi.platform.webhooks.services import EVENT_NAME_MAX, EVENT_NAME_PATTERN

    name = str(params.get("event_name") or "")
    if name and (len(name) > EVENT_NAME_MAX or not EVENT_NAME_PATTERN.match(name)):
        raise ValidationFailed.for_field(
            "event_name", _("Use letters, digits and . _ : - only, such as “customer.win_back”.")
        )
    params["subscription_id"] = int(params["subscription_id"])
    return params


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def webhook_payload(context: ActionContext) -> dict[str, Any]:
    """What a rule sends: the rule, the record (its rule fields, non-empty ones) and the triggering event."""
    record: dict[str, Any] | None = None
    if context.record is not None:
        values = ((path, read_value(context.record, field)) for path, field in context.fields().items())
        record = {path: _json_value(value) for path, value in values if not is_empty(value)}
    return {
        "rule": {"id": context.rule_id, "name": context.rule_name},
        "record_type": context.record_type.key,
        "record_id": context.record_id,
        "record": record,
        "event": context.event.as_dict() if context.event is not None else None,
    }


def _event_name(context: ActionContext) -> str:
    return str(context.params.get("event_name") or f"automation.rule.{context.rule_id or 0}")


def _call_webhook(context: ActionContext) -> ActionResult:
    from guanxi.platform.webhooks.services import webhook_call

    delivery = webhook_call(
        subscription_id=int(context.params["subscription_id"]),
        event_name=_event_name(context),
        payload=webhook_payload(context),
    )
    return ActionResult(
        _("Webhook delivery #%(id)s queued to %(url)s.") % {"id": delivery.pk, "url": delivery.subscription.url},
        {"delivery_id": delivery.pk},
    )


def _describe_webhook(context: ActionContext) -> str:
    from guanxi.platform.webhooks.models import WebhookSubscription

    subscription = WebhookSubscription.objects.filter(pk=context.params["subscription_id"]).first()
    if subscription is None or not subscription.is_active:
        raise ActionFailed(_("The webhook subscription is gone or switched off."))
    return _("POST “%(event)s” with the record to %(url)s, signed.") % {
        "event": _event_name(context),
        "url": subscription.url,
    }


# Start an approval ---------------------------------------------------------------------------------------


def _can_approve(record_type: RecordType) -> bool:
    from guanxi.platform.approvals.registry import approvable_type

    return approvable_type(record_type.key) is not None


def _process_choices(record_type: RecordType) -> list[tuple[str, str]]:
    from guanxi.platform.approvals.models import ApprovalProcess

    rows = ApprovalProcess.objects.filter(is_active=True, approvable_type=record_type.key).order_by("name", "id")
    return [(str(pk), name) for pk, name in rows.values_list("pk", "name")]


def _clean_approval(record_type: RecordType, params: dict[str, Any], author: Actor) -> dict[str, Any]:
    params["process_id"] = int(params["process_id"])
    return params


def _requester_id(context: ActionContext) -> int:
    return context.owner_id() or context.actor.user.pk


def _start_approval(context: ActionContext) -> ActionResult:
    from guanxi.platform.approvals.services import approval_start

    request = approval_start(
        actor=None,
        process_id=int(context.params["process_id"]),
        approvable_type=context.record_type.key,
        object_id=context.record_id,
        requester_id=_requester_id(context),
        comment=context.merge(str(context.params.get("comment") or "")),
    )
    return ActionResult(
        _("Approval request #%(id)s started for %(user)s.") % {"id": request.pk, "user": request.requester},
        {"approval_request_id": request.pk},
    )


def _describe_approval(context: ActionContext) -> str:
    from guanxi.platform.approvals.models import ApprovalProcess

    process = ApprovalProcess.objects.filter(pk=context.params["process_id"], is_active=True).first()
    if process is None:
        raise ActionFailed(_("The approval process is gone or switched off."))
    return _("Start the approval “%(process)s”, requested by %(user)s.") % {
        "process": process.name,
        "user": _user_name(_requester_id(context)),
    }


# Add a tag ------------------------------------------------------------------------------------------------


def _can_tag(record_type: RecordType) -> bool:
    from guanxi.platform.annotations.registry import annotated_type

    return annotated_type(record_type.key) is not None


def _tag_choices(record_type: RecordType) -> list[tuple[str, str]]:
    from guanxi.platform.annotations.models import Tag

    return [(str(pk), name) for pk, name in Tag.objects.order_by("name").values_list("pk", "name")]


def _clean_tag(record_type: RecordType, params: dict[str, Any], author: Actor) -> dict[str, Any]:
    params["tag_id"] = int(params["tag_id"])
    return params


def _tag_name(tag_id: Any) -> str:
    from guanxi.platform.annotations.models import Tag

    tag = Tag.objects.filter(pk=tag_id).first()
    if tag is None:
        raise ActionFailed(_("The tag no longer exists."))
    return tag.name


def _has_tag(context: ActionContext) -> bool:
    from guanxi.platform.annotations.models import TaggedItem

    return TaggedItem.objects.filter(
        tag_id=context.params["tag_id"], target=context.record_type.key, object_id=context.record_id
    ).exists()


def _add_tag(context: ActionContext) -> ActionResult:
    from guanxi.platform.annotations.services import tags_assign

    name = _tag_name(context.params["tag_id"])
    added = tags_assign(
        actor=context.actor,
        target=context.record_type.key,
        object_ids=[context.record_id],
        tag_id=int(context.params["tag_id"]),
    )
    if added:
        return ActionResult(_("Tag “%(tag)s” added.") % {"tag": name}, {"tag_id": context.params["tag_id"]})
    return ActionResult(_("The record already had the tag “%(tag)s”.") % {"tag": name})


def _describe_tag(context: ActionContext) -> str:
    name = _tag_name(context.params["tag_id"])
    if _has_tag(context):
        return _("Nothing: the record already has the tag “%(tag)s”.") % {"tag": name}
    return _("Add the tag “%(tag)s”.") % {"tag": name}


def register_platform_actions() -> None:
    """Called once from AutomationConfig.ready()."""
    from guanxi.platform.channels.models import MessagePurpose
    from guanxi.platform.webhooks.permissions import WEBHOOKS_MANAGE

    register_action_type(
        ActionType(
            key="notify",
            label=gettext_lazy("Notify a user"),
            description=gettext_lazy("An in-app notification (and email, as each user chose) to a user."),
            params=(
                ActionParam(
                    "recipient", gettext_lazy("Whom"), ParamKind.CHOICE, choices=_recipient_choices, default=OWNER
                ),
                ActionParam("user_id", gettext_lazy("User"), ParamKind.USER, show_if=("recipient", (NAMED_USER,))),
                ActionParam(
                    "title",
                    gettext_lazy("Title"),
                    ParamKind.MERGE_TEXT,
                    help_text=gettext_lazy("Merge fields such as {record} or {owner} are filled in."),
                ),
                ActionParam("body", gettext_lazy("Text"), ParamKind.LONG_MERGE_TEXT, required=False),
            ),
            execute=_notify,
            describe=_describe_notify,
            order=40,
        )
    )
    register_action_type(
        ActionType(
            key="send_message",
            label=gettext_lazy("Send a message from a template"),
            description=gettext_lazy(
                "An email, SMS or WeChat message from a template, under the contact policy (consent, caps, "
                "quiet hours)."
            ),
            params=(
                ActionParam("channel", gettext_lazy("Channel"), ParamKind.CHOICE, choices=_channel_choices),
                ActionParam("template_id", gettext_lazy("Template"), ParamKind.CHOICE, choices=_template_choices),
                ActionParam(
                    "purpose",
                    gettext_lazy("Purpose"),
                    ParamKind.CHOICE,
                    choices=_purpose_choices,
                    default=str(MessagePurpose.MARKETING),
                ),
            ),
            clean=_clean_message,
            execute=_send_message,
            describe=_describe_message,
            applies_to=_can_message,
            order=50,
        )
    )
    register_action_type(
        ActionType(
            key="call_webhook",
            label=gettext_lazy("Call a webhook"),
            description=gettext_lazy("A signed POST of the rule, the record and the event to a webhook subscription."),
            params=(
                ActionParam(
                    "subscription_id",
                    gettext_lazy("Webhook subscription"),
                    ParamKind.CHOICE,
                    choices=_subscription_choices,
                ),
                ActionParam(
                    "event_name",
                    gettext_lazy("Event name sent"),
                    ParamKind.TEXT,
                    required=False,
                    help_text=gettext_lazy("Default: automation.rule.<rule id>."),
                ),
            ),
            clean=_clean_webhook,
            execute=_call_webhook,
            describe=_describe_webhook,
            permissions=(WEBHOOKS_MANAGE,),
            order=60,
        )
    )
    register_action_type(
        ActionType(
            key="start_approval",
            label=gettext_lazy("Start an approval"),
            description=gettext_lazy("Submit the record to an approval process, with its owner as the requester."),
            params=(
                ActionParam("process_id", gettext_lazy("Approval process"), ParamKind.CHOICE, choices=_process_choices),
                ActionParam("comment", gettext_lazy("Comment"), ParamKind.MERGE_TEXT, required=False),
            ),
            clean=_clean_approval,
            execute=_start_approval,
            describe=_describe_approval,
            applies_to=_can_approve,
            order=70,
        )
    )
    register_action_type(
        ActionType(
            key="add_tag",
            label=gettext_lazy("Add a tag"),
            params=(ActionParam("tag_id", gettext_lazy("Tag"), ParamKind.CHOICE, choices=_tag_choices),),
            clean=_clean_tag,
            execute=_add_tag,
            describe=_describe_tag,
            applies_to=_can_tag,
            order=30,
        )
    )

"""What workflow rules can test and do with the customers app's records.

Record types: customers ("customers.customer"), leads, interactions and tasks, with the fields conditions
may test (including related ones such as the organisation's industry, the contact points' consent, and custom
fields). Interactions and tasks link to their customer, so customer actions (assign, set a field, send a
message, return to the pool) also work in rules about them.

Actions: assign the owner within a team (round robin or by load), set a field, create a task, return to the
public pool. Each calls the same service the UI and the API call, as the rule's run-as user.
Called once from `registrations.register_all()`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.customers.models import ContactPoint, Customer, Interaction, Lead, Task
from guanxi.customers.models.choices import (
    Channel,
    CompanySize,
    Consent,
    ContactKind,
    CustomerKind,
    Direction,
    Gender,
    LeadStatus,
    LifecycleStage,
    Outcome,
    Source,
    TaskKind,
    TaskPriority,
    TaskStatus,
)
from guanxi.customers.permissions import ACTIVITIES_ADD, CUSTOMERS_ASSIGN, CUSTOMERS_CHANGE
from guanxi.platform.automation.registry import (
    ActionContext,
    ActionParam,
    ActionResult,
    ActionType,
    FieldKind,
    ParamKind,
    RecordField,
    RecordLink,
    RecordType,
    fields_by_path,
    register_action_type,
    register_record_type,
)
from guanxi.platform.automation.values import display, relative_days, resolve
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound, ValidationFailed

CUSTOMER = "customers.customer"
LEAD = "customers.lead"
INTERACTION = "customers.interaction"
TASK = "customers.task"

F = FieldKind


def _choices(choices: Any) -> tuple[tuple[str, Any], ...]:
    return tuple((str(value), label) for value, label in choices.choices)


def _consent(kind: str) -> Exists:
    return Exists(ContactPoint.objects.filter(customer=OuterRef("pk"), kind=kind, consent=Consent.GRANTED))


# Customers -------------------------------------------------------------------------------------------------


def _customer_queryset() -> QuerySet[Customer]:
    return Customer.objects.select_related("owner", "team", "organisation").annotate(
        email_consent=_consent(ContactKind.EMAIL),
        sms_consent=_consent(ContactKind.PHONE),
        wechat_consent=_consent(ContactKind.WECHAT),
        pool_member=ExpressionWrapper(Q(owner__isnull=True, pool__isnull=False), output_field=BooleanField()),
    )


def _visible_customers(actor: Actor) -> QuerySet[Customer]:
    from guanxi.customers.selectors.customers import customer_queryset

    return customer_queryset(actor=actor)


def _search_customers(actor: Actor, text: str, limit: int) -> list[tuple[int, str]]:
    from guanxi.customers.selectors.search import customer_search_q

    rows = _visible_customers(actor).filter(customer_search_q(text)).order_by("name", "pk")[:limit]
    return [(pk, name) for pk, name in rows.values_list("pk", "name")]


_RELATED = gettext_lazy("Related records")
_CONSENT = gettext_lazy("Consent")

CUSTOMER_FIELDS = (
    RecordField("name", gettext_lazy("Name"), F.TEXT, change_key="name"),
    RecordField("kind", gettext_lazy("Kind"), F.CHOICE, choices=_choices(CustomerKind), change_key="kind"),
    RecordField("lifecycle_stage", gettext_lazy("Lifecycle stage"), F.CHOICE, choices=_choices(LifecycleStage),
                change_key="lifecycle_stage", settable=True),
    RecordField("source", gettext_lazy("Source"), F.CHOICE, choices=_choices(Source), change_key="source",
                settable=True),
    RecordField("rating", gettext_lazy("Star rating"), F.NUMBER, change_key="rating", settable=True),
    RecordField("industry", gettext_lazy("Industry"), F.TEXT, change_key="industry", settable=True),
    RecordField("company_name", gettext_lazy("Company"), F.TEXT, change_key="company_name", settable=True),
    RecordField("company_size", gettext_lazy("Company size"), F.CHOICE, choices=_choices(CompanySize),
                change_key="company_size", settable=True),
    RecordField("job_title", gettext_lazy("Job title"), F.TEXT, change_key="job_title", settable=True),
    RecordField("gender", gettext_lazy("Gender"), F.CHOICE, choices=_choices(Gender), change_key="gender"),
    RecordField("birthday", gettext_lazy("Birthday"), F.DATE, change_key="birthday"),
    RecordField("owner", gettext_lazy("Owner"), F.USER, lookup="owner_id", change_key="owner_id"),
    RecordField("team", gettext_lazy("Team"), F.TEAM, lookup="team_id", change_key="team_id"),
    RecordField("in_pool", gettext_lazy("In the public pool"), F.BOOL, lookup="pool_member"),
    RecordField("last_contact_at", gettext_lazy("Last contact"), F.DATETIME),
    RecordField("next_follow_up_at", gettext_lazy("Next follow-up"), F.DATETIME),
    RecordField("last_deal_at", gettext_lazy("Last deal"), F.DATETIME),
    RecordField("owner_since", gettext_lazy("Owned since"), F.DATETIME),
    RecordField("pool_entered_at", gettext_lazy("In the pool since"), F.DATETIME),
    RecordField("created_at", gettext_lazy("Created"), F.DATETIME),
    RecordField("email_consent", gettext_lazy("Email consent granted"), F.BOOL, group=_CONSENT),
    RecordField("sms_consent", gettext_lazy("SMS consent granted"), F.BOOL, group=_CONSENT),
    RecordField("wechat_consent", gettext_lazy("WeChat consent granted"), F.BOOL, group=_CONSENT),
    RecordField("owner.team", gettext_lazy("Owner's team"), F.TEAM, lookup="owner__team_id", group=_RELATED),
    RecordField("organisation.name", gettext_lazy("Organisation name"), F.TEXT, group=_RELATED),
    RecordField("organisation.industry", gettext_lazy("Organisation industry"), F.TEXT, group=_RELATED),
    RecordField("organisation.lifecycle_stage", gettext_lazy("Organisation lifecycle stage"), F.CHOICE,
                choices=_choices(LifecycleStage), group=_RELATED),
)  # fmt: skip

# Fields a "set a field" action may leave empty (the others always hold a value).
NOT_CLEARABLE = frozenset({"lifecycle_stage", "kind"})


# Leads, interactions, tasks ------------------------------------------------------------------------------

_CUSTOMER_OF = (
    RecordField("customer.name", gettext_lazy("Customer name"), F.TEXT, group=_RELATED),
    RecordField("customer.lifecycle_stage", gettext_lazy("Customer lifecycle stage"), F.CHOICE,
                choices=_choices(LifecycleStage), group=_RELATED),
    RecordField("customer.owner", gettext_lazy("Customer owner"), F.USER, lookup="customer__owner_id",
                group=_RELATED),
    RecordField("customer.team", gettext_lazy("Customer team"), F.TEAM, lookup="customer__team_id", group=_RELATED),
    RecordField("customer.rating", gettext_lazy("Customer star rating"), F.NUMBER, group=_RELATED),
)  # fmt: skip

LEAD_FIELDS = (
    RecordField("name", gettext_lazy("Name"), F.TEXT),
    RecordField("status", gettext_lazy("Status"), F.CHOICE, choices=_choices(LeadStatus)),
    RecordField("source", gettext_lazy("Source"), F.CHOICE, choices=_choices(Source)),
    RecordField("company_name", gettext_lazy("Company"), F.TEXT),
    RecordField("industry", gettext_lazy("Industry"), F.TEXT),
    RecordField("job_title", gettext_lazy("Job title"), F.TEXT),
    RecordField("owner", gettext_lazy("Owner"), F.USER, lookup="owner_id"),
    RecordField("team", gettext_lazy("Team"), F.TEAM, lookup="team_id"),
    RecordField("created_at", gettext_lazy("Created"), F.DATETIME),
)

INTERACTION_FIELDS = (
    RecordField("channel", gettext_lazy("Channel"), F.CHOICE, choices=_choices(Channel)),
    RecordField("direction", gettext_lazy("Direction"), F.CHOICE, choices=_choices(Direction)),
    RecordField("outcome", gettext_lazy("Outcome"), F.CHOICE, choices=_choices(Outcome)),
    RecordField("subject", gettext_lazy("Subject"), F.TEXT),
    RecordField("occurred_at", gettext_lazy("Time"), F.DATETIME),
    RecordField("duration_seconds", gettext_lazy("Duration (seconds)"), F.NUMBER),
    RecordField("user", gettext_lazy("Logged by"), F.USER, lookup="user_id"),
    *_CUSTOMER_OF,
)

TASK_FIELDS = (
    RecordField("title", gettext_lazy("Title"), F.TEXT),
    RecordField("kind", gettext_lazy("Kind"), F.CHOICE, choices=_choices(TaskKind)),
    RecordField("priority", gettext_lazy("Priority"), F.CHOICE, choices=_choices(TaskPriority)),
    RecordField("status", gettext_lazy("Status"), F.CHOICE, choices=_choices(TaskStatus)),
    RecordField("due_at", gettext_lazy("Due"), F.DATETIME),
    RecordField("completed_at", gettext_lazy("Completed at"), F.DATETIME),
    RecordField("assignee", gettext_lazy("Assignee"), F.USER, lookup="assignee_id"),
    RecordField("assignee.team", gettext_lazy("Assignee's team"), F.TEAM, lookup="assignee__team_id",
                group=_RELATED),
    *_CUSTOMER_OF,
)  # fmt: skip


def _owner_via_subject(record: Any) -> int | None:
    subject = record.customer if record.customer_id else record.lead
    return subject.owner_id if subject is not None else None


def _team_via_subject(record: Any) -> int | None:
    subject = record.customer if record.customer_id else record.lead
    return subject.team_id if subject is not None else None


_LINKS = (
    RecordLink("customer", CUSTOMER, lambda record: record.customer_id),
    RecordLink("lead", LEAD, lambda record: record.lead_id),
)


def record_types() -> list[RecordType]:
    from guanxi.customers.selectors.activities import interaction_queryset, task_queryset
    from guanxi.customers.selectors.leads import lead_queryset

    return [
        RecordType(
            key=CUSTOMER,
            label=gettext_lazy("Customer"),
            model=Customer,
            queryset=_customer_queryset,
            visible_queryset=_visible_customers,
            fields=CUSTOMER_FIELDS,
            custom_field_target=CUSTOMER,
            owner_id=lambda customer: customer.owner_id,
            team_id=lambda customer: customer.team_id,
            message_recipient=CUSTOMER,
            change_event="customer.updated",
            create_event="customer.created",
            url=lambda pk: reverse("customers:customer_detail", args=[pk]),
            display=lambda customer: customer.name,
            search=_search_customers,
        ),
        RecordType(
            key=LEAD,
            label=gettext_lazy("Lead"),
            model=Lead,
            queryset=lambda: Lead.objects.select_related("owner", "team"),
            visible_queryset=lambda actor: lead_queryset(actor=actor),
            fields=LEAD_FIELDS,
            custom_field_target=LEAD,
            owner_id=lambda lead: lead.owner_id,
            team_id=lambda lead: lead.team_id,
            message_recipient=LEAD,
            url=lambda pk: reverse("customers:lead_detail", args=[pk]),
            display=lambda lead: lead.name,
        ),
        RecordType(
            key=INTERACTION,
            label=gettext_lazy("Interaction"),
            model=Interaction,
            queryset=lambda: Interaction.objects.select_related("customer", "lead", "user"),
            visible_queryset=lambda actor: interaction_queryset(actor=actor),
            fields=INTERACTION_FIELDS,
            owner_id=_owner_via_subject,
            team_id=_team_via_subject,
            links=_LINKS,
            message_recipient=CUSTOMER,
            display=lambda interaction: str(interaction),
        ),
        RecordType(
            key=TASK,
            label=gettext_lazy("Task"),
            model=Task,
            queryset=lambda: Task.objects.select_related("assignee", "customer", "lead"),
            visible_queryset=lambda actor: task_queryset(actor=actor),
            fields=TASK_FIELDS,
            owner_id=lambda task: task.assignee_id,
            team_id=lambda task: task.assignee.team_id,
            links=_LINKS,
            message_recipient=CUSTOMER,
            url=lambda pk: reverse("customers:task_edit", args=[pk]),
            display=lambda task: task.title,
        ),
    ]


# Actions ---------------------------------------------------------------------------------------------------


def _reaches_customers(record_type: RecordType) -> bool:
    return record_type.reaches(CUSTOMER)


def _customer_id(context: ActionContext) -> int:
    customer_id = context.linked_id(CUSTOMER)
    if customer_id is None:
        raise NotFound(_("This record has no customer."))
    return customer_id


def _customer(customer_id: int) -> Customer:
    customer = Customer.objects.select_related("owner", "team").filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("Customer not found."))
    return customer


def _customer_fields(record_type: RecordType) -> dict[str, RecordField]:
    from guanxi.platform.automation.registry import record_type as registered

    customer_type = registered(CUSTOMER)
    return fields_by_path(customer_type) if customer_type is not None else {}


def _team_label(team_id: Any) -> str:
    from guanxi.platform.identity.models import Team

    team = Team.objects.filter(pk=team_id).first()
    return team.name if team is not None else f"#{team_id}"


# Assign the owner ------------------------------------------------------------------------------------------


def _method_choices(record_type: RecordType) -> list[tuple[str, str]]:
    from guanxi.customers.services.assignment import AssignmentMethod

    return [(str(value), str(label)) for value, label in AssignmentMethod.choices]


def _assign(context: ActionContext) -> ActionResult:
    from guanxi.customers.services.assignment import customer_assign_within_team

    owner = customer_assign_within_team(
        actor=context.actor,
        customer_id=_customer_id(context),
        team_id=int(context.params["team_id"]),
        method=str(context.params["method"]),
        include_sub_teams=bool(context.params.get("include_sub_teams")),
    )
    return ActionResult(_("Assigned to %(user)s.") % {"user": owner}, {"owner_id": owner.pk})


def _describe_assign(context: ActionContext) -> str:
    from guanxi.customers.services.assignment import AssignmentMethod, pick_assignee

    owner = pick_assignee(
        team_id=int(context.params["team_id"]),
        method=str(context.params["method"]),
        include_sub_teams=bool(context.params.get("include_sub_teams")),
    )
    return _("Assign the customer to %(user)s (%(method)s in %(team)s).") % {
        "user": owner,
        "method": AssignmentMethod(context.params["method"]).label,
        "team": _team_label(context.params["team_id"]),
    }


# Set a field -------------------------------------------------------------------------------------------------


def _settable_choices(record_type: RecordType) -> list[tuple[str, str]]:
    return [(path, str(field.label)) for path, field in _customer_fields(record_type).items() if field.settable]


def _clean_set_field(record_type: RecordType, params: dict[str, Any], author: Actor) -> dict[str, Any]:
    if params.get("value") is None and params["field"] in NOT_CLEARABLE:
        raise ValidationFailed.for_field("value", _("This field cannot be left empty; choose a value."))
    return params


def _set_field_data(field: RecordField, value: Any) -> dict[str, Any]:
    """The customer_update data that sets `field` to the stored action value (relative dates read today)."""
    if value is not None and field.kind in (F.DATE, F.DATETIME) and relative_days(str(value)) is not None:
        value = resolve(field, value).isoformat()
    if field.path.startswith("custom_fields."):
        return {"custom_fields": {field.path.split(".", 1)[1]: value}}
    if value is None:
        return {field.path: ""}
    return {field.path: value}


def _set_field(context: ActionContext) -> ActionResult:
    from guanxi.customers.services.customers import customer_update

    field = _customer_fields(context.record_type).get(str(context.params["field"]))
    if field is None:
        raise ValidationFailed.for_field("field", _("The field no longer exists."))
    value = context.params.get("value")
    customer_update(actor=context.actor, customer=_customer(_customer_id(context)), data=_set_field_data(field, value))
    return ActionResult(
        _("%(field)s set to %(value)s.") % {"field": field.label, "value": display(field, value)},
        {"field": field.path},
    )


def _describe_set_field(context: ActionContext) -> str:
    from guanxi.platform.automation.values import read_value

    field = _customer_fields(context.record_type).get(str(context.params["field"]))
    if field is None:
        raise ValidationFailed.for_field("field", _("The field no longer exists."))
    customer = context.record if context.record_type.key == CUSTOMER else _customer(_customer_id(context))
    return _("Set %(field)s from %(before)s to %(value)s.") % {
        "field": field.label,
        "before": display(field, read_value(customer, field)),
        "value": display(field, context.params.get("value")),
    }


# Create a task ------------------------------------------------------------------------------------------------

ASSIGN_TO_OWNER, ASSIGN_TO_USER = "owner", "user"


def _assignee_choices(record_type: RecordType) -> list[tuple[str, str]]:
    return [(ASSIGN_TO_OWNER, _("The record's owner")), (ASSIGN_TO_USER, _("A named user"))]


def _kind_choices(record_type: RecordType) -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in TaskKind.choices]


def _priority_choices(record_type: RecordType) -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in TaskPriority.choices]


def _can_have_tasks(record_type: RecordType) -> bool:
    return record_type.reaches(CUSTOMER) or record_type.key == LEAD


def _task_assignee(context: ActionContext) -> int:
    if context.params.get("assignee") == ASSIGN_TO_USER:
        return int(context.params["user_id"])
    owner_id = context.owner_id()
    if owner_id is None:
        raise ValidationFailed.for_field("assignee", _("The record has no owner to give the task to."))
    return owner_id


def _task_data(context: ActionContext) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": context.merge(str(context.params["title"]))[:200],
        "description": context.merge(str(context.params.get("description") or "")),
        "kind": context.params.get("kind") or TaskKind.FOLLOW_UP,
        "priority": context.params.get("priority") or TaskPriority.NORMAL,
        "due_at": timezone.now() + dt.timedelta(days=int(context.params.get("due_in_days") or 0)),
        "assignee_id": _task_assignee(context),
    }
    customer_id = context.linked_id(CUSTOMER)
    if customer_id is not None:
        data["customer_id"] = customer_id
    elif context.linked_id(LEAD) is not None:
        data["lead_id"] = context.linked_id(LEAD)
    return data


def _create_task(context: ActionContext) -> ActionResult:
    from guanxi.customers.services.tasks import task_create

    task = task_create(actor=context.actor, data=_task_data(context))
    return ActionResult(
        _("Task “%(title)s” created for %(user)s.") % {"title": task.title, "user": task.assignee},
        {"task_id": task.pk},
    )


def _describe_task(context: ActionContext) -> str:
    from guanxi.platform.identity.models import User

    data = _task_data(context)
    assignee = User.objects.filter(pk=data["assignee_id"]).first()
    due = timezone.localtime(data["due_at"], timezone.get_default_timezone())
    return _("Create the task “%(title)s” for %(user)s, due %(due)s.") % {
        "title": data["title"],
        "user": assignee or data["assignee_id"],
        "due": due.strftime("%Y-%m-%d %H:%M"),
    }


# Return to the pool --------------------------------------------------------------------------------------------


def _return_to_pool(context: ActionContext) -> ActionResult:
    from guanxi.customers.services.pool import customer_return_to_pool

    customer = _customer(_customer_id(context))
    if customer.owner_id is None:
        return ActionResult(_("Nothing to do: the customer has no owner."))
    returned = customer_return_to_pool(
        actor=context.actor, customer=customer, reason=context.merge(str(context.params["reason"]))
    )
    return ActionResult(_("Returned to the pool “%(pool)s”.") % {"pool": returned.pool}, {"pool_id": returned.pool_id})


def _describe_return(context: ActionContext) -> str:
    from guanxi.customers.selectors.pool import pool_for_team

    customer = _customer(_customer_id(context))
    if customer.owner_id is None:
        return _("Nothing: the customer has no owner.")
    pool = pool_for_team(customer.team_id)
    if pool is None:
        raise ValidationFailed.for_field("pool", _("There is no pool for this customer's team."))
    return _("Return the customer from %(owner)s to the pool “%(pool)s”.") % {"owner": customer.owner, "pool": pool}


def register_automation() -> None:
    """Register the record types and the actions (called from registrations.register_all())."""
    for item in record_types():
        register_record_type(item)
    register_action_type(
        ActionType(
            key="customers.assign_owner",
            label=gettext_lazy("Assign an owner within a team"),
            description=gettext_lazy("Round robin, or to the member with the fewest open customers."),
            params=(
                ActionParam(
                    "method", gettext_lazy("How"), ParamKind.CHOICE, choices=_method_choices, default="round_robin"
                ),
                ActionParam("team_id", gettext_lazy("Team"), ParamKind.TEAM),
                ActionParam(
                    "include_sub_teams",
                    gettext_lazy("Include its sub-teams"),
                    ParamKind.BOOL,
                    required=False,
                    default=False,
                ),
            ),
            execute=_assign,
            describe=_describe_assign,
            applies_to=_reaches_customers,
            permissions=(CUSTOMERS_ASSIGN,),
            order=10,
        )
    )
    register_action_type(
        ActionType(
            key="customers.set_field",
            label=gettext_lazy("Set a customer field"),
            params=(
                ActionParam(
                    "field", gettext_lazy("Field"), ParamKind.FIELD, choices=_settable_choices, fields_of=CUSTOMER
                ),
                ActionParam(
                    "value",
                    gettext_lazy("Value"),
                    ParamKind.FIELD_VALUE,
                    required=False,
                    help_text=gettext_lazy("Empty clears the field; dates may be relative: today+7."),
                ),
            ),
            clean=_clean_set_field,
            execute=_set_field,
            describe=_describe_set_field,
            applies_to=_reaches_customers,
            permissions=(CUSTOMERS_CHANGE,),
            order=20,
        )
    )
    register_action_type(
        ActionType(
            key="customers.create_task",
            label=gettext_lazy("Create a task"),
            params=(
                ActionParam(
                    "title",
                    gettext_lazy("Title"),
                    ParamKind.MERGE_TEXT,
                    help_text=gettext_lazy("Merge fields such as {record} or {owner} are filled in."),
                ),
                ActionParam("description", gettext_lazy("Description"), ParamKind.LONG_MERGE_TEXT, required=False),
                ActionParam(
                    "due_in_days", gettext_lazy("Due in (days)"), ParamKind.NUMBER, default=1, minimum=0, maximum=365
                ),
                ActionParam(
                    "assignee",
                    gettext_lazy("Assign to"),
                    ParamKind.CHOICE,
                    choices=_assignee_choices,
                    default=ASSIGN_TO_OWNER,
                ),
                ActionParam("user_id", gettext_lazy("User"), ParamKind.USER, show_if=("assignee", (ASSIGN_TO_USER,))),
                ActionParam(
                    "kind",
                    gettext_lazy("Kind"),
                    ParamKind.CHOICE,
                    choices=_kind_choices,
                    default=str(TaskKind.FOLLOW_UP),
                ),
                ActionParam(
                    "priority",
                    gettext_lazy("Priority"),
                    ParamKind.CHOICE,
                    choices=_priority_choices,
                    default=str(TaskPriority.NORMAL),
                ),
            ),
            execute=_create_task,
            describe=_describe_task,
            applies_to=_can_have_tasks,
            permissions=(ACTIVITIES_ADD,),
            order=25,
        )
    )
    register_action_type(
        ActionType(
            key="customers.return_to_pool",
            label=gettext_lazy("Return the customer to the public pool"),
            params=(ActionParam("reason", gettext_lazy("Reason"), ParamKind.MERGE_TEXT),),
            execute=_return_to_pool,
            describe=_describe_return,
            applies_to=_reaches_customers,
            permissions=(CUSTOMERS_ASSIGN,),
            order=80,
        )
    )

"""The customers app's domain events: typed payloads, registered with the platform event registry.

Services publish them with `guanxi.platform.events.registry.publish(...)` inside their transaction; they are
delivered after commit to automation rules, webhooks and any other subscriber (see platform/events).
`record_id` is always the id of the record named by the event's record type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _

from guanxi.platform.events.registry import EventPayload, register_event_type

CUSTOMER = "customers.customer"
LEAD = "customers.lead"
INTERACTION = "customers.interaction"
TASK = "customers.task"


@dataclass(frozen=True, kw_only=True)
class CustomerCreated(EventPayload):
    event_name: ClassVar[str] = "customer.created"
    kind: str
    name: str
    owner_id: int | None
    team_id: int | None
    lifecycle_stage: str


@dataclass(frozen=True, kw_only=True)
class CustomerUpdated(EventPayload):
    """`changes` maps each changed field (custom fields as `custom_fields.<key>`) to `[before, after]`."""

    event_name: ClassVar[str] = "customer.updated"
    changes: dict[str, list[Any]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class CustomerOwnerChanged(EventPayload):
    event_name: ClassVar[str] = "customer.owner_changed"
    from_owner_id: int | None
    to_owner_id: int | None
    team_id: int | None


@dataclass(frozen=True, kw_only=True)
class CustomerDeleted(EventPayload):
    event_name: ClassVar[str] = "customer.deleted"
    name: str


@dataclass(frozen=True, kw_only=True)
class PoolReturned(EventPayload):
    """A customer went back to the public pool, by hand (`automatic` false) or by a pool's rule."""

    event_name: ClassVar[str] = "pool.returned"
    pool_id: int
    from_owner_id: int | None
    reason: str
    automatic: bool


@dataclass(frozen=True, kw_only=True)
class PoolClaimed(EventPayload):
    event_name: ClassVar[str] = "pool.claimed"
    pool_id: int
    owner_id: int


@dataclass(frozen=True, kw_only=True)
class InteractionLogged(EventPayload):
    event_name: ClassVar[str] = "interaction.logged"
    customer_id: int | None
    lead_id: int | None
    channel: str
    direction: str
    user_id: int | None
    occurred_at: str


@dataclass(frozen=True, kw_only=True)
class TaskCreated(EventPayload):
    event_name: ClassVar[str] = "task.created"
    title: str
    assignee_id: int
    customer_id: int | None
    lead_id: int | None
    due_at: str | None


@dataclass(frozen=True, kw_only=True)
class TaskCompleted(EventPayload):
    event_name: ClassVar[str] = "task.completed"
    assignee_id: int
    customer_id: int | None
    lead_id: int | None


@dataclass(frozen=True, kw_only=True)
class TaskOverdue(EventPayload):
    event_name: ClassVar[str] = "task.overdue"
    title: str
    assignee_id: int
    customer_id: int | None
    lead_id: int | None
    due_at: str


@dataclass(frozen=True, kw_only=True)
class LeadCreated(EventPayload):
    event_name: ClassVar[str] = "lead.created"
    name: str
    source: str
    owner_id: int | None


@dataclass(frozen=True, kw_only=True)
class LeadConverted(EventPayload):
    event_name: ClassVar[str] = "lead.converted"
    customer_id: int
    contact_id: int
    organisation_created: bool


def register_events() -> None:
    register_event_type(CustomerCreated, label=_("Customer created"), record_type=CUSTOMER)
    register_event_type(CustomerUpdated, label=_("Customer changed"), record_type=CUSTOMER)
    register_event_type(CustomerOwnerChanged, label=_("Customer owner changed"), record_type=CUSTOMER)
    register_event_type(CustomerDeleted, label=_("Customer deleted"), record_type=CUSTOMER)
    register_event_type(PoolReturned, label=_("Customer returned to the public pool"), record_type=CUSTOMER)
    register_event_type(PoolClaimed, label=_("Customer claimed from the public pool"), record_type=CUSTOMER)
    register_event_type(InteractionLogged, label=_("Interaction logged"), record_type=INTERACTION)
    register_event_type(TaskCreated, label=_("Task created"), record_type=TASK)
    register_event_type(TaskCompleted, label=_("Task completed"), record_type=TASK)
    register_event_type(TaskOverdue, label=_("Task overdue"), record_type=TASK)
    register_event_type(LeadCreated, label=_("Lead created"), record_type=LEAD)
    register_event_type(LeadConverted, label=_("Lead converted"), record_type=LEAD)

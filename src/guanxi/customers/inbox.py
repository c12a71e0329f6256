"""The customers app's side of the inbox: who sent an inbound message, and filing it on their timeline.

A sender is found by the exact normalised address of the message's channel: email and phone contact points,
and WeChat contact points holding the sender's open id. When several customers share the address, the
one contacted most recently gets the message and the others are reported to the inbox. Leads that are not
converted yet are checked next (their email, phone or WeChat field). An unknown sender becomes a new lead
(source "other"), owned by GUANXI_INBOX_LEAD_OWNER when that is set. Registered from `registrations.py`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy

from guanxi.customers.models import ContactPoint, Customer, Interaction, Lead
from guanxi.customers.models.choices import ContactKind, LeadStatus, Source
from guanxi.customers.permissions import ACTIVITIES_ADD, CUSTOMERS_VIEW, LEADS_VIEW
from guanxi.customers.selectors.customers import customer_get
from guanxi.customers.selectors.leads import lead_get
from guanxi.customers.services.inbound import (
    interaction_record_inbound,
    interaction_remove_inbound,
    lead_capture_inbound,
)
from guanxi.customers.services.leads import lead_create
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound
from guanxi.platform.core.phones import reversed_digits
from guanxi.platform.identity.scoping import has_permission, require_permission
from guanxi.platform.inbox.registry import InboundEnvelope, RecordLink, SenderAttached, register_sender_handler

CUSTOMER = "customers.customer"
LEAD = "customers.lead"
INTERACTION = "customers.interaction"
MAX_OTHER_CANDIDATES = 20
_CONTACT_KIND = {"email": ContactKind.EMAIL, "sms": ContactKind.PHONE, "wechat": ContactKind.WECHAT}
_LEAD_FIELD = {"email": "email", "sms": "phone", "wechat": "wechat"}


def _file_on(envelope: InboundEnvelope, *, customer: Customer | None = None, lead: Lead | None = None,
             actor: Actor | None = None) -> Interaction:  # fmt: skip
    return interaction_record_inbound(
        customer=customer,
        lead=lead,
        channel=envelope.channel,
        subject=envelope.subject,
        body=envelope.body,
        occurred_at=envelope.received_at,
        actor=actor,
    )


def _customer_ids_with(envelope: InboundEnvelope) -> list[int]:
    """Customers with a contact point equal to the sender's address, the most recently contacted first."""
    kind = _CONTACT_KIND.get(envelope.channel)
    if kind is None:
        return []
    points = (
        ContactPoint.objects.filter(kind=kind, value=envelope.from_address)
        .order_by(F("customer__last_contact_at").desc(nulls_last=True), "-customer_id")
        .values_list("customer_id", flat=True)
    )
    return list(dict.fromkeys(points[: MAX_OTHER_CANDIDATES + 1]))


def _lead_ids_with(envelope: InboundEnvelope) -> list[int]:
    """Leads not yet converted whose email, phone or WeChat ID is the sender's address, the newest first."""
    field = _LEAD_FIELD.get(envelope.channel)
    if field is None:
        return []
    leads = Lead.objects.exclude(status=LeadStatus.CONVERTED)
    if field == "phone":  # phone_search_key is indexed; the exact phone makes the match exact
        leads = leads.filter(phone_search_key=reversed_digits(envelope.from_address), phone=envelope.from_address)
    else:
        leads = leads.filter(**{field: envelope.from_address})
    return list(leads.order_by("-updated_at", "-id").values_list("pk", flat=True)[: MAX_OTHER_CANDIDATES + 1])


def find_and_attach(envelope: InboundEnvelope) -> SenderAttached | None:
    """File the message on the customer (or else the lead) with the sender's address; None if nobody has it."""
    customer_ids = _customer_ids_with(envelope)
    if customer_ids:
        customer = Customer.objects.get(pk=customer_ids[0])
        interaction = _file_on(envelope, customer=customer)
        return SenderAttached(
            record_type=CUSTOMER,
            record_id=customer.pk,
            timeline_type=INTERACTION,
            timeline_id=interaction.pk,
            other_candidates=tuple(customer_ids[1:]),
        )
    lead_ids = _lead_ids_with(envelope)
    if lead_ids:
        lead = Lead.objects.get(pk=lead_ids[0])
        interaction = _file_on(envelope, lead=lead)
        return SenderAttached(
            record_type=LEAD,
            record_id=lead.pk,
            timeline_type=INTERACTION,
            timeline_id=interaction.pk,
            other_candidates=tuple(lead_ids[1:]),
        )
    return None


def _lead_contact(envelope: InboundEnvelope) -> dict[str, str]:
    field = _LEAD_FIELD.get(envelope.channel)
    return {field: envelope.from_address} if field else {}


def create_lead(envelope: InboundEnvelope, actor: Actor | None) -> SenderAttached:
    """A lead for an unknown sender, with the message on its timeline.

    By the system (actor None) it is owned by GUANXI_INBOX_LEAD_OWNER; by a user, through `lead_create`, so
    their permissions, validation and ownership rules apply exactly as on the lead form.
    """
    name = envelope.from_name or envelope.from_address
    if actor is None:
        lead = lead_capture_inbound(name=name, **_lead_contact(envelope))
    else:
        lead = lead_create(actor=actor, data={"name": name[:200], "source": Source.OTHER, **_lead_contact(envelope)})
    interaction = _file_on(envelope, lead=lead, actor=actor)
    return SenderAttached(
        record_type=LEAD, record_id=lead.pk, timeline_type=INTERACTION, timeline_id=interaction.pk, lead_created=True
    )


def attach_to(actor: Actor, envelope: InboundEnvelope, record_type: str, record_id: int) -> SenderAttached:
    """File the message on a customer or lead the actor chose; NotFound when they may not see it."""
    require_permission(actor, ACTIVITIES_ADD)
    if record_type == CUSTOMER:
        customer = customer_get(actor=actor, customer_id=record_id)
        interaction = _file_on(envelope, customer=customer, actor=actor)
    elif record_type == LEAD:
        lead = lead_get(actor=actor, lead_id=record_id)
        interaction = _file_on(envelope, lead=lead, actor=actor)
    else:
        raise NotFound()
    return SenderAttached(
        record_type=record_type, record_id=record_id, timeline_type=INTERACTION, timeline_id=interaction.pk
    )


def detach(timeline_type: str, timeline_id: int) -> None:
    if timeline_type == INTERACTION:
        interaction_remove_inbound(interaction_id=timeline_id)


def visible_ids(actor: Actor, record_type: str) -> QuerySet[Any, Any]:
    if record_type == CUSTOMER:
        if not has_permission(actor, CUSTOMERS_VIEW):
            return Customer.objects.none().values("pk")
        return Customer.objects.visible_to(actor).values("pk")
    if record_type == LEAD and has_permission(actor, LEADS_VIEW):
        return Lead.objects.visible_to(actor).values("pk")
    return Lead.objects.none().values("pk")


def describe(record_type: str, ids: list[int]) -> dict[int, RecordLink]:
    if record_type == CUSTOMER:
        customers = Customer.objects.filter(pk__in=ids).values_list("pk", "name")
        return {pk: RecordLink(name, reverse("customers:customer_detail", args=[pk])) for pk, name in customers}
    if record_type == LEAD:
        leads = Lead.objects.filter(pk__in=ids).values_list("pk", "name")
        return {pk: RecordLink(name, reverse("customers:lead_detail", args=[pk])) for pk, name in leads}
    return {}


def register_inbox() -> None:
    register_sender_handler(
        "customers",
        record_types={CUSTOMER: gettext_lazy("Customer"), LEAD: gettext_lazy("Lead")},
        search_kinds={"customer": CUSTOMER, "lead": LEAD},
        find_and_attach=find_and_attach,
        create_lead=create_lead,
        attach_to=attach_to,
        detach=detach,
        visible_ids=visible_ids,
        describe=describe,
        order=10,
    )

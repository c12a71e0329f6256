"""Customers and leads as message recipients: what the channels platform needs to send them email, SMS and
WeChat messages (addresses with consent, merge fields, visibility). Registered from `registrations.register_all()`.

A customer's address on a channel is a contact point of the matching kind (email -> email, sms -> phone,
wechat -> WeChat ID / openid), the primary one first; its consent is the contact point's. Leads keep one
address per kind and no consent, so marketing to a lead is held until it becomes a customer who consents;
transactional messages reach them.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import ContactPoint, Customer, Lead
from guanxi.customers.models.choices import Consent, ContactKind, LifecycleStage
from guanxi.customers.permissions import CUSTOMERS_VIEW, LEADS_VIEW
from guanxi.platform.channels.registry import MergeField, Recipient, register_recipient_source
from guanxi.platform.core.actors import Actor
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from guanxi.platform.customfields.values import active_definitions, display_value
from guanxi.platform.identity.scoping import has_permission

CUSTOMER = "customers.customer"
LEAD = "customers.lead"
KIND_FOR_CHANNEL = {"email": ContactKind.EMAIL, "sms": ContactKind.PHONE, "wechat": ContactKind.WECHAT}
_FIXED_LINE = phonenumbers.PhoneNumberType.FIXED_LINE


def _can_get_sms(stored_phone: str) -> bool:
    """Whether a stored phone may take SMS: mobiles yes, known landlines no (unknown types are tried)."""
    try:
        parsed = phonenumbers.parse(stored_phone.split(";", 1)[0], None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(parsed) != _FIXED_LINE


# Customers ------------------------------------------------------------------------------------------


def customer_recipients(record_id: int, channel: str) -> list[Recipient]:
    kind = KIND_FOR_CHANNEL.get(channel)
    if kind is None:
        return []
    points = ContactPoint.objects.filter(customer_id=record_id, kind=kind).order_by("-is_primary", "id")
    return [
        Recipient(address=point.value, consent=point.consent, contact_point_id=point.pk, label=point.label)
        for point in points
        if kind != ContactKind.PHONE or _can_get_sms(point.value)
    ]


def _custom_field_merge_fields(target: str) -> list[MergeField]:
    return [MergeField(f"custom_fields.{d.key}", d.label) for d in active_definitions(target)]


def customer_merge_fields() -> list[MergeField]:
    return [
        MergeField("name", _("Name")),
        MergeField("family_name", _("Family name")),
        MergeField("given_name", _("Given name")),
        MergeField("company_name", _("Company")),
        MergeField("owner_name", _("Owner's name")),
        MergeField("lifecycle_stage", _("Lifecycle stage")),
        *_custom_field_merge_fields(CUSTOMER),
    ]


def _custom_values(definitions: list[CustomFieldDefinition], values: dict[str, Any]) -> dict[str, str]:
    from guanxi.platform.identity.models import User

    user_ids = [
        int(values[d.key])
        for d in definitions
        if d.field_type == FieldType.USER and str(values.get(d.key, "")).isdigit()
    ]
    users = {u.pk: str(u) for u in User.objects.filter(pk__in=user_ids)} if user_ids else {}
    return {d.key: display_value(d, values.get(d.key), users) for d in definitions}


def customer_merge_context(record_id: int, language: str) -> dict[str, Any]:
    customer = Customer.objects.select_related("owner").filter(pk=record_id).first()
    if customer is None:
        return {}
    with translation.override(language):
        stage = LifecycleStage(customer.lifecycle_stage).label if customer.lifecycle_stage else ""
        return {
            "name": customer.name,
            "family_name": customer.family_name,
            "given_name": customer.given_name,
            "company_name": customer.company_name,
            "owner_name": str(customer.owner) if customer.owner_id else "",
            "lifecycle_stage": str(stage),
            "custom_fields": _custom_values(active_definitions(CUSTOMER), customer.custom_fields or {}),
        }


def customer_withdraw_consent(channel: str, address: str, source: str) -> int:
    from guanxi.customers.services.consent import contact_points_withdraw_consent

    kind = KIND_FOR_CHANNEL.get(channel)
    return contact_points_withdraw_consent(kind=kind, value=address, source=source) if kind else 0


def customer_is_visible(actor: Actor | None, record_id: int) -> bool:
    if actor is None:
        return Customer.objects.filter(pk=record_id).exists()
    if not has_permission(actor, CUSTOMERS_VIEW):
        return False
    return Customer.objects.visible_to(actor).filter(pk=record_id).exists()


def customer_visible_ids(actor: Actor) -> QuerySet[Any] | None:
    if not has_permission(actor, CUSTOMERS_VIEW):
        return Customer.objects.none().values("pk")
    q: Q = Customer.visibility_q(actor)
    return Customer.objects.filter(q).values("pk") if q else None


def customer_labels(ids: list[int]) -> dict[int, str]:
    return dict(Customer.objects.filter(pk__in=ids).values_list("pk", "name"))


# Leads ----------------------------------------------------------------------------------------------


def lead_recipients(record_id: int, channel: str) -> list[Recipient]:
    lead = Lead.objects.filter(pk=record_id).only("email", "phone", "wechat").first()
    if lead is None:
        return []
    address = {"email": lead.email, "sms": lead.phone, "wechat": lead.wechat}.get(channel, "")
    if not address or (channel == "sms" and not _can_get_sms(address)):
        return []
    return [Recipient(address=address, consent=Consent.UNKNOWN)]


def lead_merge_fields() -> list[MergeField]:
    return [
        MergeField("name", _("Name")),
        MergeField("company_name", _("Company")),
        MergeField("owner_name", _("Owner's name")),
        *_custom_field_merge_fields(LEAD),
    ]


def lead_merge_context(record_id: int, language: str) -> dict[str, Any]:
    lead = Lead.objects.select_related("owner").filter(pk=record_id).first()
    if lead is None:
        return {}
    with translation.override(language):
        return {
            "name": lead.name,
            "company_name": lead.company_name,
            "owner_name": str(lead.owner) if lead.owner_id else "",
            "custom_fields": _custom_values(active_definitions(LEAD), lead.custom_fields or {}),
        }


def lead_is_visible(actor: Actor | None, record_id: int) -> bool:
    if actor is None:
        return Lead.objects.filter(pk=record_id).exists()
    if not has_permission(actor, LEADS_VIEW):
        return False
    return Lead.objects.visible_to(actor).filter(pk=record_id).exists()


def lead_visible_ids(actor: Actor) -> QuerySet[Any] | None:
    if not has_permission(actor, LEADS_VIEW):
        return Lead.objects.none().values("pk")
    q: Q = Lead.visibility_q(actor)
    return Lead.objects.filter(q).values("pk") if q else None


def register_channels() -> None:
    register_recipient_source(
        CUSTOMER,
        label=_("Customer"),
        resolve=customer_recipients,
        merge_fields=customer_merge_fields,
        merge_context=customer_merge_context,
        withdraw_consent=customer_withdraw_consent,
        is_visible=customer_is_visible,
        visible_ids=customer_visible_ids,
        record_labels=customer_labels,
        record_url=lambda record_id: reverse("customers:customer_detail", args=[record_id]),
    )
    register_recipient_source(
        LEAD,
        label=_("Lead"),
        resolve=lead_recipients,
        merge_fields=lead_merge_fields,
        merge_context=lead_merge_context,
        withdraw_consent=lambda channel, address, source: 0,  # leads keep no consent; the suppression list holds
        is_visible=lead_is_visible,
        visible_ids=lead_visible_ids,
        record_labels=lambda ids: dict(Lead.objects.filter(pk__in=ids).values_list("pk", "name")),
        record_url=lambda record_id: reverse("customers:lead_detail", args=[record_id]),
    )

"""Customers as approvable records: a request about one customer, such as a special price or credit terms
for them, goes through an approval process whose record type is "customers.customer".

The approvals platform reaches customers only through these callables: visibility is the customers app's
own (`customer_get`), so a request about a customer is visible on the customer's page to whoever may see the
customer. Deciding changes nothing on the customer itself (the request and its log are the record of the
decision), so `on_decided` is the registry's default, which does nothing.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.customers.models import Customer
from guanxi.customers.selectors.customers import customer_get
from guanxi.platform.approvals.registry import ApprovableType, register_approvable
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound, PermissionDenied

CUSTOMER = "customers.customer"


def _visible_customer(actor: Actor, object_id: int) -> Customer:
    """The customer if the actor may see it; a customer they may not see is as absent as a missing one."""
    try:
        return customer_get(actor=actor, customer_id=object_id)
    except PermissionDenied:
        raise NotFound(_("Customer not found.")) from None


def _load_customer(object_id: int) -> Customer:
    customer = Customer.objects.select_related("owner", "organisation").filter(pk=object_id).first()
    if customer is None:
        raise NotFound(_("Customer not found."))
    return customer


def _describe(customer: Customer) -> str:
    """The name, with the organisation a person belongs to: "欧阳翠屏 · 翠屏山茶业有限公司"."""
    organisation = customer.organisation.name if customer.organisation_id and customer.organisation else ""
    company = organisation or ("" if customer.is_organisation else customer.company_name)
    return f"{customer.name} · {company}" if company else customer.name


def _summary(customer: Customer) -> str:
    owner = str(customer.owner) if customer.owner_id and customer.owner else _("No owner")
    return f"{customer.get_kind_display()} · {customer.get_lifecycle_stage_display()} · {owner}"


def register_approvables() -> None:
    """Called once from `registrations.register_all()`."""
    register_approvable(
        ApprovableType(
            key=CUSTOMER,
            label=gettext_lazy("Customer"),
            get_visible=_visible_customer,
            describe=_describe,
            url=lambda customer: reverse("customers:customer_detail", args=[customer.pk]),
            load=_load_customer,
            summary=_summary,
        )
    )

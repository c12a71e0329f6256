"""How personal data is shown to an actor: unmasked with the permission, masked (138****1234) without."""

from __future__ import annotations

from guanxi.customers.models import ContactPoint, Customer
from guanxi.customers.models.choices import ContactKind
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.cn_ids import pii_decrypt
from guanxi.platform.core.masking import mask_email, mask_phone, mask_readable_phone, mask_text
from guanxi.platform.core.phones import readable_phone
from guanxi.platform.identity.scoping import can_see_personal_data


def display_contact_value(kind: str, value: str, *, unmasked: bool, readable: bool = False) -> str:
    """A contact value as shown to someone; `readable` formats phones for people (pages), not machines (API)."""
    if kind == ContactKind.PHONE and readable:
        text = readable_phone(value)
        return text if unmasked else mask_readable_phone(text)
    if unmasked:
        return value
    if kind == ContactKind.PHONE:
        return mask_phone(value)
    if kind == ContactKind.EMAIL:
        return mask_email(value)
    return mask_text(value)


def contact_value_for(actor: Actor, point: ContactPoint) -> str:
    return display_contact_value(point.kind, point.value, unmasked=can_see_personal_data(actor))


def id_number_for(actor: Actor, customer: Customer) -> str:
    """The ID number in clear for roles that may see personal data (decrypted), masked for the others.

    Callers that show the clear value must write an access-log entry (platform.audit.services).
    """
    if customer.id_number_encrypted and can_see_personal_data(actor):
        return pii_decrypt(customer.id_number_encrypted)
    return customer.id_number_masked

"""Contact points: normalising phones, emails, WeChat IDs and addresses; one primary per kind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers.models import ContactPoint, Customer
from guanxi.customers.models.choices import Consent, ContactKind
from guanxi.customers.permissions import CUSTOMERS_CHANGE
from guanxi.customers.services.common import clean_choice
from guanxi.platform.audit.history import attribute_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.emails import normalise_email
from guanxi.platform.core.errors import NotFound, ValidationFailed
from guanxi.platform.core.phones import normalise_phone, reversed_digits
from guanxi.platform.core.text import clean_text
from guanxi.platform.core.versioning import ensure_version
from guanxi.platform.identity.scoping import require_permission

ADDRESS_PARTS = ("province", "city", "district", "street", "postcode")


def clean_contact_value(kind: str, raw: Any, *, field: str = "value") -> tuple[str, str, dict[str, str]]:
    """Return (stored value, search key, address parts) for a contact point, or raise ValidationFailed."""
    if kind == ContactKind.PHONE:
        phone = normalise_phone(str(raw or ""), field=field)
        return phone.stored, reversed_digits(phone.stored), {}
    if kind == ContactKind.EMAIL:
        email = normalise_email(str(raw or ""), field=field)
        if len(email) > 254:
            raise ValidationFailed.for_field(field, _("This email address is too long."))
        return email, email, {}
    if kind == ContactKind.WECHAT:
        wechat = clean_text(str(raw or "")).replace(" ", "")
        if not wechat:
            raise ValidationFailed.for_field(field, _("Enter a WeChat ID."))
        if len(wechat) > 100:
            raise ValidationFailed.for_field(field, _("A WeChat ID has at most 100 characters."))
        return wechat, wechat.lower(), {}
    if kind == ContactKind.ADDRESS:
        parts: dict[str, str] = {}
        if isinstance(raw, Mapping):
            for key in ADDRESS_PARTS:
                part = clean_text(str(raw.get(key) or ""))
                if len(part) > 100:
                    raise ValidationFailed.for_field(f"{field}.{key}", _("Keep it under 100 characters."))
                if part:
                    parts[key] = part
            text = "".join(parts.get(k, "") for k in ("province", "city", "district", "street"))
            if parts.get("postcode"):
                text = f"{text} {parts['postcode']}".strip()
        else:
            text = clean_text(str(raw or ""))
        if not text:
            raise ValidationFailed.for_field(field, _("Enter an address."))
        if len(text) > 300:
            raise ValidationFailed.for_field(field, _("Keep the address under 300 characters."))
        return text, text.lower(), parts
    raise ValidationFailed.for_field("kind", _("Choose a contact type from the list."))


def clean_contact_point(data: Mapping[str, Any], *, field_prefix: str = "") -> dict[str, Any]:
    """Validate one contact point's input; errors name the field with `field_prefix`."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    try:
        cleaned["kind"] = clean_choice(data.get("kind"), ContactKind, f"{field_prefix}kind", allow_blank=False)
    except ValidationFailed as exc:
        raise ValidationFailed(fields=exc.fields) from None
    raw_value = (
        data.get("address") if cleaned["kind"] == ContactKind.ADDRESS and data.get("address") else data.get("value")
    )
    try:
        value, search_key, parts = clean_contact_value(cleaned["kind"], raw_value, field=f"{field_prefix}value")
        cleaned.update(value=value, search_key=search_key, address=parts)
        cleaned["raw_value"] = clean_text(str(raw_value))[:300] if isinstance(raw_value, str) else value
    except ValidationFailed as exc:
        errors.update(exc.fields)
    label = clean_text(str(data.get("label") or ""))
    if len(label) > 50:
        errors[f"{field_prefix}label"] = [_("Keep the label under 50 characters.")]
    cleaned["label"] = label
    cleaned["is_primary"] = bool(data.get("is_primary", False))
    cleaned["verified"] = bool(data.get("verified", False))
    try:
        cleaned["consent"] = clean_choice(data.get("consent") or Consent.UNKNOWN, Consent, f"{field_prefix}consent")
    except ValidationFailed as exc:
        errors.update(exc.fields)
    consent_source = clean_text(str(data.get("consent_source") or ""))
    cleaned["consent_source"] = consent_source[:100]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _set_primary(customer: Customer, point: ContactPoint) -> None:
    ContactPoint.objects.filter(customer=customer, kind=point.kind, is_primary=True).exclude(pk=point.pk).update(
        is_primary=False
    )


def contact_points_create_for(
    *, actor: Actor | None, customer: Customer, items: list[dict[str, Any]]
) -> list[ContactPoint]:
    """Create already-cleaned contact points for a new customer (first of each kind becomes primary)."""
    seen: set[tuple[str, str]] = set()
    has_primary: set[str] = {item["kind"] for item in items if item.get("is_primary")}
    created: list[ContactPoint] = []
    for index, item in enumerate(items):
        key = (item["kind"], item["value"])
        if key in seen:
            raise ValidationFailed.for_field(f"contact_points[{index}].value", _("This contact is listed twice."))
        seen.add(key)
        primary = item.get("is_primary") or item["kind"] not in has_primary
        if primary:
            has_primary.add(item["kind"])
            for earlier in created:
                if earlier.kind == item["kind"] and earlier.is_primary:
                    earlier.is_primary = False
                    earlier.save(update_fields=["is_primary"])
        point = ContactPoint(customer=customer, **{**item, "is_primary": bool(primary)})
        if item.get("consent") and item["consent"] != Consent.UNKNOWN:
            point.consent_updated_at = timezone.now()
        attribute_history(point, actor)
        point.save()
        created.append(point)
    return created


def _get_point(actor: Actor, customer: Customer, point_id: int) -> ContactPoint:
    point = ContactPoint.objects.filter(pk=point_id, customer=customer).first()
    if point is None:
        raise NotFound()
    return point


@transaction.atomic
def contact_point_add(*, actor: Actor, customer: Customer, data: Mapping[str, Any]) -> ContactPoint:
    require_permission(actor, CUSTOMERS_CHANGE)
    cleaned = clean_contact_point(data)
    if ContactPoint.objects.filter(customer=customer, kind=cleaned["kind"], value=cleaned["value"]).exists():
        raise ValidationFailed.for_field("value", _("This customer already has this contact."))
    if not ContactPoint.objects.filter(customer=customer, kind=cleaned["kind"]).exists():
        cleaned["is_primary"] = True
    point = ContactPoint(customer=customer, **cleaned)
    if cleaned["consent"] != Consent.UNKNOWN:
        point.consent_updated_at = timezone.now()
    if point.is_primary:
        _set_primary(customer, point)
    attribute_history(point, actor)
    point.save()
    _touch_customer(actor, customer)
    return point


@transaction.atomic
def contact_point_update(
    *, actor: Actor, customer: Customer, point_id: int, data: Mapping[str, Any], expected_version: int | None = None
) -> ContactPoint:
    require_permission(actor, CUSTOMERS_CHANGE)
    point = _get_point(actor, customer, point_id)
    ensure_version(point, expected_version)
    merged = {
        "kind": point.kind,
        "value": point.address if point.kind == ContactKind.ADDRESS and point.address else point.value,
        "label": point.label,
        "is_primary": point.is_primary,
        "verified": point.verified,
        "consent": point.consent,
        "consent_source": point.consent_source,
        **{k: v for k, v in data.items() if k != "kind"},
    }
    cleaned = clean_contact_point(merged)
    clash = ContactPoint.objects.filter(customer=customer, kind=point.kind, value=cleaned["value"]).exclude(pk=point.pk)
    if clash.exists():
        raise ValidationFailed.for_field("value", _("This customer already has this contact."))
    if cleaned["consent"] != point.consent:
        point.consent_updated_at = timezone.now()
    for name, value in cleaned.items():
        setattr(point, name, value)
    if point.is_primary:
        _set_primary(customer, point)
    point.bump_version()
    attribute_history(point, actor)
    point.save()
    _touch_customer(actor, customer)
    return point


@transaction.atomic
def contact_point_remove(*, actor: Actor, customer: Customer, point_id: int) -> None:
    require_permission(actor, CUSTOMERS_CHANGE)
    point = _get_point(actor, customer, point_id)
    was_primary, kind = point.is_primary, point.kind
    attribute_history(point, actor)
    point.delete()
    if was_primary:
        successor = ContactPoint.objects.filter(customer=customer, kind=kind).order_by("id").first()
        if successor is not None:
            successor.is_primary = True
            successor.save(update_fields=["is_primary"])
    _touch_customer(actor, customer)


def _touch_customer(actor: Actor, customer: Customer) -> None:
    """A contact change is a change of the customer: bump its version so stale edits are caught."""
    Customer.objects.filter(pk=customer.pk).update(version=customer.version + 1, updated_at=timezone.now())
    customer.version += 1

"""Creating, editing, assigning and deleting customers. Every write path (UI, API, import) comes here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers.events import CustomerCreated, CustomerDeleted, CustomerOwnerChanged, CustomerUpdated
from guanxi.customers.models import Customer
from guanxi.customers.models.choices import CompanySize, CustomerKind, Gender, LifecycleStage, Source
from guanxi.customers.permissions import CUSTOMERS_ADD, CUSTOMERS_ASSIGN, CUSTOMERS_CHANGE, CUSTOMERS_DELETE
from guanxi.customers.services.change_tracking import customer_changes, customer_snapshot
from guanxi.customers.services.common import (
    FieldCleaner,
    clean_active_user,
    clean_choice,
    clean_line,
    clean_long_text,
)
from guanxi.customers.services.contact_points import clean_contact_point, contact_points_create_for
from guanxi.platform.annotations.services import annotations_delete_for_records
from guanxi.platform.audit.history import attribute_history
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.cn_ids import mask_id_number, normalise_ric, normalise_uscc, pii_encrypt, pii_hash
from guanxi.platform.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.platform.core.names import PersonName
from guanxi.platform.core.pinyin import full_pinyin, pinyin_initials
from guanxi.platform.core.text import clean_text
from guanxi.platform.core.versioning import ensure_version
from guanxi.platform.customfields.values import clean_custom_values
from guanxi.platform.events.registry import publish
from guanxi.platform.identity.scoping import has_permission, require_permission

CUSTOM_FIELD_TARGET = "customers.customer"
MAX_LONG_TEXT = 5000
TEXT_LIMITS = {"family_name": 100, "given_name": 100, "company_name": 200, "job_title": 100, "industry": 100}
LONG_TEXT_FIELDS = ("preferences", "special_needs", "interests", "notes")
EDITABLE_FIELDS = frozenset(
    {
        "kind", "name", "family_name", "given_name", "organisation_id", "company_name", "job_title", "gender",
        "birthday", "id_number", "uscc", "industry", "company_size", "website", "source", "card_number",
        "lifecycle_stage", "rating", "family_members", "preferences", "special_needs", "interests", "notes",
        "custom_fields", "owner_id",
    }
)  # fmt: skip


def _clean_date(value: Any, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(clean_text(str(value)))
        except ValueError:
            raise ValidationFailed.for_field(field, _("Enter a date as YYYY-MM-DD.")) from None
    if value > timezone.localdate() or value.year < 1900:
        raise ValidationFailed.for_field(field, _("Enter a date between 1900 and today."))
    return value


def _clean_family_members(value: Any) -> list[dict[str, str]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ValidationFailed.for_field("family_members", _("List each family member with a relation and a name."))
    members = []
    for index, item in enumerate(value[:50]):
        if not isinstance(item, Mapping):
            raise ValidationFailed.for_field(f"family_members[{index}]", _("Give a relation and a name."))
        member = {k: clean_text(str(item.get(k) or ""))[:100] for k in ("relation", "name", "birthday", "note")}
        if not member["relation"] and not member["name"]:
            continue
        if member["birthday"]:
            member["birthday"] = str(_clean_date(member["birthday"], f"family_members[{index}].birthday"))
        members.append({k: v for k, v in member.items() if v})
    return members


def _clean_owner(actor: Actor, value: Any) -> Any:
    if value in (None, ""):
        return None
    owner = clean_active_user(value, "owner_id")
    if owner.pk != actor.user.pk and not has_permission(actor, CUSTOMERS_ASSIGN):
        raise PermissionDenied(_("You may not assign customers to other users."))
    return owner


def _clean_fields(actor: Actor, data: Mapping[str, Any], instance: Customer | None) -> dict[str, Any]:
    """Validate every present field; collect all errors so the user sees them at once."""
    fields = FieldCleaner(data, allowed=EDITABLE_FIELDS | {"contact_points"})
    run, cleaned, errors = fields.run, fields.cleaned, fields.errors

    run("kind", lambda v: clean_choice(v, CustomerKind, "kind", allow_blank=False))

    def name(v: Any) -> str:
        text = clean_text(v)
        if not text:
            raise ValidationFailed.for_field("name", _("Enter a name."))
        if len(text) > 200:
            raise ValidationFailed.for_field("name", _("Keep the name under 200 characters."))
        return text

    run("name", name)
    for field, limit in TEXT_LIMITS.items():
        run(field, lambda v, field=field, limit=limit: clean_line(v, field, limit))
    for field in LONG_TEXT_FIELDS:
        run(field, lambda v, field=field: clean_long_text(v, field, MAX_LONG_TEXT))
    run("gender", lambda v: clean_choice(v, Gender, "gender"))
    run("company_size", lambda v: clean_choice(v, CompanySize, "company_size"))
    run("source", lambda v: clean_choice(v, Source, "source"))
    run("lifecycle_stage", lambda v: clean_choice(v, LifecycleStage, "lifecycle_stage", allow_blank=False))
    run("birthday", lambda v: _clean_date(v, "birthday"))
    run("id_number", lambda v: normalise_ric(v, field="id_number") if clean_text(v) else "")
    run("uscc", lambda v: normalise_uscc(v, field="uscc") if clean_text(v) else "")
    run("family_members", _clean_family_members)

    def rating(v: Any) -> int:
        try:
            number = int(v if v not in (None, "") else 0)
        except (TypeError, ValueError):
            raise ValidationFailed.for_field("rating", _("Give 0 to 5 stars.")) from None
        if not 0 <= number <= 5:
            raise ValidationFailed.for_field("rating", _("Give 0 to 5 stars."))
        return number

    run("rating", rating)

    def website(v: Any) -> str:
        text = clean_text(v)
        if not text:
            return ""
        if "://" not in text:
            text = f"https://{text}"
        try:
            URLValidator(schemes=["http", "https"])(text)
        except DjangoValidationError:
            raise ValidationFailed.for_field("website", _("Enter a web address such as https://example.com.")) from None
        if len(text) > 200:
            raise ValidationFailed.for_field("website", _("Keep it under 200 characters."))
        return text

    run("website", website)

    def card_number(v: Any) -> str:
        text = clean_text(v).replace(" ", "").upper()
        if len(text) > 64:
            raise ValidationFailed.for_field("card_number", _("Keep it under 64 characters."))
        clash = Customer.objects.filter(card_number=text) if text else Customer.objects.none()
        if instance is not None:
            clash = clash.exclude(pk=instance.pk)
        if clash.exists():
            raise ValidationFailed.for_field("card_number", _("Another customer has this card number."))
        return text

    run("card_number", card_number)

    def organisation(v: Any) -> Customer | None:
        if v in (None, ""):
            return None
        try:
            org_id = int(v)
        except (TypeError, ValueError):
            raise ValidationFailed.for_field("organisation_id", _("Choose an organisation.")) from None
        org = Customer.objects.visible_to(actor).filter(pk=org_id, kind=CustomerKind.ORGANISATION).first()
        if org is None or (instance is not None and org.pk == instance.pk):
            raise ValidationFailed.for_field("organisation_id", _("Choose an organisation you can see."))
        return org

    run("organisation_id", organisation)
    try:
        if "owner_id" in data:
            cleaned["owner_id"] = _clean_owner(actor, data["owner_id"])
    except ValidationFailed as exc:
        errors.update(exc.fields)
    run(
        "custom_fields",
        lambda v: clean_custom_values(
            CUSTOM_FIELD_TARGET, v, existing=instance.custom_fields if instance else None, partial=instance is not None
        ),
    )
    if "contact_points" in data:
        points = data["contact_points"] or []
        if not isinstance(points, list):
            errors["contact_points"] = [_("List the contact points.")]
        else:
            cleaned_points = []
            for index, item in enumerate(points[:50]):
                if not isinstance(item, Mapping):
                    errors[f"contact_points[{index}]"] = [_("Give a type and a value.")]
                    continue
                try:
                    cleaned_points.append(clean_contact_point(item, field_prefix=f"contact_points[{index}]."))
                except ValidationFailed as exc:
                    errors.update(exc.fields)
            cleaned["contact_points"] = cleaned_points
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _apply(customer: Customer, cleaned: Mapping[str, Any], actor: Actor) -> None:
    for field, value in cleaned.items():
        if field in ("contact_points", "id_number", "owner_id", "organisation_id"):
            continue
        setattr(customer, field, value)
    if "id_number" in cleaned:
        number = cleaned["id_number"]
        customer.id_number_hash = pii_hash(number) if number else ""
        customer.id_number_encrypted = pii_encrypt(number) if number else ""
        customer.id_number_masked = mask_id_number(number) if number else ""
    if "organisation_id" in cleaned:
        customer.organisation = cleaned["organisation_id"]
        if customer.organisation is not None and not cleaned.get("company_name"):
            customer.company_name = customer.organisation.name
    if "owner_id" in cleaned and cleaned["owner_id"] != customer.owner:
        _assign_owner(customer, cleaned["owner_id"])
    if customer.kind == CustomerKind.ORGANISATION:
        customer.organisation = None
        customer.family_name = customer.given_name = ""
    elif "name" in cleaned:
        # "张 伟" is stored as "张伟", so the name, its family and given parts and its pinyin agree.
        parsed = PersonName.parse(customer.name)
        customer.name = parsed.full
        if not ({"family_name", "given_name"} & set(cleaned)):
            customer.family_name, customer.given_name = parsed.family, parsed.given
    customer.name_pinyin = full_pinyin(customer.name)[:400]
    customer.name_initials = pinyin_initials(customer.name)[:100]


def _assign_owner(customer: Customer, owner: Any) -> None:
    customer.owner = owner
    customer.team_id = owner.team_id if owner is not None else None
    customer.owner_since = timezone.now() if owner is not None else None
    if owner is not None:
        customer.pool = None
        customer.pool_entered_at = None


@transaction.atomic
def customer_create(*, actor: Actor, data: Mapping[str, Any]) -> Customer:
    """Create a customer with its contact points. The owner defaults to the actor."""
    require_permission(actor, CUSTOMERS_ADD)
    data = dict(data)
    data.setdefault("kind", CustomerKind.PERSON)
    if "name" not in data:
        data["name"] = ""
    cleaned = _clean_fields(actor, data, None)
    customer = Customer(created_by=actor.user)
    if "owner_id" not in cleaned:
        cleaned["owner_id"] = actor.user
    _apply(customer, cleaned, actor)
    attribute_history(customer, actor)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        raise ValidationFailed.for_field("card_number", _("Another customer has this card number.")) from None
    contact_points_create_for(actor=actor, customer=customer, items=cleaned.get("contact_points", []))
    publish(
        CustomerCreated(
            record_id=customer.pk,
            kind=customer.kind,
            name=customer.name,
            owner_id=customer.owner_id,
            team_id=customer.team_id,
            lifecycle_stage=customer.lifecycle_stage,
        ),
        actor_id=actor.id,
    )
    return customer


@transaction.atomic
def customer_update(
    *, actor: Actor, customer: Customer, data: Mapping[str, Any], expected_version: int | None = None
) -> Customer:
    """Change the given fields; `expected_version` guards against overwriting someone else's edit."""
    require_permission(actor, CUSTOMERS_CHANGE)
    if "contact_points" in data:
        raise ValidationFailed.for_field("contact_points", _("Change contact points one by one."))
    locked = Customer.objects.select_for_update().filter(pk=customer.pk).first()
    if locked is None:
        raise NotFound()
    ensure_version(locked, expected_version)
    cleaned = _clean_fields(actor, data, locked)
    before = customer_snapshot(locked)
    _apply(locked, cleaned, actor)
    locked.bump_version()
    attribute_history(locked, actor)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError:
        raise ValidationFailed.for_field("card_number", _("Another customer has this card number.")) from None
    publish_customer_changes(actor=actor, before=before, customer=locked)
    return locked


def publish_customer_changes(*, actor: Actor | None, before: dict[str, Any], customer: Customer) -> None:
    """Publish `customer.updated` (and `customer.owner_changed` when the owner moved) for a saved change."""
    changes = customer_changes(before, customer)
    if not changes:
        return
    actor_id = actor.id if actor is not None else None
    publish(CustomerUpdated(record_id=customer.pk, changes=changes), actor_id=actor_id)
    if "owner_id" in changes:
        publish(
            CustomerOwnerChanged(
                record_id=customer.pk,
                from_owner_id=changes["owner_id"][0],
                to_owner_id=changes["owner_id"][1],
                team_id=customer.team_id,
            ),
            actor_id=actor_id,
        )


@transaction.atomic
def customer_delete(*, actor: Actor, customer: Customer) -> None:
    """Delete a customer with its contact points, tags, notes and files (the files after commit)."""
    require_permission(actor, CUSTOMERS_DELETE)
    if customer.people.exists():
        raise ValidationFailed.for_field("people", _("Unlink the people of this organisation first."))
    annotations_delete_for_records(target=CUSTOM_FIELD_TARGET, object_ids=[customer.pk])
    attribute_history(customer, actor)
    customer_id, name = customer.pk, customer.name
    customer.delete()
    publish(CustomerDeleted(record_id=customer_id, name=name), actor_id=actor.id)


@transaction.atomic
def customers_assign_owner(*, actor: Actor, customer_ids: list[int], owner_id: int) -> int:
    """Bulk action: give the visible customers among `customer_ids` to another owner."""
    require_permission(actor, CUSTOMERS_ASSIGN)
    owner = _clean_owner(actor, owner_id)
    from guanxi.customers.models.choices import PoolAction
    from guanxi.customers.services.pool import record_pool_event

    customers = list(Customer.objects.visible_to(actor).select_for_update().filter(pk__in=customer_ids[:1000]))
    for customer in customers:
        previous = customer.owner_id
        before = customer_snapshot(customer)
        _assign_owner(customer, owner)
        customer.bump_version()
        attribute_history(customer, actor, _("Assigned in bulk"))
        customer.save()
        publish_customer_changes(actor=actor, before=before, customer=customer)
        record_pool_event(customer=customer, pool=None, action=PoolAction.ASSIGNED, from_user_id=previous,
                          to_user_id=owner.pk if owner else None, actor=actor, reason="")  # fmt: skip
    return len(customers)


def customer_record_contact(*, customer_id: int, when: dt.datetime) -> None:
    """Keep `last_contact_at` current when an interaction is logged (only ever moves forward)."""
    from django.db.models import Q

    Customer.objects.filter(pk=customer_id).filter(
        Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=when)
    ).update(last_contact_at=when)

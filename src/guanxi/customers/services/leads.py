"""Leads (线索): capture, edit, qualify or disqualify, assign, delete, and convert into a customer.

Conversion reuses `customer_create`, so a converted customer is validated and normalised exactly like
one typed in by hand; nothing is retyped. Every write path (web form, API, import) comes here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers.events import LeadConverted, LeadCreated
from guanxi.customers.models import Customer, Interaction, Lead, Task
from guanxi.customers.models.choices import ContactKind, CustomerKind, LeadStatus, Source, TaskStatus
from guanxi.customers.permissions import (
    CUSTOMERS_ASSIGN,
    LEADS_ADD,
    LEADS_CHANGE,
    LEADS_CONVERT,
    LEADS_DELETE,
)
from guanxi.customers.selectors.leads import shared_custom_values
from guanxi.customers.services.common import (
    FieldCleaner,
    clean_active_user,
    clean_choice,
    clean_line,
    clean_long_text,
)
from guanxi.customers.services.customers import customer_create, customer_record_contact
from guanxi.customers.services.tasks import customers_refresh_next_follow_up
from guanxi.platform.annotations.services import annotations_delete_for_records
from guanxi.platform.audit.history import attribute_history
from guanxi.platform.audit.services import personal_data_view_record
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.emails import normalise_email
from guanxi.platform.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from guanxi.platform.core.phones import normalise_phone, reversed_digits
from guanxi.platform.core.pinyin import full_pinyin, pinyin_initials
from guanxi.platform.core.text import clean_text
from guanxi.platform.core.versioning import ensure_version
from guanxi.platform.customfields.values import clean_custom_values
from guanxi.platform.events.registry import publish
from guanxi.platform.identity.scoping import has_permission, require_permission

CUSTOM_FIELD_TARGET = "customers.lead"
MAX_DESCRIPTION = 5000
MAX_REASON = 300
TEXT_LIMITS = {"company_name": 200, "job_title": 100, "industry": 100, "address": 300}
EDITABLE_FIELDS = frozenset(
    {
        "name", "company_name", "job_title", "phone", "email", "wechat", "industry", "address", "source",
        "description", "owner_id", "custom_fields",
    }
)  # fmt: skip
CONTACT_FIELDS = ("phone", "email", "wechat", "company_name")


@dataclass(frozen=True)
class ConversionResult:
    """What a conversion produced.

    `customer` is the account: the organisation (created or linked) when there is one, else the person.
    `contact` is always the person created from the lead (the same record as `customer` without an
    organisation).
    """

    lead: Lead
    customer: Customer
    contact: Customer
    organisation_created: bool


def _clean_owner(actor: Actor, value: Any) -> Any:
    """An active user; giving a lead to someone else needs the right to assign customers."""
    if value in (None, ""):
        if not has_permission(actor, CUSTOMERS_ASSIGN):
            raise PermissionDenied(_("You may not leave a lead without an owner."))
        return None
    owner = clean_active_user(value, "owner_id")
    if owner.pk != actor.user.pk and not has_permission(actor, CUSTOMERS_ASSIGN):
        raise PermissionDenied(_("You may not assign leads to other users."))
    return owner


def _clean_name(value: Any) -> str:
    text = clean_text(value)
    if not text:
        raise ValidationFailed.for_field("name", _("Enter the lead's name."))
    if len(text) > 200:
        raise ValidationFailed.for_field("name", _("Keep the name under 200 characters."))
    return text


def _clean_phone(value: Any) -> str:
    if not clean_text(value):
        return ""
    stored = normalise_phone(str(value), field="phone").stored
    if len(stored) > 40:
        raise ValidationFailed.for_field("phone", _("This phone number is too long."))
    return stored


def _clean_email(value: Any) -> str:
    if not clean_text(value):
        return ""
    email = normalise_email(str(value), field="email")
    if len(email) > 254:
        raise ValidationFailed.for_field("email", _("This email address is too long."))
    return email


def _clean_wechat(value: Any) -> str:
    wechat = clean_text(value).replace(" ", "")
    if len(wechat) > 100:
        raise ValidationFailed.for_field("wechat", _("A WeChat ID has at most 100 characters."))
    return wechat


def _clean_fields(actor: Actor, data: Mapping[str, Any], instance: Lead | None) -> dict[str, Any]:
    """Validate every present field; collect all errors so the user sees them at once."""
    fields = FieldCleaner(data, allowed=EDITABLE_FIELDS)
    run, cleaned, errors = fields.run, fields.cleaned, fields.errors

    run("name", _clean_name)
    for field, limit in TEXT_LIMITS.items():
        run(field, lambda v, field=field, limit=limit: clean_line(v, field, limit))
    run("phone", _clean_phone)
    run("email", _clean_email)
    run("wechat", _clean_wechat)
    run("source", lambda v: clean_choice(v, Source, "source"))
    run("description", lambda v: clean_long_text(v, "description", MAX_DESCRIPTION))
    run("owner_id", lambda v: _clean_owner(actor, v))
    run(
        "custom_fields",
        lambda v: clean_custom_values(
            CUSTOM_FIELD_TARGET, v, existing=instance.custom_fields if instance else None, partial=instance is not None
        ),
    )
    if not errors:
        reachable = any(
            cleaned[f] if f in cleaned else (getattr(instance, f) if instance is not None else "")
            for f in CONTACT_FIELDS
        )
        if not reachable:
            errors["phone"] = [_("Give at least a phone number, an email address, a WeChat ID or a company.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _apply(lead: Lead, cleaned: Mapping[str, Any]) -> None:
    for field, value in cleaned.items():
        if field == "owner_id":
            continue
        setattr(lead, field, value)
    if "owner_id" in cleaned:
        _set_owner(lead, cleaned["owner_id"])
    lead.phone_search_key = reversed_digits(lead.phone) if lead.phone else ""
    lead.name_pinyin = full_pinyin(lead.name)[:400]
    lead.name_initials = pinyin_initials(lead.name)[:100]


def _set_owner(lead: Lead, owner: Any) -> None:
    lead.owner = owner
    lead.team_id = owner.team_id if owner is not None else None


def _locked(actor: Actor, lead: Lead) -> Lead:
    """The current row, locked for this transaction; NotFound when the actor may not see it."""
    locked = Lead.objects.visible_to(actor).select_for_update().filter(pk=lead.pk).first()
    if locked is None:
        raise NotFound(_("Lead not found."))
    return locked


def _refuse_if_converted(lead: Lead) -> None:
    if lead.status == LeadStatus.CONVERTED:
        raise Conflict(_("This lead has been converted into a customer; change the customer instead."))


@transaction.atomic
def lead_create(*, actor: Actor, data: Mapping[str, Any]) -> Lead:
    """Capture a lead. It needs a name and a way to reach it; the owner defaults to the actor."""
    require_permission(actor, LEADS_ADD)
    data = dict(data)
    data.setdefault("name", "")
    cleaned = _clean_fields(actor, data, None)
    lead = Lead(created_by=actor.user, status=LeadStatus.NEW)
    if "owner_id" not in cleaned:
        cleaned["owner_id"] = actor.user
    _apply(lead, cleaned)
    attribute_history(lead, actor)
    lead.save()
    publish(
        LeadCreated(record_id=lead.pk, name=lead.name, source=lead.source, owner_id=lead.owner_id), actor_id=actor.id
    )
    return lead


@transaction.atomic
def lead_update(*, actor: Actor, lead: Lead, data: Mapping[str, Any], expected_version: int | None = None) -> Lead:
    """Change the given fields; `expected_version` guards against overwriting someone else's edit."""
    require_permission(actor, LEADS_CHANGE)
    locked = _locked(actor, lead)
    ensure_version(locked, expected_version)
    _refuse_if_converted(locked)
    cleaned = _clean_fields(actor, data, locked)
    _apply(locked, cleaned)
    locked.bump_version()
    attribute_history(locked, actor)
    locked.save()
    return locked


@transaction.atomic
def lead_delete(*, actor: Actor, lead: Lead) -> None:
    """Delete a lead with its tags, notes and files (the files after commit). Interactions and tasks
    already moved to a customer stay with the customer."""
    require_permission(actor, LEADS_DELETE)
    locked = _locked(actor, lead)
    Interaction.objects.filter(lead=locked, customer__isnull=False).update(lead=None)
    Task.objects.filter(lead=locked, customer__isnull=False).update(lead=None)
    annotations_delete_for_records(target=CUSTOM_FIELD_TARGET, object_ids=[locked.pk])
    attribute_history(locked, actor)
    locked.delete()


@transaction.atomic
def lead_set_status(
    *, actor: Actor, lead: Lead, status: str, reason: str = "", expected_version: int | None = None
) -> Lead:
    """Move a lead to new, contacted, qualified or unqualified (the last one needs a reason)."""
    require_permission(actor, LEADS_CHANGE)
    locked = _locked(actor, lead)
    ensure_version(locked, expected_version)
    _refuse_if_converted(locked)
    status = clean_choice(status, LeadStatus, "status", allow_blank=False)
    if status == LeadStatus.CONVERTED:
        raise ValidationFailed.for_field("status", _("Use “Convert” to turn a lead into a customer."))
    reason_text = clean_text(reason)
    if status == LeadStatus.UNQUALIFIED:
        if not reason_text:
            raise ValidationFailed.for_field("reason", _("Say why the lead is not qualified."))
        if len(reason_text) > MAX_REASON:
            raise ValidationFailed.for_field("reason", _("Keep it under %(n)s characters.") % {"n": MAX_REASON})
    else:
        reason_text = ""
    return _save_status(actor, locked, status, reason_text)


def _save_status(actor: Actor, locked: Lead, status: str, reason_text: str) -> Lead:
    locked.status = status
    locked.disqualified_reason = reason_text
    locked.bump_version()
    attribute_history(locked, actor)
    locked.save()
    return locked


@transaction.atomic
def lead_mark_contacted(*, actor: Actor, lead: Lead) -> Lead:
    """A new lead becomes "contacted" when an interaction is logged on it; any other status stays.

    Part of logging the interaction (which checked the actor's rights), so it needs no right to edit leads.
    """
    locked = _locked(actor, lead)
    if locked.status != LeadStatus.NEW:
        return locked
    return _save_status(actor, locked, LeadStatus.CONTACTED, "")


def lead_qualify(*, actor: Actor, lead: Lead, expected_version: int | None = None) -> Lead:
    return lead_set_status(actor=actor, lead=lead, status=LeadStatus.QUALIFIED, expected_version=expected_version)


def lead_disqualify(*, actor: Actor, lead: Lead, reason: str, expected_version: int | None = None) -> Lead:
    return lead_set_status(
        actor=actor, lead=lead, status=LeadStatus.UNQUALIFIED, reason=reason, expected_version=expected_version
    )


@transaction.atomic
def lead_assign(*, actor: Actor, lead: Lead, owner_id: int | None, expected_version: int | None = None) -> Lead:
    """Give a lead to another owner (their team follows); assigning to others needs customers.assign."""
    require_permission(actor, LEADS_CHANGE)
    locked = _locked(actor, lead)
    ensure_version(locked, expected_version)
    _refuse_if_converted(locked)
    owner = _clean_owner(actor, owner_id)
    _set_owner(locked, owner)
    locked.bump_version()
    attribute_history(locked, actor, _("Assigned"))
    locked.save()
    return locked


def lead_has_personal_data(lead: Lead) -> bool:
    return bool(lead.phone or lead.email or lead.wechat or lead.address)


def leads_record_personal_data_view(
    *, actor: Actor, leads: Sequence[Lead], detail: dict[str, Any] | None = None
) -> None:
    """Write the access-log entry for showing these leads' contact data unmasked (never the values)."""
    shown = [lead.pk for lead in leads if lead_has_personal_data(lead)]
    personal_data_view_record(actor=actor, object_type=CUSTOM_FIELD_TARGET, object_ids=shown, detail=detail)


def lead_record_personal_data_view(*, actor: Actor, lead: Lead) -> None:
    leads_record_personal_data_view(actor=actor, leads=[lead])


def lead_contact_points(lead: Lead) -> list[dict[str, Any]]:
    """The contact points a conversion gives the person, in the input form of `customer_create`."""
    points: list[dict[str, Any]] = []
    if lead.phone:
        points.append({"kind": ContactKind.PHONE, "value": lead.phone})
    if lead.email:
        points.append({"kind": ContactKind.EMAIL, "value": lead.email})
    if lead.wechat:
        points.append({"kind": ContactKind.WECHAT, "value": lead.wechat})
    if lead.address:
        points.append({"kind": ContactKind.ADDRESS, "value": lead.address})
    return points


def _conversion_owner_id(actor: Actor, lead: Lead) -> int:
    if lead.owner is not None and lead.owner.is_active:
        return int(lead.owner.pk)
    return int(actor.user.pk)


@transaction.atomic
def lead_convert(
    *,
    actor: Actor,
    lead: Lead,
    organisation_id: int | None = None,
    create_organisation: bool | None = None,
    expected_version: int | None = None,
) -> ConversionResult:
    """Turn a lead into a customer without retyping.

    With a company name (and `create_organisation` not False) an organisation is created and the person
    becomes its contact; `organisation_id` links the person to an existing organisation instead;
    otherwise the person alone is the customer. Interactions and open tasks move to the customer.
    """
    require_permission(actor, LEADS_CONVERT)
    locked = _locked(actor, lead)
    ensure_version(locked, expected_version)
    if locked.status == LeadStatus.CONVERTED:
        raise Conflict(_("This lead has already been converted."))
    linking = organisation_id not in (None, "")
    if linking and create_organisation:
        raise ValidationFailed.for_field(
            "organisation_id", _("Either link an existing organisation or create a new one, not both.")
        )
    if create_organisation is None:
        create_organisation = bool(locked.company_name) and not linking
    if create_organisation and not locked.company_name:
        raise ValidationFailed.for_field(
            "company_name", _("Give the lead a company name before creating an organisation from it.")
        )
    owner_id = _conversion_owner_id(actor, locked)
    custom_values = shared_custom_values(locked.custom_fields)
    organisation: Customer | None = None
    if create_organisation:
        organisation = customer_create(
            actor=actor,
            data={
                "kind": CustomerKind.ORGANISATION,
                "name": locked.company_name,
                "industry": locked.industry,
                "source": locked.source,
                "owner_id": owner_id,
                "custom_fields": custom_values,
                "notes": locked.description,
            },
        )
    person_data: dict[str, Any] = {
        "kind": CustomerKind.PERSON,
        "name": locked.name,
        "job_title": locked.job_title,
        "source": locked.source,
        "owner_id": owner_id,
        "custom_fields": custom_values,
        "contact_points": lead_contact_points(locked),
    }
    if organisation is not None:
        person_data["organisation_id"] = organisation.pk
        person_data["company_name"] = organisation.name
    else:
        person_data["industry"] = locked.industry
        person_data["notes"] = locked.description
        if linking:
            person_data["organisation_id"] = organisation_id
        else:
            person_data["company_name"] = locked.company_name
    person = customer_create(actor=actor, data=person_data)
    account = organisation or person.organisation or person

    Interaction.objects.filter(lead=locked, customer__isnull=True).update(customer=account)
    Task.objects.filter(lead=locked, customer__isnull=True, status=TaskStatus.OPEN).update(customer=account)
    customers_refresh_next_follow_up(customer_ids=[account.pk])
    last_contact = Interaction.objects.filter(lead=locked).aggregate(last=Max("occurred_at"))["last"]
    if last_contact is not None:
        customer_record_contact(customer_id=account.pk, when=last_contact)

    locked.status = LeadStatus.CONVERTED
    locked.converted_customer = account
    locked.converted_contact = person
    locked.converted_at = timezone.now()
    locked.bump_version()
    attribute_history(locked, actor, _("Converted into a customer"))
    locked.save()
    publish(
        LeadConverted(
            record_id=locked.pk,
            customer_id=account.pk,
            contact_id=person.pk,
            organisation_created=organisation is not None,
        ),
        actor_id=actor.id,
    )
    return ConversionResult(
        lead=locked, customer=account, contact=person, organisation_created=organisation is not None
    )

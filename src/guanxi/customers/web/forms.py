"""Forms of the customer pages. They parse and render; every rule is checked by the services.

Select boxes are CharFields with a Select widget so a value outside the list reaches the service,
which answers with the same message the API gives. The person's organisation is a select while the user
sees few organisations, else a search-as-you-type picker filling a hidden id (checked by the service too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.customers.models import Customer
from guanxi.customers.models.choices import (
    CompanySize,
    Consent,
    ContactKind,
    CustomerKind,
    Gender,
    LifecycleStage,
    Source,
)
from guanxi.customers.services.customers import CUSTOM_FIELD_TARGET
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.customfields.forms import add_custom_fields, custom_values_from_form
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from guanxi.platform.ui.forms import add_domain_errors
from guanxi.platform.ui.widgets import QuickSelect

BLANK = ("", "—")
RATING_CHOICES = [(str(n), "★" * n + "☆" * (5 - n)) for n in range(6)]
FAMILY_SEPARATORS = re.compile(r"\s*[,，、;；\t]\s*")
FAMILY_PARTS = ("relation", "name", "birthday", "note")
# Contact points entered on the create form, in the order they are sent to the service.
NEW_CONTACT_FIELDS = (("cp_phone", ContactKind.PHONE), ("cp_email", ContactKind.EMAIL),
                      ("cp_wechat", ContactKind.WECHAT), ("cp_address", ContactKind.ADDRESS))  # fmt: skip
PERSON_ONLY = ("family_name", "given_name", "organisation", "job_title", "gender", "birthday", "id_number")
ORGANISATION_ONLY = ("uscc", "company_size", "website")


class RequiredText(forms.CharField):
    """Shown and marked as required, but an empty value goes to the service, which reports it with the
    other errors (so the user sees every mistake at once)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=True, **kwargs)

    def validate(self, value: Any) -> None:
        return None


def _select(choices: Iterable[tuple[Any, Any]], **kwargs: Any) -> forms.CharField:
    return forms.CharField(required=False, widget=QuickSelect(choices=list(choices)), **kwargs)


def _text(label: Any, **kwargs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, **kwargs)


def _area(label: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": 3}))


def parse_family_members(text: str) -> list[dict[str, str]]:
    """One family member a line: "relation, name, birthday, note" (the last two optional)."""
    members = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = FAMILY_SEPARATORS.split(line.strip(), maxsplit=len(FAMILY_PARTS) - 1)
        members.append({key: value for key, value in zip(FAMILY_PARTS, parts, strict=False) if value})
    return members


def format_family_members(members: Any) -> str:
    lines = []
    for member in members or []:
        if not isinstance(member, dict):
            continue
        parts = [str(member.get(key) or "") for key in FAMILY_PARTS]
        while parts and not parts[-1]:
            parts.pop()
        lines.append(", ".join(parts))
    return "\n".join(lines)


class CustomerForm(forms.Form):
    """Every customer field; person-only and organisation-only fields are hidden by CSS by kind."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    kind = forms.CharField(
        label=_("Kind"), required=False, initial=CustomerKind.PERSON,
        widget=forms.RadioSelect(choices=CustomerKind.choices),
    )  # fmt: skip
    name = RequiredText(label=_("Name"))
    family_name = _text(_("Family name"))
    given_name = _text(_("Given name"))
    organisation = _select([], label=pgettext_lazy("the organisation a person works at", "Organisation"))
    company_name = _text(_("Company"))
    job_title = _text(_("Job title"))
    gender = _select(Gender.choices, label=_("Gender"))
    birthday = _text(_("Birthday"), widget=forms.DateInput(attrs={"type": "date"}))
    id_number = _text(_("ID number"), widget=forms.TextInput(attrs={"autocomplete": "off"}))
    uscc = _text(_("Unified social credit code"))
    industry = _text(_("Industry"))
    company_size = _select(CompanySize.choices, label=_("Company size"))
    website = _text(_("Website"), widget=forms.URLInput)
    source = _select([BLANK, *Source.choices], label=_("Source"))
    card_number = _text(_("Membership card number"))
    lifecycle_stage = _select(LifecycleStage.choices, label=_("Lifecycle stage"), initial=LifecycleStage.PROSPECT)
    rating = _select(RATING_CHOICES, label=_("Star rating"), initial="0")
    owner = _select([], label=_("Owner"))
    family_members = forms.CharField(
        label=_("Family members"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line: relation, name, birthday (YYYY-MM-DD), note."),
    )  # fmt: skip
    preferences = _area(_("Preferences"))
    special_needs = _area(_("Special needs"))
    interests = _area(_("Interests"))
    notes = _area(_("Notes"))

    def __init__(
        self,
        *args: Any,
        customer: Customer | None = None,
        organisations: Iterable[Customer] | None = (),
        chosen_organisation: Customer | None = None,
        owners: Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """`organisations` are the choices of a plain select; None asks for the search-as-you-type picker
        (a hidden id set by picking a suggestion), which shows `chosen_organisation` as the current choice."""
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.organisation_picker = organisations is None
        self.chosen_organisation = chosen_organisation
        if organisations is None:
            self.fields["organisation"].widget = forms.HiddenInput(attrs={"data-organisation-value": ""})
        else:
            self.fields["organisation"].widget.choices = [BLANK, *[(str(o.pk), o.name) for o in organisations]]
        if owners is None:
            del self.fields["owner"]
        else:
            self.fields["owner"].widget.choices = [BLANK, *[(str(u.pk), str(u)) for u in owners]]
        if customer is None:
            for name, kind in NEW_CONTACT_FIELDS:
                self.fields[name] = _text(ContactKind(kind).label)
            self.fields["cp_phone"].widget = forms.TextInput(attrs={"type": "tel", "inputmode": "tel"})
            self.fields["cp_email"].widget = forms.EmailInput()
            del self.fields["version"]
        else:
            if not self.is_bound:
                self.initial.update(self._initial_from(customer))
            if customer.id_number_masked:
                self.fields["id_number"].help_text = _("Stored as %(masked)s. Leave empty to keep it.") % {
                    "masked": customer.id_number_masked
                }
        self.custom_field_names = add_custom_fields(
            self, CUSTOM_FIELD_TARGET, customer.custom_fields if customer is not None else None
        )

    @staticmethod
    def _initial_from(customer: Customer) -> dict[str, Any]:
        plain = ("kind", "name", "family_name", "given_name", "company_name", "job_title", "gender", "uscc",
                 "industry", "company_size", "website", "source", "card_number", "lifecycle_stage", "preferences",
                 "special_needs", "interests", "notes")  # fmt: skip
        initial: dict[str, Any] = {name: getattr(customer, name) for name in plain}
        initial.update(
            version=customer.version,
            organisation=str(customer.organisation_id or ""),
            owner=str(customer.owner_id or ""),
            birthday=customer.birthday.isoformat() if customer.birthday else "",
            rating=str(customer.rating),
            family_members=format_family_members(customer.family_members),
        )
        return initial

    @property
    def person_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in PERSON_ONLY]

    @property
    def organisation_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ORGANISATION_ONLY]

    @property
    def contact_fields(self) -> list[forms.BoundField]:
        return [self[name] for name, _kind in NEW_CONTACT_FIELDS if name in self.fields]

    @property
    def custom_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.custom_field_names]

    def _value(self, name: str) -> Any:
        value = self.cleaned_data.get(name)
        return value.strip() if isinstance(value, str) else value

    def service_data(self) -> dict[str, Any]:
        """The `data` for customer_create / customer_update: everything on create, what changed on edit."""
        names = ["kind", "name", "family_name", "given_name", "company_name", "job_title", "gender", "birthday",
                 "id_number", "uscc", "industry", "company_size", "website", "source", "card_number",
                 "lifecycle_stage", "rating", "preferences", "special_needs", "interests", "notes"]  # fmt: skip
        editing = self.customer is not None
        data: dict[str, Any] = {}
        for name in names:
            value = self._value(name) or ""
            if editing and name not in self.changed_data:
                continue
            if not editing and not value and name != "name":
                continue  # the service's defaults apply to what was left empty
            data[name] = value
        if editing and not data.get("id_number"):
            data.pop("id_number", None)  # an empty box keeps the stored number
        kind = self._value("kind") or (self.customer.kind if self.customer is not None else CustomerKind.PERSON)
        hidden = PERSON_ONLY if kind == CustomerKind.ORGANISATION else ORGANISATION_ONLY
        for name in hidden:  # fields of the other kind are hidden on the page: what they hold is not meant
            data.pop(name, None)
        if kind != CustomerKind.ORGANISATION and (not editing or "organisation" in self.changed_data):
            data["organisation_id"] = self._value("organisation") or None
        if "owner" in self.fields and self._value("owner") and (not editing or "owner" in self.changed_data):
            data["owner_id"] = self._value("owner")  # an owner is changed here, never removed (that is the pool)
        if not editing or "family_members" in self.changed_data:
            data["family_members"] = parse_family_members(self._value("family_members") or "")
        if self.custom_field_names and (not editing or set(self.custom_field_names) & set(self.changed_data)):
            data["custom_fields"] = custom_values_from_form(self)
        if not editing:
            data["contact_points"] = [
                {"kind": point_kind, "value": self._value(name)}
                for name, point_kind in NEW_CONTACT_FIELDS
                if self._value(name)
            ]
        return data

    def expected_version(self) -> int | None:
        value = self.cleaned_data.get("version")
        return int(value) if value is not None else None

    def add_service_errors(self, exc: ValidationFailed) -> None:
        """Show the service's errors next to the fields, including those of the new contact points."""
        entered = [name for name, _kind in NEW_CONTACT_FIELDS if name in self.fields and self._value(name)]
        fields: dict[str, list[str]] = {}
        for key, messages in exc.fields.items():
            match = re.match(r"contact_points\[(\d+)\]", key)
            if match and int(match.group(1)) < len(entered):
                key = entered[int(match.group(1))]
            elif key.startswith("family_members"):
                key = "family_members"
            fields.setdefault(key, []).extend(messages)
        add_domain_errors(self, ValidationFailed(exc.message, fields=fields))


class ContactPointForm(forms.Form):
    """One contact point; the kind is chosen when adding and fixed afterwards."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    kind = _select(ContactKind.choices, label=_("Type"))
    value = RequiredText(label=_("Value"))
    label = _text(_("Label"), help_text=_("For example: mobile, office, home."))
    is_primary = forms.BooleanField(label=_("Primary"), required=False)
    consent = _select(Consent.choices, label=_("Consent"), initial=Consent.UNKNOWN)
    consent_source = _text(_("Consent source"))

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            del self.fields["kind"]
        else:
            del self.fields["version"]

    def service_data(self) -> dict[str, Any]:
        data = {
            name: self.cleaned_data.get(name) for name in ("value", "label", "is_primary", "consent", "consent_source")
        }
        data = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
        if not self.editing:
            data["kind"] = self.cleaned_data.get("kind") or ""
        return data

    def expected_version(self) -> int | None:
        value = self.cleaned_data.get("version")
        return int(value) if value is not None else None


def _filter_field(definition: CustomFieldDefinition) -> forms.CharField:
    label = definition.label
    if definition.field_type in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        choices = [(c["value"], definition.choice_label(c["value"])) for c in definition.choices]
        return _select([BLANK, *choices], label=label)
    if definition.field_type == FieldType.BOOLEAN:
        return _select([BLANK, ("true", _("Yes")), ("false", _("No"))], label=label)
    if definition.field_type == FieldType.DATE:
        return _text(label, widget=forms.DateInput(attrs={"type": "date"}))
    return _text(label)


class CustomerFilterForm(forms.Form):
    """The filter bar of the customer list. Names match CustomerFilters; the selector validates."""

    q = _text(_("Search"), widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, pinyin, phone…")}))
    kind = _select([("", _("Any kind")), *CustomerKind.choices], label=_("Kind"))
    owner = _select([("", _("Anyone")), ("me", _("Me")), ("none", _("Nobody"))], label=_("Owner"))
    owner_id = _select([], label=_("Owned by"))
    team_id = _select([], label=_("Team"))
    stage = _select([("", _("Any stage")), *LifecycleStage.choices], label=_("Stage"))
    tag_id = _select([], label=_("Tag"))
    source = _select([("", _("Any source")), *Source.choices], label=_("Source"))
    rating_min = _select([("", _("Any")), *[(str(n), "★" * n + "+") for n in range(1, 6)]], label=_("Rating"))
    in_pool = _select([("", _("Any")), ("true", _("In the pool")), ("false", _("Owned"))], label=_("Pool"))
    created_from = _text(_("Created from"), widget=forms.DateInput(attrs={"type": "date"}))
    created_to = _text(_("Created to"), widget=forms.DateInput(attrs={"type": "date"}))
    last_contact_from = _text(_("Last contact from"), widget=forms.DateInput(attrs={"type": "date"}))
    last_contact_to = _text(_("Last contact to"), widget=forms.DateInput(attrs={"type": "date"}))
    sort = _select([], label=_("Sort"))

    def __init__(
        self,
        *args: Any,
        users: Iterable[Any],
        teams: Iterable[Any],
        tags: Iterable[Any],
        sorts: Iterable[tuple[str, Any]],
        definitions: Iterable[CustomFieldDefinition],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner_id"].widget.choices = [("", _("Any user")), *[(str(u.pk), str(u)) for u in users]]
        self.fields["team_id"].widget.choices = [
            ("", _("Any team")), *[(str(t.pk), "· " * t.depth + t.name) for t in teams]
        ]  # fmt: skip
        self.fields["tag_id"].widget.choices = [("", _("Any tag")), *[(str(t.pk), t.name) for t in tags]]
        self.fields["sort"].widget.choices = list(sorts)
        self.custom_field_names = []
        for definition in definitions:
            name = f"cf.{definition.key}"
            self.fields[name] = _filter_field(definition)
            self.custom_field_names.append(name)

    @property
    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("q", "owner", "stage", "tag_id", "sort")]

    @property
    def more_fields(self) -> list[forms.BoundField]:
        names = ["kind", "owner_id", "team_id", "source", "rating_min", "in_pool", "created_from", "created_to",
                 "last_contact_from", "last_contact_to", *self.custom_field_names]  # fmt: skip
        return [self[name] for name in names]

    @property
    def has_more_values(self) -> bool:
        return any(field.value() for field in self.more_fields) or any(field.errors for field in self.more_fields)

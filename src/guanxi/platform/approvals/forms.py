"""Forms of the approval pages: the process editor (the process and one form per step row), decisions and
the record panel's "request approval" form. They only parse; the services check everything."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.platform.approvals.definitions import STEP_FIELDS
from guanxi.platform.approvals.models import ApprovalStep, ApproverKind, EscalateTo, RoleScope
from guanxi.platform.approvals.registry import approvable_type_choices
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.identity.models import Role, User
from guanxi.platform.ui.widgets import QuickSelect

STEP_PREFIX = "step"
# Form field of a step row for each key the service names in its errors.
_ERROR_FIELD = {"role_id": "role", "user_id": "user", "escalation_user_id": "escalation_user", "id": "name"}
_SERVICE_KEY = {"role": "role_id", "user": "user_id", "escalation_user": "escalation_user_id"}


class ProcessForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    approvable_type = forms.ChoiceField(label=_("Kind of record"), required=False)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the process is for, shown to people choosing it."),
    )
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("Switched-off processes take no new requests; pending ones go on."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, fixed_type: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["approvable_type"]
        field.choices = approvable_type_choices()  # type: ignore[attr-defined]
        if fixed_type:
            field.disabled = True


def _user_choices() -> list[tuple[str, str]]:
    users = (
        User.objects.select_related(None)
        .filter(is_active=True)
        .only("id", "username", "display_name", "first_name", "last_name")
    )
    return [("", "—"), *((str(u.pk), str(u)) for u in users.order_by("username"))]


def _role_choices() -> list[tuple[str, str]]:
    return [("", "—"), *((str(r.pk), r.name) for r in Role.objects.order_by("id"))]


class StepForm(forms.Form):
    """One step row. Every field is text, so that nothing is refused here: the service reports every
    problem of every row at once, and the editor can add, remove and reorder rows without saving."""

    id = forms.CharField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Step name"), required=False, help_text=_("Optional, e.g. “Finance”."))
    approver_kind = forms.CharField(label=_("Approved by"), widget=QuickSelect(choices=ApproverKind.choices))
    role = forms.CharField(label=_("Role"), required=False)
    role_scope = forms.CharField(label=_("Where"), required=False, widget=QuickSelect(choices=RoleScope.choices))
    user = forms.CharField(label=_("User"), required=False)
    timeout_hours = forms.CharField(
        label=_("Timeout (hours)"),
        required=False,
        widget=forms.NumberInput(attrs={"step": 1}),
        help_text=_("0: no timeout."),
    )
    remind_on_timeout = forms.BooleanField(label=_("Remind the approvers on timeout"), required=False)
    escalate_to = forms.CharField(
        label=_("Escalate on timeout to"), required=False, widget=QuickSelect(choices=EscalateTo.choices)
    )
    escalation_user = forms.CharField(label=_("Escalate to user"), required=False)

    def __init__(self, *args: Any, users: list[tuple[str, str]], roles: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].widget = QuickSelect(choices=roles)
        self.fields["user"].widget = QuickSelect(choices=users)
        self.fields["escalation_user"].widget = QuickSelect(choices=users)


def step_row_data(step: ApprovalStep) -> dict[str, str]:
    """A saved step as the raw values of a row."""
    return {
        "id": str(step.pk),
        "name": step.name,
        "approver_kind": step.approver_kind,
        "role": str(step.role_id or ""),
        "role_scope": step.role_scope,
        "user": str(step.user_id or ""),
        "timeout_hours": str(step.timeout_hours),
        "remind_on_timeout": "on" if step.remind_on_timeout else "",
        "escalate_to": step.escalate_to,
        "escalation_user": str(step.escalation_user_id or ""),
    }


def blank_row() -> dict[str, str]:
    return {"approver_kind": ApproverKind.MANAGER, "role_scope": RoleScope.ANYONE, "timeout_hours": "0"}


def posted_rows(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """The step rows of a posted editor, in their order."""
    try:
        count = min(int(data.get("step_count", "0") or 0), 50)
    except ValueError:
        count = 0
    rows = []
    for index in range(count):
        prefix = f"{STEP_PREFIX}-{index}-"
        row = {name: str(data.get(prefix + name, "")) for name in StepForm.base_fields}
        rows.append(row)
    return rows


def service_steps(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Rows as the service takes steps (`role` -> `role_id`...)."""
    steps = []
    for row in rows:
        step: dict[str, Any] = {"id": row.get("id") or None}
        for name in STEP_FIELDS:
            form_name = next((k for k, v in _SERVICE_KEY.items() if v == name), name)
            step[name] = row.get(form_name, "")
        steps.append(step)
    return steps


def step_forms(rows: list[dict[str, str]]) -> list[StepForm]:
    """Bound forms for the rows (numbered in their current order), so values and errors show."""
    users, roles = _user_choices(), _role_choices()
    forms_ = []
    for index, row in enumerate(rows):
        prefix = f"{STEP_PREFIX}-{index}"
        data = {f"{prefix}-{name}": value for name, value in row.items()}
        form = StepForm(data, prefix=prefix, users=users, roles=roles)
        form.is_valid()
        forms_.append(form)
    return forms_


def add_step_errors(process_form: ProcessForm, rows: list[StepForm], exc: ValidationFailed) -> None:
    """Put the service's errors next to their fields: `steps[2].role_id` on row 2's role."""
    for key, messages in exc.fields.items():
        target: forms.Form = process_form
        field: str | None = key
        if key.startswith("steps[") and "]." in key:
            index_text, name = key[len("steps[") :].split("].", 1)
            index = int(index_text) if index_text.isdigit() else -1
            if 0 <= index < len(rows):
                target, field = rows[index], _ERROR_FIELD.get(name, name)
            else:
                field = None
        elif key == "steps" or key not in process_form.fields:
            field = None
        for message in messages:
            target.add_error(field if field in target.fields else None, message)


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to reject or return: say why, or what should change."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

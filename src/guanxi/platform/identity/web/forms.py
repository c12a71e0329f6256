"""Forms of the identity settings pages. They only parse input; the services check the rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.platform.identity.models import Role, Team, User
from guanxi.platform.identity.permissions import all_areas


class TeamChoiceField(forms.ModelChoiceField):
    """Teams in tree order, indented by depth, so a parent is easy to find."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{'— ' * int(obj.depth)}{obj.name}"


def _team_field(label: Any, *, required: bool = False) -> TeamChoiceField:
    return TeamChoiceField(queryset=Team.objects.order_by("path"), required=required, label=label, empty_label="—")


def _user_field(label: Any) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"), required=False, label=label, empty_label="—"
    )


def _role_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Role.objects.order_by("id"), required=False, label=_("Role"), empty_label="—"
    )


class UserFilterForm(forms.Form):
    q = forms.CharField(required=False, label=_("Search"), max_length=100)
    team = _team_field(_("Team"))
    role = _role_field()
    active = forms.ChoiceField(
        required=False,
        label=_("Status"),
        choices=[("", _("All")), ("1", _("Active")), ("0", _("Deactivated"))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].empty_label = _("All teams")  # type: ignore[attr-defined]
        self.fields["role"].empty_label = _("All roles")  # type: ignore[attr-defined]


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150, help_text=_("Used to sign in."))
    display_name = forms.CharField(label=_("Display name"), required=False, max_length=200)
    email = forms.CharField(label=_("E-mail"), required=False, max_length=254)
    team = _team_field(_("Main team"))
    role = _role_field()
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters, not only digits, not a common password, not like the user name."),
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password1") and cleaned.get("password2") and cleaned["password1"] != cleaned["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return cleaned


class UserEditForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), required=False, max_length=200)
    email = forms.CharField(label=_("E-mail"), required=False, max_length=254)
    team = _team_field(_("Main team"))
    role = _role_field()
    is_active = forms.BooleanField(
        label=_("Active (may sign in)"),
        required=False,
        help_text=_("Deactivate people who left instead of deleting them."),
    )


class PasswordResetForm(forms.Form):
    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters, not only digits, not a common password, not like the user name."),
    )
    password2 = forms.CharField(
        label=_("New password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password1") and cleaned.get("password2") and cleaned["password1"] != cleaned["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return cleaned


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    parent = _team_field(_("Parent team"))
    manager = _user_field(_("Manager"))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class RoleForm(forms.Form):
    """Names and description; the permission matrix and the data scopes are read from the POST directly."""

    code = forms.CharField(
        label=_("Code"), max_length=50, required=False, help_text=_("Lower-case letters, digits, - and _.")
    )
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


def token_scope_label(scope: str) -> str:
    area, _sep, mode = scope.partition(":")
    label = str(all_areas().get(area, area))
    return str(_("%(area)s: read") if mode == "read" else _("%(area)s: read and write")) % {"area": label}


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=200, help_text=_("Say where the token is used, such as “shop sync”.")
    )
    scopes = forms.MultipleChoiceField(label=_("Scopes"), required=False, widget=forms.CheckboxSelectMultiple)
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for a token that does not expire."),
    )

    def __init__(self, *args: Any, scope_choices: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [(scope, token_scope_label(scope)) for scope in scope_choices]  # type: ignore[attr-defined]

    def expires_at(self, tz: dt.tzinfo) -> dt.datetime | None:
        """The end of the chosen day in the user's time zone."""
        day: dt.date | None = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=tz)

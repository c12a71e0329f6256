"""The settings form of a custom field definition, with its choices written as lines "value|中文|English"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from guanxi.platform.customfields.registry import targets


def parse_choice_lines(text: str) -> list[dict[str, str]]:
    """Lines "value|中文|English" (labels optional) into choices; ValidationFailed names the bad line."""
    choices = []
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) > 3:
            raise ValidationFailed.for_field(
                "choices",
                _("Line %(n)s: write value|中文|English with at most two | signs.") % {"n": number},
            )
        if not parts[0]:
            raise ValidationFailed.for_field("choices", _("Line %(n)s: the value is missing.") % {"n": number})
        parts += [""] * (3 - len(parts))
        choices.append({"value": parts[0], "label_zh": parts[1], "label_en": parts[2]})
    return choices


def choice_lines(choices: list[dict[str, str]]) -> str:
    return "\n".join(f"{c.get('value', '')}|{c.get('label_zh', '')}|{c.get('label_en', '')}" for c in choices)


class RequiredByServiceField(forms.CharField):
    """Shown as required, but left empty it reaches the service, which reports it with every other problem."""

    def validate(self, value: Any) -> None:
        return None


class DefinitionForm(forms.Form):
    target = forms.ChoiceField(label=gettext_lazy("Record type"))
    key = forms.CharField(
        label=gettext_lazy("Key"),
        max_length=100,
        help_text=gettext_lazy("Used in the API and in imports: lower-case letters, digits and _. Fixed once saved."),
    )
    field_type = forms.ChoiceField(label=gettext_lazy("Type"), choices=FieldType.choices)
    label_zh = RequiredByServiceField(label=gettext_lazy("Label (Chinese)"), max_length=200)
    label_en = RequiredByServiceField(label=gettext_lazy("Label (English)"), max_length=200)
    choices = forms.CharField(
        label=gettext_lazy("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "class": "mono"}),
        help_text=gettext_lazy("For choice fields: one option per line, as value|中文|English, e.g. gold|金卡|Gold."),
    )
    required = forms.BooleanField(label=gettext_lazy("Required"), required=False)
    help_text_zh = forms.CharField(label=gettext_lazy("Help (Chinese)"), required=False, max_length=400)
    help_text_en = forms.CharField(label=gettext_lazy("Help (English)"), required=False, max_length=400)
    position = forms.IntegerField(
        required=False, label=gettext_lazy("Position"), initial=0, help_text=gettext_lazy("Lower comes first.")
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("Active"),
        required=False,
        initial=True,
        help_text=gettext_lazy("Inactive fields are hidden from forms and the API; stored values are kept."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, definition: CustomFieldDefinition | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [(code, str(label)) for code, label in targets().items()]  # type: ignore[attr-defined]
        if definition is not None:
            for name in ("target", "key", "field_type"):
                self.fields[name].disabled = True
                self.fields[name].required = False

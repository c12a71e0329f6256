"""Forms of the channels pages. They only parse what people type; the services validate and decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from guanxi.platform.channels.models import (
    HeldReason,
    MessageChannel,
    MessagePurpose,
    MessageStatus,
    MessageTemplate,
    SuppressionReason,
)
from guanxi.platform.channels.registry import record_type_choices
from guanxi.platform.core.errors import ValidationFailed


def _with_blank(choices: Any, label: str) -> list[tuple[str, str]]:
    return [("", label), *[(value, str(text)) for value, text in choices]]


class MessageFilterForm(forms.Form):
    """The filters of the message log (read by `MessageFilters.from_params`; this form only draws them)."""

    channel = forms.ChoiceField(label=_("Channel"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    purpose = forms.ChoiceField(label=_("Purpose"), required=False)
    held_reason = forms.ChoiceField(label=_("Held reason"), required=False)
    record_type = forms.ChoiceField(label=_("Record type"), required=False)
    record_id = forms.IntegerField(label=_("Record number"), required=False, min_value=1)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything = _gettext("All")
        self.fields["channel"].choices = _with_blank(MessageChannel.choices, everything)  # type: ignore[attr-defined]
        self.fields["status"].choices = _with_blank(MessageStatus.choices, everything)  # type: ignore[attr-defined]
        self.fields["purpose"].choices = _with_blank(MessagePurpose.choices, everything)  # type: ignore[attr-defined]
        self.fields["held_reason"].choices = _with_blank(HeldReason.choices, everything)  # type: ignore[attr-defined]
        self.fields["record_type"].choices = _with_blank(record_type_choices(), everything)  # type: ignore[attr-defined]


class ComposeForm(forms.Form):
    record_type = forms.CharField(widget=forms.HiddenInput)
    record_id = forms.IntegerField(widget=forms.HiddenInput)
    channel = forms.ChoiceField(label=_("Channel"), choices=MessageChannel.choices)
    purpose = forms.ChoiceField(
        label=_("Purpose"), choices=MessagePurpose.choices, initial=MessagePurpose.TRANSACTIONAL
    )
    template = forms.ModelChoiceField(
        label=_("Template"), queryset=MessageTemplate.objects.none(), required=False, empty_label=_("No template")
    )
    to_address = forms.ChoiceField(label=_("To"), required=False)
    subject = forms.CharField(label=_("Subject"), required=False, max_length=300)
    body = forms.CharField(
        label=_("Text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Merge fields such as {{ name }} are filled in for the recipient."),
    )

    def __init__(
        self,
        *args: Any,
        templates: Any = None,
        addresses: list[tuple[str, str]] | None = None,
        purposes: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if templates is not None:
            self.fields["template"].queryset = templates  # type: ignore[attr-defined]
        self.fields["to_address"].choices = [("", _gettext("Preferred address")), *(addresses or [])]  # type: ignore[attr-defined]
        if purposes is not None:
            self.fields["purpose"].choices = purposes  # type: ignore[attr-defined]


def parse_param_lines(text: str) -> dict[str, str]:
    """Provider template parameters typed as lines "name = merge text" (blank lines ignored)."""
    params: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, separator, value = line.partition("=")
        if not separator or not name.strip():
            raise ValidationFailed.for_field(
                "provider_params",
                _gettext("Line %(line)s: write name = text, such as name = {{ name }}.") % {"line": number},
            )
        params[name.strip()] = value.strip()
    return params


def param_lines(params: dict[str, str]) -> str:
    return "\n".join(f"{name} = {value}" for name, value in (params or {}).items())


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    channel = forms.ChoiceField(label=_("Channel"), choices=MessageChannel.choices)
    record_type = forms.ChoiceField(label=_("Record type"))
    purpose = forms.ChoiceField(label=_("Purpose"), choices=MessagePurpose.choices)
    subject_zh = forms.CharField(label=_("Subject (Chinese)"), required=False, max_length=300)
    body_zh = forms.CharField(label=_("Text (Chinese)"), required=False, widget=forms.Textarea(attrs={"rows": 8}))
    subject_en = forms.CharField(label=_("Subject (English)"), required=False, max_length=300)
    body_en = forms.CharField(label=_("Text (English)"), required=False, widget=forms.Textarea(attrs={"rows": 8}))
    provider_template_id = forms.CharField(
        label=_("Provider template ID"),
        required=False,
        max_length=100,
        help_text=_("SMS and WeChat template messages: the ID of the template approved by the provider."),
    )
    provider_params = forms.CharField(
        label=_("Provider template parameters"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: name = merge text, such as name = {{ name }}. For WeChat, url = a link to open."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, template: MessageTemplate | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = record_type_choices()  # type: ignore[attr-defined]
        if template is not None:  # fixed once created
            for name in ("channel", "record_type"):
                self.fields[name].disabled = True
                self.fields[name].required = False

    def service_data(self) -> dict[str, Any]:
        """The cleaned data as the template services take it (ValidationFailed for unreadable parameters)."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data["provider_params"] = parse_param_lines(data.get("provider_params") or "")
        return data


class PreviewForm(forms.Form):
    record_id = forms.IntegerField(label=_("Customer number"), required=False, min_value=1)
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Recipient's language")), ("zh-hans", "中文"), ("en", "English")],
    )


class PolicyForm(forms.Form):
    caps_enabled = forms.BooleanField(label=_("Frequency caps on"), required=False)
    email_cap_count = forms.IntegerField(label=_("Emails at most"), required=False, min_value=0)
    email_cap_days = forms.IntegerField(label=_("in days"), min_value=1)
    sms_cap_count = forms.IntegerField(label=_("SMS at most"), required=False, min_value=0)
    sms_cap_days = forms.IntegerField(label=_("in days"), min_value=1)
    wechat_cap_count = forms.IntegerField(label=_("WeChat messages at most"), required=False, min_value=0)
    wechat_cap_days = forms.IntegerField(label=_("in days"), min_value=1)
    quiet_hours_enabled = forms.BooleanField(label=_("Quiet hours on"), required=False)
    quiet_start = forms.TimeField(label=_("Quiet from"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    quiet_end = forms.TimeField(label=_("Quiet until"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    quiet_time_zone = forms.CharField(label=_("Time zone"), max_length=64)
    quiet_channels = forms.MultipleChoiceField(
        label=_("Channels with quiet hours"),
        required=False,
        choices=MessageChannel.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class SuppressionForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=MessageChannel.choices)
    address = forms.CharField(label=_("Address"), max_length=300)
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[
            (SuppressionReason.BLOCKED, SuppressionReason.BLOCKED.label),
            (SuppressionReason.UNSUBSCRIBED, SuppressionReason.UNSUBSCRIBED.label),
        ],
    )

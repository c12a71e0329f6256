"""Forms of the webhook settings pages: the subscription form (event types as grouped checkboxes) and the
delivery log's filters. They parse; the services validate."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.platform.events.registry import event_types
from guanxi.platform.webhooks.models import ALL_EVENTS, PING_EVENT, DeliveryStatus, WebhookSubscription
from guanxi.platform.webhooks.selectors import event_groups


def event_type_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Checkbox choices grouped by record type: ("customers.customer", [("customer.created", "Customer
    created (customer.created)"), ...])."""
    return [
        (group.record_type, [(item.name, f"{item.label} ({item.name})") for item in group.events])
        for group in event_groups()
    ]


class SubscriptionForm(forms.Form):
    # Not `required` here: the service checks every field and reports all the problems at once.
    name = forms.CharField(label=_("Name"), required=False)
    url = forms.CharField(
        label=_("URL"),
        required=False,
        help_text=_("The receiver's address; guanxi sends it a POST request for each event."),
        widget=forms.TextInput(attrs={"placeholder": "https://example.com/hooks/guanxi", "inputmode": "url"}),
    )
    all_events = forms.BooleanField(label=_("All events, including ones added later"), required=False)
    event_types = forms.MultipleChoiceField(
        label=_("Events"), required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = event_type_choices()  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, subscription: WebhookSubscription) -> dict[str, Any]:
        return {
            "name": subscription.name,
            "url": subscription.url,
            "all_events": subscription.all_events,
            "event_types": [] if subscription.all_events else list(subscription.event_types),
            "description": subscription.description,
            "is_active": subscription.is_active,
            "version": subscription.version,
        }

    def chosen_event_types(self) -> list[str]:
        if self.cleaned_data.get("all_events"):
            return [ALL_EVENTS]
        return list(self.cleaned_data.get("event_types") or [])


def event_name_suggestions() -> list[tuple[str, str]]:
    """The event names the log filter suggests (registered events and the test ping)."""
    return [*((item.name, str(item.label)) for item in event_types()), (PING_EVENT, str(_("Test ping")))]


class DeliveryFilterForm(forms.Form):
    subscription = forms.ModelChoiceField(
        queryset=WebhookSubscription.objects.order_by("name", "id"),
        required=False,
        label=_("Subscription"),
        empty_label=_("All subscriptions"),
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=())
    event = forms.CharField(
        label=_("Event"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"list": "webhook-event-names", "placeholder": "customer.created"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All")), *DeliveryStatus.choices]  # type: ignore[attr-defined]

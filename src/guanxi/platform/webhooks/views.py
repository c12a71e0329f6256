"""Settings pages for webhooks: subscriptions (list, create, edit, detail with the secret shown once, rotate,
test ping, delete) and the delivery log (filters, detail with every attempt, redelivery)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.platform.core.errors import Conflict, ValidationFailed
from guanxi.platform.core.pagination import keyset_paginate
from guanxi.platform.identity.web.decorators import permission_required_page
from guanxi.platform.ui.actors import actor_from_request
from guanxi.platform.ui.forms import add_domain_errors
from guanxi.platform.ui.pages import next_page_url, render_form_page
from guanxi.platform.webhooks import selectors, services
from guanxi.platform.webhooks.delivery import delivery_request_body
from guanxi.platform.webhooks.forms import DeliveryFilterForm, SubscriptionForm, event_name_suggestions
from guanxi.platform.webhooks.models import WebhookSubscription
from guanxi.platform.webhooks.permissions import WEBHOOKS_MANAGE
from guanxi.platform.webhooks.signing import DEFAULT_TOLERANCE

DELIVERIES_PER_PAGE = 50
# The secret of a subscription just created or rotated waits here for the one page view that shows it.
NEW_SECRET_KEY = "webhooks.new_secret"


def _keep_secret_for_display(request: HttpRequest, subscription: WebhookSubscription, secret: str) -> None:
    request.session[NEW_SECRET_KEY] = {"id": subscription.pk, "secret": secret}


def _take_secret(request: HttpRequest, subscription: WebhookSubscription) -> str:
    """The secret to show on this response, once; it leaves the session as it is read."""
    kept = request.session.get(NEW_SECRET_KEY)
    if not isinstance(kept, dict) or kept.get("id") != subscription.pk:
        return ""
    del request.session[NEW_SECRET_KEY]
    return str(kept.get("secret", ""))


# Subscriptions -----------------------------------------------------------------------------------


@permission_required_page(WEBHOOKS_MANAGE)
def subscription_list(request: HttpRequest) -> HttpResponse:
    subscriptions = list(selectors.subscription_list(actor=actor_from_request(request)))
    return render(request, "webhooks/pages/subscription_list.html", {"subscriptions": subscriptions})


def _save(
    request: HttpRequest, form: SubscriptionForm, subscription: WebhookSubscription | None
) -> WebhookSubscription | None:
    """Parse the form and call the service; errors land on the form. The saved subscription, or None."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    actor = actor_from_request(request)
    saved: WebhookSubscription
    try:
        if subscription is None:
            saved, secret = services.subscription_create(
                actor=actor,
                name=data["name"],
                url=data["url"],
                event_types=form.chosen_event_types(),
                description=data.get("description") or "",
                is_active=data.get("is_active", False),
            )
            _keep_secret_for_display(request, saved, secret)
        else:
            saved = services.subscription_update(
                actor=actor,
                subscription=subscription,
                name=data["name"],
                url=data["url"],
                event_types=form.chosen_event_types(),
                description=data.get("description") or "",
                is_active=data.get("is_active", False),
                version=data.get("version"),
            )
    except ValidationFailed as exc:
        add_domain_errors(form, exc)
        return None
    except Conflict as exc:  # someone else saved it meanwhile
        form.add_error(None, exc.message)
        return None
    messages.success(request, _("Webhook “%(name)s” saved.") % {"name": saved.name})
    return saved


@permission_required_page(WEBHOOKS_MANAGE)
@require_http_methods(["GET", "POST"])
def subscription_create(request: HttpRequest) -> HttpResponse:
    posted = request.POST if request.method == "POST" else None
    form = SubscriptionForm(posted, initial={"is_active": True})
    if posted is not None:
        saved = _save(request, form, None)
        if saved is not None:
            return redirect("webhooks:subscription_detail", subscription_id=saved.pk)
    context = {"form": form, "subscription": None}
    return render_form_page(request, "webhooks/pages/subscription_form.html", context, form=form)


@permission_required_page(WEBHOOKS_MANAGE)
@require_http_methods(["GET", "POST"])
def subscription_edit(request: HttpRequest, subscription_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    subscription = selectors.subscription_get(actor=actor, subscription_id=subscription_id)
    posted = request.POST if request.method == "POST" else None
    form = SubscriptionForm(posted, initial=SubscriptionForm.initial_for(subscription))
    if posted is not None:
        saved = _save(request, form, subscription)
        if saved is not None:
            return redirect("webhooks:subscription_detail", subscription_id=saved.pk)
    context = {
        "form": form,
        "subscription": subscription,
        "history": selectors.subscription_history(actor=actor, subscription=subscription),
    }
    return render_form_page(request, "webhooks/pages/subscription_form.html", context, form=form)


@permission_required_page(WEBHOOKS_MANAGE)
def subscription_detail(request: HttpRequest, subscription_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    subscription = selectors.subscription_get(actor=actor, subscription_id=subscription_id)
    secret = _take_secret(request, subscription)
    events = [{"name": name, "label": selectors.event_label(name)} for name in subscription.event_types if name != "*"]
    context = {
        "subscription": subscription,
        "secret": secret,
        "events": events,
        "deliveries": selectors.recent_deliveries(actor=actor, subscription=subscription),
        "tolerance": DEFAULT_TOLERANCE,
    }
    response = render(request, "webhooks/pages/subscription_detail.html", context)
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@permission_required_page(WEBHOOKS_MANAGE)
@require_POST
def subscription_rotate_secret(request: HttpRequest, subscription_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    subscription = selectors.subscription_get(actor=actor, subscription_id=subscription_id)
    subscription, secret = services.subscription_rotate_secret(actor=actor, subscription=subscription)
    _keep_secret_for_display(request, subscription, secret)
    messages.success(request, _("A new secret was made. Give it to the receiver: the old one no longer works."))
    return redirect("webhooks:subscription_detail", subscription_id=subscription.pk)


@permission_required_page(WEBHOOKS_MANAGE)
@require_POST
def subscription_ping(request: HttpRequest, subscription_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    subscription = selectors.subscription_get(actor=actor, subscription_id=subscription_id)
    delivery = services.subscription_ping(actor=actor, subscription=subscription)
    messages.success(request, _("Test ping sent."))
    return redirect("webhooks:delivery_detail", delivery_id=delivery.pk)


@permission_required_page(WEBHOOKS_MANAGE)
@require_POST
def subscription_delete(request: HttpRequest, subscription_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    subscription = selectors.subscription_get(actor=actor, subscription_id=subscription_id)
    name = subscription.name
    services.subscription_delete(actor=actor, subscription=subscription)
    messages.success(request, _("Webhook “%(name)s” deleted.") % {"name": name})
    return redirect("webhooks:subscription_list")


# Deliveries --------------------------------------------------------------------------------------


@permission_required_page(WEBHOOKS_MANAGE)
def delivery_list(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    form = DeliveryFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "subscription_id": data["subscription"].pk if data.get("subscription") else None,
            "status": data.get("status") or "",
            "event": (data.get("event") or "").strip(),
        }
    deliveries = selectors.delivery_list(actor=actor, **filters)
    page = keyset_paginate(deliveries, sort="-id", cursor=request.GET.get("cursor"), page_size=DELIVERIES_PER_PAGE)
    context = {
        "form": form,
        "page": page,
        "next_url": next_page_url(request, page.next_cursor),
        "event_names": event_name_suggestions(),
    }
    return render_form_page(request, "webhooks/pages/delivery_list.html", context, form=form)


@permission_required_page(WEBHOOKS_MANAGE)
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """A delivery with its request and every attempt; while it is open, htmx refreshes its state."""
    delivery = selectors.delivery_get(actor=actor_from_request(request), delivery_id=delivery_id)
    attempts = list(delivery.attempt_log.all())
    context = {
        "delivery": delivery,
        "attempts": attempts,
        "last_attempt": attempts[-1] if attempts else None,
        "redeliveries": list(delivery.redeliveries.all()),
        "request_body": delivery_request_body(delivery).decode("utf-8"),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "webhooks/partials/delivery_state.html", context)
    return render(request, "webhooks/pages/delivery_detail.html", context)


@permission_required_page(WEBHOOKS_MANAGE)
@require_POST
def delivery_redeliver(request: HttpRequest, delivery_id: int) -> HttpResponse:
    actor = actor_from_request(request)
    original = selectors.delivery_get(actor=actor, delivery_id=delivery_id)
    delivery = services.delivery_redeliver(actor=actor, delivery=original)
    messages.success(request, _("Delivery #%(id)s sent again as #%(new)s.") % {"id": original.pk, "new": delivery.pk})
    return redirect("webhooks:delivery_detail", delivery_id=delivery.pk)

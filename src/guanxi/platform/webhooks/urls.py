"""URLs of the webhook settings pages."""

from django.urls import path

from guanxi.platform.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("settings/webhooks/", views.subscription_list, name="subscription_list"),
    path("settings/webhooks/new/", views.subscription_create, name="subscription_create"),
    path("settings/webhooks/<int:subscription_id>/", views.subscription_detail, name="subscription_detail"),
    path("settings/webhooks/<int:subscription_id>/edit/", views.subscription_edit, name="subscription_edit"),
    path(
        "settings/webhooks/<int:subscription_id>/rotate-secret/",
        views.subscription_rotate_secret,
        name="subscription_rotate_secret",
    ),
    path("settings/webhooks/<int:subscription_id>/ping/", views.subscription_ping, name="subscription_ping"),
    path("settings/webhooks/<int:subscription_id>/delete/", views.subscription_delete, name="subscription_delete"),
    path("settings/webhooks/deliveries/", views.delivery_list, name="delivery_list"),
    path("settings/webhooks/deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery_detail"),
    path(
        "settings/webhooks/deliveries/<int:delivery_id>/redeliver/",
        views.delivery_redeliver,
        name="delivery_redeliver",
    ),
]

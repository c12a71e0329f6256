"""URLs of the notifications pages, the bell's badge and panel, and the notification settings."""

from django.urls import path

from guanxi.platform.notifications import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notifications_page, name="list"),
    path("notifications/badge/", views.badge, name="badge"),
    path("notifications/panel/", views.panel, name="panel"),
    path("notifications/read/", views.mark_all_read, name="mark_all_read"),
    path("notifications/settings/", views.preferences, name="preferences"),
    path("notifications/<int:notification_id>/open/", views.open_notification, name="open"),
    path("notifications/<int:notification_id>/read/", views.mark_read, name="mark_read"),
]

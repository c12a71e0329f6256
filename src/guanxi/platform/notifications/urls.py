from django.urls import path

from guanxi.platform.notifications import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notifications_page, name="list"),
    path("notifications/badge/", views.badge, name="badge"),
    path("notifications/read/", views.mark_all_read, name="mark_all_read"),
]

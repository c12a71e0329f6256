"""URLs of the audit pages: the access log."""

from django.urls import path

from guanxi.platform.audit import views

app_name = "audit"

urlpatterns = [
    path("settings/access-log/", views.access_log, name="access_log"),
]

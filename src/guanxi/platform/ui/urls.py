"""URLs of the shell: login, logout, workbench, preferences, search page."""

from django.contrib.auth import views as auth_views
from django.urls import path

from guanxi.platform.ui import views

app_name = "ui"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("preferences/", views.preferences, name="preferences"),
    path("language/", views.language_switch, name="language_switch"),
    path("", views.workbench, name="workbench"),
]

"""URLs of the settings pages for users, teams, roles and API tokens."""

from django.urls import path

from guanxi.platform.identity.web import views

app_name = "identity"

urlpatterns = [
    path("settings/tokens/", views.token_list, name="token_list"),
]

"""URLs of the settings pages for users, teams, roles and API tokens."""

from django.urls import path

from guanxi.platform.identity.web import views

app_name = "identity"

urlpatterns = [
    path("settings/users/", views.user_list, name="user_list"),
    path("settings/users/new/", views.user_create, name="user_create"),
    path("settings/users/<int:user_id>/", views.user_edit, name="user_edit"),
    path("settings/users/<int:user_id>/password/", views.user_password, name="user_password"),
    path("settings/teams/", views.team_list, name="team_list"),
    path("settings/teams/new/", views.team_create, name="team_create"),
    path("settings/teams/<int:team_id>/", views.team_edit, name="team_edit"),
    path("settings/teams/<int:team_id>/delete/", views.team_delete, name="team_delete"),
    path("settings/roles/", views.role_list, name="role_list"),
    path("settings/roles/new/", views.role_create, name="role_create"),
    path("settings/roles/<int:role_id>/", views.role_edit, name="role_edit"),
    path("settings/tokens/", views.token_list, name="token_list"),
    path("settings/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]

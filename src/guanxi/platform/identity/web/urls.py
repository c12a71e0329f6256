"""URLs of the settings pages for users, teams, roles and API tokens, and of two-factor authentication."""

from django.urls import path

from guanxi.platform.identity.web import two_factor, views

app_name = "identity"

urlpatterns = [
    path("settings/users/", views.user_list, name="user_list"),
    path("settings/users/new/", views.user_create, name="user_create"),
    path("settings/users/<int:user_id>/", views.user_edit, name="user_edit"),
    path("settings/users/<int:user_id>/password/", views.user_password, name="user_password"),
    path(
        "settings/users/<int:user_id>/two-factor/reset/",
        two_factor.user_two_factor_reset,
        name="user_two_factor_reset",
    ),
    path("settings/teams/", views.team_list, name="team_list"),
    path("settings/teams/new/", views.team_create, name="team_create"),
    path("settings/teams/<int:team_id>/", views.team_edit, name="team_edit"),
    path("settings/teams/<int:team_id>/delete/", views.team_delete, name="team_delete"),
    path("settings/roles/", views.role_list, name="role_list"),
    path("settings/roles/new/", views.role_create, name="role_create"),
    path("settings/roles/<int:role_id>/", views.role_edit, name="role_edit"),
    path("settings/tokens/", views.token_list, name="token_list"),
    path("settings/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("account/two-factor/", two_factor.two_factor_page, name="two_factor"),
    path("account/two-factor/setup/", two_factor.two_factor_setup, name="two_factor_setup"),
    path("account/two-factor/disable/", two_factor.two_factor_disable, name="two_factor_disable"),
    path("account/two-factor/recovery-codes/", two_factor.two_factor_recovery_codes, name="two_factor_recovery_codes"),
    path("login/verify/", two_factor.two_factor_verify, name="two_factor_verify"),
]

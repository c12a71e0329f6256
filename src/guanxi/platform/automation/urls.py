"""URLs of the workflow rule settings pages."""

from django.urls import URLPattern, URLResolver, path

from guanxi.platform.automation import views

app_name = "automation"

urlpatterns: list[URLPattern | URLResolver] = [
    path("settings/rules/", views.rule_list, name="rule_list"),
    path("settings/rules/new/", views.rule_create, name="rule_create"),
    path("settings/rules/records/", views.record_options, name="record_options"),
    path("settings/rules/runs/", views.run_list, name="run_list"),
    path("settings/rules/<int:rule_id>/", views.rule_edit, name="rule_edit"),
    path("settings/rules/<int:rule_id>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("settings/rules/<int:rule_id>/delete/", views.rule_delete, name="rule_delete"),
    path("settings/rules/<int:rule_id>/runs/", views.run_list, name="rule_runs"),
]

"""URLs of the custom field settings pages."""

from django.urls import path

from guanxi.platform.customfields import views

app_name = "customfields"

urlpatterns = [
    path("settings/custom-fields/", views.definition_list, name="definition_list"),
    path("settings/custom-fields/new/", views.definition_create, name="definition_create"),
    path("settings/custom-fields/<int:definition_id>/", views.definition_edit, name="definition_edit"),
]

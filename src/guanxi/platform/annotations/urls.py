"""URLs of the annotation panels (loaded by record pages with htmx), file downloads and the tags settings page."""

from django.urls import path

from guanxi.platform.annotations import views

app_name = "annotations"

urlpatterns = [
    path("annotations/tags/", views.tags_panel, name="tags_panel"),
    path("annotations/notes/", views.notes_panel, name="notes_panel"),
    path("annotations/attachments/", views.attachments_panel, name="attachments_panel"),
    path(
        "annotations/attachments/<int:attachment_id>/download/", views.attachment_download, name="attachment_download"
    ),
    path("settings/tags/", views.tag_list, name="tag_list"),
    path("settings/tags/<int:tag_id>/", views.tag_edit, name="tag_edit"),
    path("settings/tags/<int:tag_id>/delete/", views.tag_delete, name="tag_delete"),
]

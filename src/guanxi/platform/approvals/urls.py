"""URLs of the approval pages: the inbox, one request and its actions, a record's panel, process settings."""

from django.urls import URLPattern, URLResolver, path

from guanxi.platform.approvals import views

app_name = "approvals"

urlpatterns: list[URLPattern | URLResolver] = [
    path("approvals/", views.inbox, name="inbox"),
    path("approvals/panel/", views.record_panel, name="record_panel"),
    path("approvals/<int:request_id>/", views.request_detail, name="request_detail"),
    path("approvals/<int:request_id>/decide/", views.request_decide, name="request_decide"),
    path("approvals/<int:request_id>/cancel/", views.request_cancel, name="request_cancel"),
    path("approvals/<int:request_id>/resubmit/", views.request_resubmit, name="request_resubmit"),
    path("approvals/<int:request_id>/comment/", views.request_comment, name="request_comment"),
    path("settings/approval-processes/", views.process_list, name="process_list"),
    path("settings/approval-processes/new/", views.process_create, name="process_create"),
    path("settings/approval-processes/<int:process_id>/", views.process_edit, name="process_edit"),
    path("settings/approval-processes/<int:process_id>/delete/", views.process_delete, name="process_delete"),
]

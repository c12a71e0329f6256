"""Pages of the channels app: the message log, templates, the contact policy, the public unsubscribe page and
the delivery-report webhooks of the SMS providers."""

from django.urls import URLPattern, URLResolver, path

from guanxi.platform.channels import callbacks, views

app_name = "channels"

urlpatterns: list[URLPattern | URLResolver] = [
    path("messages/", views.message_list, name="message_list"),
    path("messages/new/", views.message_compose, name="message_compose"),
    path("messages/panel/", views.record_panel, name="record_panel"),
    path("messages/<int:message_id>/", views.message_detail, name="message_detail"),
    path("messages/<int:message_id>/retry/", views.message_retry, name="message_retry"),
    path("settings/message-templates/", views.template_list, name="template_list"),
    path("settings/message-templates/new/", views.template_create, name="template_create"),
    path("settings/message-templates/preview/", views.template_preview, name="template_preview"),
    path("settings/message-templates/<int:template_id>/", views.template_edit, name="template_edit"),
    path("settings/message-templates/<int:template_id>/delete/", views.template_delete, name="template_delete"),
    path("settings/contact-policy/", views.policy, name="policy"),
    path("settings/contact-policy/blocked/", views.suppression_create, name="suppression_create"),
    path(
        "settings/contact-policy/blocked/<int:suppression_id>/delete/",
        views.suppression_delete,
        name="suppression_delete",
    ),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("unsubscribe/<str:token>/one-click/", views.unsubscribe_one_click, name="unsubscribe_one_click"),
    path("hooks/channels/aliyun-sms/<str:secret>/", callbacks.aliyun_sms_report, name="aliyun_sms_report"),
    path("hooks/channels/tencent-sms/<str:secret>/", callbacks.tencent_sms_report, name="tencent_sms_report"),
]

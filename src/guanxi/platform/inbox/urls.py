"""URLs of the inbox pages and of the providers' inbound webhooks."""

from django.urls import URLPattern, URLResolver, path

from guanxi.platform.inbox import hooks, views

app_name = "inbox"

urlpatterns: list[URLPattern | URLResolver] = [
    path("inbox/", views.message_list, name="message_list"),
    path("inbox/<int:inbound_message_id>/", views.message_detail, name="message_detail"),
    path("inbox/<int:inbound_message_id>/assign/", views.message_assign, name="message_assign"),
    path("inbox/<int:inbound_message_id>/create-lead/", views.message_create_lead, name="message_create_lead"),
    path("inbox/<int:inbound_message_id>/retry/", views.message_retry, name="message_retry"),
    path("inbox/<int:inbound_message_id>/find/", views.record_search, name="record_search"),
    path("hooks/inbound/email/", hooks.email_webhook, name="email_webhook"),
    path("hooks/inbound/sms/aliyun/<str:token>/", hooks.aliyun_sms_webhook, name="aliyun_sms_webhook"),
    path("hooks/inbound/sms/tencent/<str:token>/", hooks.tencent_sms_webhook, name="tencent_sms_webhook"),
    path("hooks/inbound/wechat/", hooks.wechat_webhook, name="wechat_webhook"),
]

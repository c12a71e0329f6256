"""URL configuration: the web UI and the API at /api/v1/.

Media files (attachments) are never served by URL: downloads go through a view that checks visibility.
"""

from django.urls import URLPattern, URLResolver, include, path

from guanxi.config.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("guanxi.customers.web.urls")),
    path("", include("guanxi.platform.identity.web.urls")),
    path("", include("guanxi.platform.customfields.urls")),
    path("", include("guanxi.platform.annotations.urls")),
    path("", include("guanxi.platform.audit.urls")),
    path("", include("guanxi.platform.search.urls")),
    path("", include("guanxi.platform.notifications.urls")),
    path("", include("guanxi.platform.channels.urls")),
    path("", include("guanxi.platform.inbox.urls")),
    path("", include("guanxi.platform.webhooks.urls")),
    path("", include("guanxi.platform.approvals.urls")),
    path("", include("guanxi.platform.automation.urls")),
    path("", include("guanxi.platform.ui.urls")),
]

"""URL configuration: the web UI, the API at /api/v1/ and the Django admin."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from guanxi.config.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("guanxi.customers.web.urls")),
    path("", include("guanxi.platform.identity.web.urls")),
    path("", include("guanxi.platform.search.urls")),
    path("", include("guanxi.platform.notifications.urls")),
    path("", include("guanxi.platform.ui.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "guanxi.platform.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from guanxi.platform.core.jobs import register_periodic
        from guanxi.platform.identity.permissions import register_area
        from guanxi.platform.notifications import scopes
        from guanxi.platform.notifications.tasks import send_daily_digests

        register_area(scopes.AREA, scopes.AREA_LABEL)
        # Hourly, a few minutes past the hour: each user's digest goes at their hour in their time zone.
        register_periodic(send_daily_digests, name="notifications.daily_digest", minute="5", hour="*")

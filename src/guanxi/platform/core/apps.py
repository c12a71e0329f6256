from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "guanxi.platform.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from guanxi.platform.core.lookups import register_lookups

        register_lookups()

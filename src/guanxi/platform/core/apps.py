from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "guanxi.platform.core"
    label = "core"
    verbose_name = "Core"

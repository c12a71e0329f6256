from django.apps import AppConfig


class BackupConfig(AppConfig):
    name = "guanxi.platform.backup"
    label = "backup"
    verbose_name = "Backup"

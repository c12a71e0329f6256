"""Development settings: the embedded SQLite database under var/, DEBUG on unless told otherwise."""

from guanxi.config.settings.base import *  # noqa: F403
from guanxi.config.settings.environment import env_bool

DEBUG = env_bool("DEBUG", True)
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_AUTOREFRESH = True  # serve static files straight from the apps; no collectstatic in development

# Webhooks may call receivers on this machine or the local network while developing.
GUANXI_WEBHOOKS_ALLOW_PRIVATE_HOSTS = env_bool("GUANXI_WEBHOOKS_ALLOW_PRIVATE_HOSTS", True)

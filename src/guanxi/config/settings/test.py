"""Test settings: GUANXI_TEST_DATABASE_URL picks PostgreSQL, otherwise SQLite; tasks run inline."""

import os

from guanxi.config.settings.base import *  # noqa: F403
from guanxi.config.settings.base import database_from_url

_test_url = os.environ.get("GUANXI_TEST_DATABASE_URL", "sqlite:///:memory:")
DATABASES = {"default": database_from_url(_test_url)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": ""}
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
GUANXI_HUEY = {**GUANXI_HUEY, "immediate": True}  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "en"
WHITENOISE_AUTOREFRESH = True  # serve from the finders; there is no collected STATIC_ROOT in tests
LOGGING = {"version": 1, "disable_existing_loggers": False}

# Webhook tests deliver to servers on 127.0.0.1 (the SSRF tests turn this off).
GUANXI_WEBHOOKS_ALLOW_PRIVATE_HOSTS = True

# --- Outbound messages (platform/channels): in-memory backends; unsubscribe links point at the test server.
GUANXI_CHANNELS = {
    **GUANXI_CHANNELS,  # noqa: F405
    "public_url": "http://testserver",
    "callback_token": "test-callback-token",
    "email": {"BACKEND": "guanxi.platform.channels.backends.memory.MemoryBackend", "OPTIONS": {}},
    "sms": {"BACKEND": "guanxi.platform.channels.backends.memory.MemoryBackend", "OPTIONS": {}},
    "wechat": {"BACKEND": "guanxi.platform.channels.backends.memory.MemoryBackend", "OPTIONS": {}},
}

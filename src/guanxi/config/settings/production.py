"""Production settings: every secret from the environment, HTTPS only; passes check --deploy."""

import os

from django.core.exceptions import ImproperlyConfigured

from guanxi.config.settings.base import *  # noqa: F403
from guanxi.config.settings.environment import env_bool, env_int

DEBUG = env_bool("DEBUG", False)
if not os.environ.get("SECRET_KEY"):
    raise ImproperlyConfigured("SECRET_KEY must be set in the environment in production.")
if not os.environ.get("GUANXI_PII_KEY"):
    raise ImproperlyConfigured("GUANXI_PII_KEY must be set in production (it encrypts ID numbers; never change it).")

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Administrators must set up two-factor authentication unless the operator explicitly turns it off.
GUANXI_REQUIRE_2FA_FOR_ADMINS = env_bool("GUANXI_REQUIRE_2FA_FOR_ADMINS", True)
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")

# Webhooks: https only, public addresses only, unless the operator says otherwise (docs/user-guide/webhooks.md).
GUANXI_WEBHOOKS_ALLOW_HTTP = env_bool("GUANXI_WEBHOOKS_ALLOW_HTTP", False)
GUANXI_WEBHOOKS_ALLOW_PRIVATE_HOSTS = env_bool("GUANXI_WEBHOOKS_ALLOW_PRIVATE_HOSTS", False)

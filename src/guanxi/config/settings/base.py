"""Settings shared by every environment; everything that varies comes from the environment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

from guanxi.config.settings.environment import (
    PROJECT_DIR,
    VAR_DIR,
    development_secret_key,
    env_bool,
    env_int,
    env_list,
    env_str,
)

SRC_DIR = Path(__file__).resolve().parents[2]

SECRET_KEY = development_secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_htmx",
    "template_partials",
    "simple_history",
    "django_tasks",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "guanxi.platform.core",
    "guanxi.platform.identity",
    "guanxi.platform.audit",
    "guanxi.platform.customfields",
    "guanxi.platform.annotations",
    "guanxi.platform.search",
    "guanxi.platform.notifications",
    "guanxi.platform.channels",
    "guanxi.platform.inbox",
    "guanxi.platform.webhooks",
    "guanxi.platform.approvals",
    "guanxi.platform.automation",
    "guanxi.platform.ui",
    "guanxi.platform.backup",
    "guanxi.customers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "guanxi.platform.identity.session_security.SessionIdleMiddleware",
    "guanxi.platform.identity.session_security.TwoFactorGateMiddleware",
    "guanxi.platform.identity.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "guanxi.platform.ui.middleware.DomainErrorMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires: turns a lock-out into the login page
]

ROOT_URLCONF = "guanxi.config.urls"
WSGI_APPLICATION = "guanxi.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "guanxi.platform.ui.context_processors.navigation",
                "guanxi.platform.ui.context_processors.csp_nonce",
            ],
        },
    }
]

DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'guanxi.sqlite3'}"


def database_from_url(url: str) -> dict[str, Any]:
    """Build a DATABASES entry; SQLite gets WAL, a busy timeout and IMMEDIATE transactions."""
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60)))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
    else:
        # Persistent connections (DB_CONN_MAX_AGE seconds), checked before reuse so a restarted server
        # costs one failed check instead of one failed request.
        config["CONN_HEALTH_CHECKS"] = True
        options = config.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 10))
        session_settings = []
        statement_timeout_ms = env_int("DB_STATEMENT_TIMEOUT_MS", 0)  # 0: no limit
        if statement_timeout_ms > 0:
            session_settings.append(f"-c statement_timeout={statement_timeout_ms}")
        # Parallel query helps big reports but hurts page latency: starting workers costs 50-100 ms on a
        # busy 2-core server, far more than the indexed queries of a page (docs/performance.md).
        # DB_PARALLEL_WORKERS=-1 leaves the server's own setting.
        parallel_workers = env_int("DB_PARALLEL_WORKERS", 0)
        if parallel_workers >= 0:
            session_settings.append(f"-c max_parallel_workers_per_gather={parallel_workers}")
        if session_settings:
            extra = " ".join(session_settings)
            options["options"] = f"{options['options']} {extra}" if options.get("options") else extra
    return config


DATABASES = {"default": database_from_url(env_str("DATABASE_URL", DEFAULT_DATABASE_URL))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "identity.User"
LOGIN_URL = "ui:login"
LOGIN_REDIRECT_URL = "ui:workbench"
LOGOUT_REDIRECT_URL = "ui:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [SRC_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": env_str("GUANXI_FILE_STORAGE", "django.core.files.storage.FileSystemStorage")},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
GUANXI_ATTACHMENT_MAX_BYTES = env_int("GUANXI_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions end after GUANXI_SESSION_IDLE_SECONDS without activity and GUANXI_SESSION_MAX_SECONDS after
# signing in, whatever the activity (platform/identity/session_security.py). See docs/security.md.
GUANXI_SESSION_IDLE_SECONDS = env_int("GUANXI_SESSION_IDLE_SECONDS", 8 * 3600)
GUANXI_SESSION_MAX_SECONDS = env_int("GUANXI_SESSION_MAX_SECONDS", 12 * 3600)
SESSION_COOKIE_AGE = GUANXI_SESSION_IDLE_SECONDS
SESSION_SAVE_EVERY_REQUEST = False  # the idle middleware refreshes the session at most once a minute
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # no script reads the cookie: pages hand the token to htmx and the API docs in the HTML
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Authentication: django-axes locks a user name on one IP address out after repeated failures.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("GUANXI_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("GUANXI_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "guanxi.platform.identity.login_protection.attempted_username"
AXES_CLIENT_IP_CALLABLE = "guanxi.platform.identity.login_protection.client_ip"
AXES_LOCKOUT_CALLABLE = "guanxi.platform.identity.login_protection.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["password", "code"]
AXES_VERBOSE = False  # axes would log user names and IP addresses of every sign-in: personal data in logs
# How many reverse proxies in front of the app add themselves to X-Forwarded-For (0: trust REMOTE_ADDR only).
GUANXI_TRUSTED_PROXY_COUNT = env_int("GUANXI_TRUSTED_PROXY_COUNT", 0)

# Two-factor authentication (TOTP apps and one-time recovery codes, django-otp).
GUANXI_REQUIRE_2FA_FOR_ADMINS = env_bool("GUANXI_REQUIRE_2FA_FOR_ADMINS", False)
GUANXI_2FA_MAX_ATTEMPTS = env_int("GUANXI_2FA_MAX_ATTEMPTS", 5)
OTP_TOTP_ISSUER = env_str("GUANXI_2FA_ISSUER", "guanxi")

# Content-Security-Policy: scripts only from this server or with the per-response nonce; no inline styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Background work: the Django tasks API, executed by huey (SQLite file by default, Redis when set).
TASKS = {"default": {"BACKEND": "guanxi.platform.core.jobs.HueyTaskBackend"}}
GUANXI_HUEY = {
    "name": "guanxi",
    "redis_url": REDIS_URL,
    "sqlite_path": str(VAR_DIR / "huey.sqlite3"),
    "immediate": False,
}

# Backups (`guanxi backup`): the directory of pg_dump/pg_restore when they are not the right ones on PATH.
GUANXI_PG_BIN = env_str("GUANXI_PG_BIN", "")

# Outbound webhooks (platform/webhooks, docs/user-guide/webhooks.md).
# Private hosts: whether subscriptions may call loopback, private, link-local or reserved addresses (SSRF guard;
# true in dev and test settings). Plain http: allowed here, refused in production unless GUANXI_WEBHOOKS_ALLOW_HTTP.
GUANXI_WEBHOOKS_ALLOW_PRIVATE_HOSTS = env_bool("GUANXI_WEBHOOKS_ALLOW_PRIVATE_HOSTS", False)
GUANXI_WEBHOOKS_ALLOW_HTTP = env_bool("GUANXI_WEBHOOKS_ALLOW_HTTP", True)
GUANXI_WEBHOOKS_CONNECT_TIMEOUT = env_int("GUANXI_WEBHOOKS_CONNECT_TIMEOUT", 5)  # seconds
GUANXI_WEBHOOKS_TIMEOUT = env_int("GUANXI_WEBHOOKS_TIMEOUT", 10)  # seconds for a whole attempt
GUANXI_WEBHOOKS_MAX_ATTEMPTS = env_int("GUANXI_WEBHOOKS_MAX_ATTEMPTS", 8)  # then the delivery has failed
GUANXI_WEBHOOKS_RETRY_BASE_SECONDS = env_int("GUANXI_WEBHOOKS_RETRY_BASE_SECONDS", 60)  # waits 1, 2, 4, 8... min
GUANXI_WEBHOOKS_DISABLE_AFTER_FAILURES = env_int("GUANXI_WEBHOOKS_DISABLE_AFTER_FAILURES", 5)  # failed deliveries

# Inbound messages (platform/inbox, docs/user-guide/inbox.md). Every secret comes from the environment; an
# unset secret or token keeps that front door closed (403). Email webhook: HMAC-SHA256 of the raw body under
# GUANXI_INBOX_EMAIL_SECRET in X-Guanxi-Signature. Aliyun and Tencent Cloud sign no SMS push, so their URLs
# carry a shared token. WeChat Official Account: the server token set in the WeChat console.
GUANXI_INBOX_EMAIL_SECRET = env_str("GUANXI_INBOX_EMAIL_SECRET", "")
GUANXI_INBOX_EMAIL_MAX_BYTES = env_int("GUANXI_INBOX_EMAIL_MAX_BYTES", 10 * 1024 * 1024)
GUANXI_INBOX_ALIYUN_SMS_TOKEN = env_str("GUANXI_INBOX_ALIYUN_SMS_TOKEN", "")
GUANXI_INBOX_TENCENT_SMS_TOKEN = env_str("GUANXI_INBOX_TENCENT_SMS_TOKEN", "")
GUANXI_INBOX_WECHAT_TOKEN = env_str("GUANXI_INBOX_WECHAT_TOKEN", "")
# IMAP polling (the inbox.imap_poll job, every two minutes) runs when a host and user are set.
GUANXI_INBOX_IMAP = {
    "host": env_str("GUANXI_INBOX_IMAP_HOST", ""),
    "port": env_int("GUANXI_INBOX_IMAP_PORT", 0),  # 0: 993 with TLS, 143 without
    "username": env_str("GUANXI_INBOX_IMAP_USER", ""),
    "password": env_str("GUANXI_INBOX_IMAP_PASSWORD", ""),
    "folder": env_str("GUANXI_INBOX_IMAP_FOLDER", "INBOX"),
    "ssl": env_bool("GUANXI_INBOX_IMAP_SSL", True),
    "client_factory": "",  # dotted path of a factory(settings) -> IMAP client; empty: imaplib
}
# Unknown senders become leads (source "other"), owned by this user (user name or email) when set.
GUANXI_INBOX_CREATE_LEADS = env_bool("GUANXI_INBOX_CREATE_LEADS", True)
GUANXI_INBOX_LEAD_OWNER = env_str("GUANXI_INBOX_LEAD_OWNER", "")

# Keyed hash and encryption of personal identifiers (ID numbers); derived from SECRET_KEY unless set.
GUANXI_PII_KEY = env_str("GUANXI_PII_KEY", "")

GUANXI_DEFAULT_PHONE_REGION = env_str("GUANXI_DEFAULT_PHONE_REGION", "CN")
GUANXI_DEFAULT_CURRENCY = env_str("GUANXI_DEFAULT_CURRENCY", "CNY")

# The address people open guanxi at; emails (notifications, the daily digest) link to pages under it.
GUANXI_BASE_URL = env_str("GUANXI_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # axes logs the user name and IP address of every sign-in at INFO: personal data stays out of logs.
        "axes": {"level": "WARNING"},
    },
}

ADMINS_SITE_HEADER = _("guanxi administration")
GUANXI_PROJECT_DIR = PROJECT_DIR

# --- Outbound messages (platform/channels) -----------------------------------------------------------------
# One delivery backend per channel. Backends in guanxi.platform.channels.backends: console.ConsoleBackend,
# memory.MemoryBackend (tests), smtp.SmtpBackend, aliyun_sms.AliyunSmsBackend, tencent_sms.TencentSmsBackend,
# wecom.WeComBackend (企业微信 app messages), wechat_mp.WeChatTemplateBackend (公众号 template messages).
# Email goes through SMTP once GUANXI_SMTP_HOST is set (its own server settings, not Django's EMAIL_*).
# public_url: where unsubscribe links point. callback_token: the secret path segment of the SMS delivery-report
# webhooks (/hooks/channels/aliyun-sms/<token>/, /hooks/channels/tencent-sms/<token>/); empty turns them off.
_CHANNEL_BACKENDS = "guanxi.platform.channels.backends"
GUANXI_CHANNELS = {
    "public_url": env_str("GUANXI_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
    "max_attempts": env_int("GUANXI_MESSAGE_MAX_ATTEMPTS", 5),
    "retry_base_seconds": env_int("GUANXI_MESSAGE_RETRY_BASE_SECONDS", 60),
    "retry_max_seconds": env_int("GUANXI_MESSAGE_RETRY_MAX_SECONDS", 6 * 3600),
    "callback_token": env_str("GUANXI_CHANNELS_CALLBACK_TOKEN", ""),
    "email": {
        "BACKEND": env_str(
            "GUANXI_EMAIL_CHANNEL_BACKEND",
            f"{_CHANNEL_BACKENDS}.smtp.SmtpBackend"
            if env_str("GUANXI_SMTP_HOST", "")
            else f"{_CHANNEL_BACKENDS}.console.ConsoleBackend",
        ),
        "OPTIONS": {
            "host": env_str("GUANXI_SMTP_HOST", ""),
            "port": env_int("GUANXI_SMTP_PORT", 587),
            "username": env_str("GUANXI_SMTP_USER", ""),
            "password": env_str("GUANXI_SMTP_PASSWORD", ""),
            "use_tls": env_bool("GUANXI_SMTP_USE_TLS", True),
            "use_ssl": env_bool("GUANXI_SMTP_USE_SSL", False),
            "timeout": env_int("GUANXI_SMTP_TIMEOUT", 20),
            "from_email": env_str("GUANXI_MESSAGE_FROM_EMAIL", "guanxi <noreply@localhost>"),
        },
    },
    "sms": {
        "BACKEND": env_str("GUANXI_SMS_BACKEND", f"{_CHANNEL_BACKENDS}.console.ConsoleBackend"),
        "OPTIONS": {
            # Aliyun: access_key_id/secret; Tencent Cloud: secret_id/key and sdk_app_id. Both: sign_name.
            "access_key_id": env_str("GUANXI_SMS_ACCESS_KEY_ID", ""),
            "access_key_secret": env_str("GUANXI_SMS_ACCESS_KEY_SECRET", ""),
            "secret_id": env_str("GUANXI_SMS_SECRET_ID", ""),
            "secret_key": env_str("GUANXI_SMS_SECRET_KEY", ""),
            "sdk_app_id": env_str("GUANXI_SMS_SDK_APP_ID", ""),
            "sign_name": env_str("GUANXI_SMS_SIGN_NAME", ""),
            "region": env_str("GUANXI_SMS_REGION", ""),
            "default_template_code": env_str("GUANXI_SMS_DEFAULT_TEMPLATE", ""),
            "default_template_id": env_str("GUANXI_SMS_DEFAULT_TEMPLATE", ""),
            "default_template_param": env_str("GUANXI_SMS_DEFAULT_TEMPLATE_PARAM", "content"),
        },
    },
    "wechat": {
        "BACKEND": env_str("GUANXI_WECHAT_BACKEND", f"{_CHANNEL_BACKENDS}.console.ConsoleBackend"),
        "OPTIONS": {
            # 企业微信: corp_id, corp_secret, agent_id. 公众号: app_id, app_secret.
            "corp_id": env_str("GUANXI_WECOM_CORP_ID", ""),
            "corp_secret": env_str("GUANXI_WECOM_CORP_SECRET", ""),
            "agent_id": env_str("GUANXI_WECOM_AGENT_ID", ""),
            "app_id": env_str("GUANXI_WECHAT_APP_ID", ""),
            "app_secret": env_str("GUANXI_WECHAT_APP_SECRET", ""),
            "default_template_id": env_str("GUANXI_WECHAT_DEFAULT_TEMPLATE", ""),
            "default_template_key": env_str("GUANXI_WECHAT_DEFAULT_TEMPLATE_KEY", "content"),
        },
    },
}

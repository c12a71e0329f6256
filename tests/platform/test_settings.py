"""Settings: production settings pass `check --deploy` cleanly and refuse to start without secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run_check(env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "GUANXI_PII_KEY", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update({"DJANGO_SETTINGS_MODULE": "guanxi.config.settings.production", "DATABASE_URL": "sqlite:///:memory:"})
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = _run_check(
        {"SECRET_KEY": "k" * 20 + "-production-secret-key-with-enough-entropy-0123456789", "GUANXI_PII_KEY": "p"}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_settings_refuse_to_start_without_secret_key():
    result = _run_check({"GUANXI_PII_KEY": "p"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_refuse_to_start_without_pii_key():
    result = _run_check({"SECRET_KEY": "s" * 60})
    assert result.returncode != 0
    assert "GUANXI_PII_KEY must be set" in result.stderr


def test_development_secret_key_is_generated_once_under_var(tmp_path):
    env = {**os.environ, "GUANXI_VAR_DIR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    code = "from guanxi.config.settings.environment import development_secret_key as k; print(k())"
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert first.stdout == second.stdout
    assert len(first.stdout.strip()) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def _production_settings(names: list[str], env_overrides: dict[str, str] | None = None) -> dict[str, object]:
    """The values of `names` under the production settings, read in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUANXI_", "SECRET_KEY", "DJANGO_ALLOW"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "guanxi.config.settings.production",
            "DATABASE_URL": "sqlite:///:memory:",
            "SECRET_KEY": "s" * 60,
            "GUANXI_PII_KEY": "p",
            **(env_overrides or {}),
        }
    )
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=True
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_production_cookies_hashing_and_two_factor_settings():
    values = _production_settings(
        [
            "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY",
            "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE", "SESSION_COOKIE_AGE", "GUANXI_SESSION_IDLE_SECONDS",
            "GUANXI_REQUIRE_2FA_FOR_ADMINS", "AXES_FAILURE_LIMIT", "AXES_LOCKOUT_PARAMETERS", "PASSWORD_HASHERS",
        ]
    )  # fmt: skip
    assert values == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_AGE": 8 * 3600,
        "GUANXI_SESSION_IDLE_SECONDS": 8 * 3600,
        "GUANXI_REQUIRE_2FA_FOR_ADMINS": True,
        "AXES_FAILURE_LIMIT": 5,
        "AXES_LOCKOUT_PARAMETERS": [["username", "ip_address"]],
        "PASSWORD_HASHERS": [
            "django.contrib.auth.hashers.Argon2PasswordHasher",
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        ],
    }


def test_security_settings_are_read_from_the_environment():
    values = _production_settings(
        ["GUANXI_SESSION_IDLE_SECONDS", "SESSION_COOKIE_AGE", "GUANXI_REQUIRE_2FA_FOR_ADMINS", "AXES_FAILURE_LIMIT",
         "AXES_COOLOFF_TIME", "GUANXI_TRUSTED_PROXY_COUNT"],
        {
            "GUANXI_SESSION_IDLE_SECONDS": "1800", "GUANXI_REQUIRE_2FA_FOR_ADMINS": "false",
            "GUANXI_LOGIN_FAILURE_LIMIT": "10", "GUANXI_LOGIN_COOLOFF_MINUTES": "30", "GUANXI_TRUSTED_PROXY_COUNT": "1",
        },
    )  # fmt: skip
    assert values == {
        "GUANXI_SESSION_IDLE_SECONDS": 1800,
        "SESSION_COOKIE_AGE": 1800,
        "GUANXI_REQUIRE_2FA_FOR_ADMINS": False,
        "AXES_FAILURE_LIMIT": 10,
        "AXES_COOLOFF_TIME": "0:30:00",
        "GUANXI_TRUSTED_PROXY_COUNT": 1,
    }

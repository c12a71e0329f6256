"""Settings: production settings pass `check --deploy` cleanly and refuse to start without secrets."""

from __future__ import annotations

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

"""`guanxi serve` hands over to gunicorn; with REDIS_URL set, the worker's queue and the cache are on Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from huey import RedisHuey, SqliteHuey

from guanxi import cli
from guanxi.platform.core.jobs import get_huey, reset_huey
from guanxi.platform.core.management.commands.guanxi_worker import build_consumer

ROOT = Path(__file__).resolve().parents[3]


def test_aliases_reach_serve_backup_and_restore(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    import django.core.management as management

    monkeypatch.setattr(management, "execute_from_command_line", seen.append)
    cli.main(["serve", "--workers", "3"])
    cli.main(["backup", "--output", "/srv/backups/"])
    cli.main(["restore", "b.tar.gz", "--force"])
    assert seen == [
        ["guanxi", "guanxi_serve", "--workers", "3"],
        ["guanxi", "guanxi_backup", "--output", "/srv/backups/"],
        ["guanxi", "guanxi_restore", "b.tar.gz", "--force"],
    ]


@pytest.fixture
def execve(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str], dict[str, str]]]:
    calls: list[tuple[str, list[str], dict[str, str]]] = []
    monkeypatch.setattr(os, "execve", lambda path, args, env: calls.append((path, list(args), dict(env))))
    return calls


def test_serve_execs_gunicorn_with_the_packaged_configuration(settings: Any, execve: list[Any]) -> None:
    settings.DEBUG = False
    call_command("guanxi_serve", "--bind", "127.0.0.1:9001", "--workers", "3")
    [(path, args, env)] = execve
    assert path == sys.executable
    assert args == [sys.executable, "-m", "gunicorn", "--config", "python:guanxi.config.gunicorn"]
    assert (env["GUANXI_WEB_BIND"], env["GUANXI_WEB_WORKERS"]) == ("127.0.0.1:9001", "3")
    assert env["DJANGO_SETTINGS_MODULE"] == os.environ.get("DJANGO_SETTINGS_MODULE", "guanxi.config.settings.test")


def test_serve_print_config_asks_gunicorn_to_print_and_exit(settings: Any, execve: list[Any]) -> None:
    settings.DEBUG = False
    call_command("guanxi_serve", "--print-config")
    assert execve[0][1][-1] == "--print-config"


def test_serve_refuses_debug_mode(settings: Any, execve: list[Any]) -> None:
    settings.DEBUG = True
    with pytest.raises(CommandError, match=r"DEBUG is on .*`guanxi serve` is the production server"):
        call_command("guanxi_serve")
    assert execve == []


# --- where the worker's queue lives ----------------------------------------------------------------


def settings_in_subprocess(env_overrides: dict[str, str]) -> dict[str, Any]:
    """GUANXI_HUEY and the cache backend as production settings build them from this environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update({"SECRET_KEY": "s" * 60, "GUANXI_PII_KEY": "p", "DATABASE_URL": "sqlite:///:memory:"})
    env.update(env_overrides)
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({'huey': settings.GUANXI_HUEY, 'cache': settings.CACHES['default']}))"
    )
    env["DJANGO_SETTINGS_MODULE"] = "guanxi.config.settings.production"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_redis_url_puts_the_job_queue_and_the_cache_on_redis() -> None:
    on_redis = settings_in_subprocess({"REDIS_URL": "redis://127.0.0.1:6379/3"})
    assert on_redis["huey"]["redis_url"] == "redis://127.0.0.1:6379/3"
    assert on_redis["huey"]["immediate"] is False
    assert on_redis["cache"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/3",
    }
    embedded = settings_in_subprocess({})
    assert embedded["huey"]["redis_url"] == ""
    assert embedded["huey"]["sqlite_path"].endswith("huey.sqlite3")
    assert embedded["cache"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


@pytest.fixture
def fresh_huey() -> Iterator[None]:
    reset_huey()
    yield
    reset_huey()


def test_worker_consumes_from_redis_when_redis_url_is_set(settings: Any, fresh_huey: None) -> None:
    settings.GUANXI_HUEY = {"name": "guanxi", "redis_url": "redis://127.0.0.1:6379/3", "immediate": False}
    huey = get_huey()
    assert isinstance(huey, RedisHuey)
    assert huey.storage.pool.connection_kwargs["db"] == 3  # type: ignore[attr-defined]
    assert build_consumer(workers=2, worker_type="thread").huey is huey


def test_worker_consumes_from_a_sqlite_file_without_redis(settings: Any, tmp_path: Path, fresh_huey: None) -> None:
    queue = tmp_path / "huey.sqlite3"
    settings.GUANXI_HUEY = {"name": "guanxi", "redis_url": "", "sqlite_path": str(queue), "immediate": False}
    huey = get_huey()
    assert isinstance(huey, SqliteHuey)
    assert huey.storage.filename == str(queue)  # type: ignore[attr-defined]
    assert build_consumer(workers=1, worker_type="thread").huey is huey

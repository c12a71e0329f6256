"""gunicorn's production configuration: worker count from the CPUs, overrides from the environment."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from guanxi.config import gunicorn as gunicorn_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def reload_after(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test may reload the module under its own environment; the next one starts from the real one."""
    yield
    monkeypatch.undo()
    importlib.reload(gunicorn_config)


def load_config(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    for name in [n for n in os.environ if n.startswith("GUANXI_WEB_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return importlib.reload(gunicorn_config)


@pytest.mark.parametrize(("cpus", "workers"), [(1, 3), (2, 5), (4, 9), (8, 12), (64, 12)])
def test_default_workers_are_two_per_core_plus_one_capped(cpus: int, workers: int) -> None:
    assert gunicorn_config.default_workers(cpus) == workers


def test_defaults_follow_the_cpus_and_keep_personal_data_out_of_the_access_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    config = load_config(monkeypatch)
    assert config.bind == ["127.0.0.1:8000"]
    assert (config.workers, config.threads, config.worker_class) == (5, 2, "gthread")
    assert (config.timeout, config.graceful_timeout) == (60, 30)
    assert (config.max_requests, config.max_requests_jitter) == (2000, 200)
    assert config.preload_app is False
    assert config.control_socket_disable is True
    assert config.wsgi_app == "guanxi.config.wsgi:application"
    # No client address (%(h)s), query string (%(q)s, %(r)s, %(U)s is the path alone), referrer or user agent.
    assert not re.search(r"%\((h|q|r|f|a|u)\)s|\{[^}]+\}i", config.access_log_format)
    assert "%(U)s" in config.access_log_format


def test_environment_overrides_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(
        monkeypatch,
        GUANXI_WEB_BIND="0.0.0.0:9000,unix:/run/guanxi.sock",
        GUANXI_WEB_WORKERS="3",
        GUANXI_WEB_THREADS="1",
        GUANXI_WEB_TIMEOUT="120",
        GUANXI_WEB_MAX_REQUESTS="500",
    )
    assert config.bind == ["0.0.0.0:9000", "unix:/run/guanxi.sock"]
    assert (config.workers, config.threads, config.worker_class) == (3, 1, "sync")
    assert config.timeout == 120
    assert (config.max_requests, config.max_requests_jitter) == (500, 50)


def test_gunicorn_accepts_the_configuration() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUANXI_WEB_")}
    env["GUANXI_WEB_WORKERS"] = "4"
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", "python:guanxi.config.gunicorn", "--print-config"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    settings = dict(re.findall(r"^(\w+)\s+= (.*)$", result.stdout, flags=re.MULTILINE))
    assert settings["workers"] == "4"
    assert settings["worker_class"] == "gthread"
    assert settings["bind"] == "['127.0.0.1:8000']"
    assert settings["max_requests_jitter"] == "200"
    assert settings["wsgi_app"] == "guanxi.config.wsgi:application"

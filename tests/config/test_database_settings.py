"""DATABASES from DATABASE_URL: persistent, health-checked PostgreSQL connections with optional timeouts."""

from __future__ import annotations

import pytest

from guanxi.config.settings.base import database_from_url

URL = "postgres://guanxi:secret@db.internal:5432/guanxi"


def test_postgresql_connections_persist_and_are_checked_before_reuse(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DB_CONN_MAX_AGE", "DB_CONNECT_TIMEOUT", "DB_STATEMENT_TIMEOUT_MS", "DB_PARALLEL_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    config = database_from_url(URL)
    assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (60, True)
    assert config["OPTIONS"] == {"connect_timeout": 10, "options": "-c max_parallel_workers_per_gather=0"}


def test_parallel_query_can_be_allowed_or_left_to_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DB_STATEMENT_TIMEOUT_MS", raising=False)
    monkeypatch.setenv("DB_PARALLEL_WORKERS", "2")
    assert database_from_url(URL)["OPTIONS"]["options"] == "-c max_parallel_workers_per_gather=2"
    monkeypatch.setenv("DB_PARALLEL_WORKERS", "-1")
    assert "options" not in database_from_url(URL)["OPTIONS"]


def test_statement_timeout_and_connection_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_CONN_MAX_AGE", "300")
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "3")
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "30000")
    monkeypatch.delenv("DB_PARALLEL_WORKERS", raising=False)
    config = database_from_url(URL + "?sslmode=require")
    assert config["CONN_MAX_AGE"] == 300
    assert config["OPTIONS"] == {
        "sslmode": "require",
        "connect_timeout": 3,
        "options": "-c statement_timeout=30000 -c max_parallel_workers_per_gather=0",
    }


def test_sqlite_keeps_its_own_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "30000")
    config = database_from_url("sqlite:////tmp/guanxi.sqlite3")
    assert config["CONN_MAX_AGE"] == 0
    assert "statement_timeout" not in str(config["OPTIONS"])
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"

"""A backup restored into an empty database brings back every record and every uploaded file's bytes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from guanxi.customers.models import ContactPoint, Customer, Interaction
from guanxi.platform.annotations.models import Attachment
from guanxi.platform.backup.errors import DatabaseNotEmpty
from guanxi.platform.backup.services import (
    BackupTarget,
    backup_create,
    backup_restore,
    backup_target_from_settings,
)
from tests.platform.backup.conftest import Company

TABLES = {
    "customers": Customer._meta.db_table,
    "contact_points": ContactPoint._meta.db_table,
    "interactions": Interaction._meta.db_table,
    "attachments": Attachment._meta.db_table,
}

needs_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="restores into a SQLite file")
needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (set GUANXI_TEST_DATABASE_URL)"
)


def expected_ids(company: Company) -> dict[str, list[int]]:
    return {
        "customers": company.customer_ids,
        "contact_points": company.contact_point_ids,
        "interactions": company.interaction_ids,
        "attachments": [company.attachment.pk],
    }


def sqlite_target(tmp_path: Path) -> BackupTarget:
    return BackupTarget(
        database={"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "restored.sqlite3")},
        media_root=tmp_path / "restored-media",
    )


@needs_sqlite
@pytest.mark.django_db(transaction=True)
def test_sqlite_backup_restores_every_record_and_the_attachment_into_an_empty_database(
    company: Company, tmp_path: Path
) -> None:
    report = backup_create(target=backup_target_from_settings(), output=tmp_path / "backups" / "b.tar.gz")
    target = sqlite_target(tmp_path)

    restored = backup_restore(target=target, archive=report.path)

    with closing(sqlite3.connect(target.database["NAME"])) as db:
        ids = {
            key: [row[0] for row in db.execute(f'SELECT id FROM "{table}" ORDER BY id')]
            for key, table in TABLES.items()
        }
        file_name = db.execute(f'SELECT file FROM "{TABLES["attachments"]}"').fetchone()[0]
    assert ids == expected_ids(company)
    assert file_name == company.attachment.file.name
    assert (target.media_root / file_name).read_bytes() == company.attachment_bytes
    assert restored.pending_migrations == []
    assert restored.manifest.vendor == "sqlite"
    assert restored.manifest.counts[TABLES["customers"]] == 3
    assert restored.manifest.media_files == [f"media/{file_name}"]
    assert report.path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no staging left behind


@needs_sqlite
@pytest.mark.django_db(transaction=True)
def test_sqlite_restore_refuses_a_database_that_holds_data_unless_forced(company: Company, tmp_path: Path) -> None:
    report = backup_create(target=backup_target_from_settings(), output=tmp_path / "b.tar.gz")
    target = sqlite_target(tmp_path)
    backup_restore(target=target, archive=report.path)
    with closing(sqlite3.connect(target.database["NAME"])) as db:
        db.execute(f'DELETE FROM "{TABLES["interactions"]}"')
        db.commit()

    with pytest.raises(DatabaseNotEmpty) as refused:
        backup_restore(target=target, archive=report.path)
    assert "already holds data" in str(refused.value)
    assert "--force" in str(refused.value)

    backup_restore(target=target, archive=report.path, force=True)
    with closing(sqlite3.connect(target.database["NAME"])) as db:
        count = db.execute(f'SELECT count(*) FROM "{TABLES["interactions"]}"').fetchone()[0]
    assert count == 3


# --- PostgreSQL ------------------------------------------------------------------------------------


def _maintenance_connection(settings_dict: dict[str, Any]) -> psycopg.Connection[Any]:
    params = {
        "dbname": "postgres",
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
    }
    return psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)


@pytest.fixture
def empty_postgres_database() -> Iterator[dict[str, Any]]:
    """A freshly created, empty database next to the test database; dropped afterwards."""
    settings_dict = dict(connection.settings_dict)
    name = f"{settings_dict['NAME']}_restore"
    create = sql.SQL(
        "CREATE DATABASE {} ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0"
    ).format(sql.Identifier(name))
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with _maintenance_connection(settings_dict) as admin:
        admin.execute(drop)
        admin.execute(create)
    try:
        yield {**settings_dict, "NAME": name}
    finally:
        with _maintenance_connection(settings_dict) as admin:
            admin.execute(drop)


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_backup_restores_every_record_and_the_attachment_into_a_new_database(
    company: Company, tmp_path: Path, empty_postgres_database: dict[str, Any]
) -> None:
    report = backup_create(target=backup_target_from_settings(), output=tmp_path / "b.tar.gz")
    target = BackupTarget(database=empty_postgres_database, media_root=tmp_path / "restored-media")

    restored = backup_restore(target=target, archive=report.path)

    settings_dict = empty_postgres_database
    params = {"dbname": settings_dict["NAME"], "host": settings_dict.get("HOST"), "port": settings_dict.get("PORT")}
    params.update({"user": settings_dict.get("USER"), "password": settings_dict.get("PASSWORD")})
    with psycopg.connect(**{k: v for k, v in params.items() if v}) as second:
        ids = {
            key: [
                row[0]
                for row in second.execute(
                    sql.SQL("SELECT id FROM {} ORDER BY id").format(sql.Identifier(table))
                ).fetchall()
            ]
            for key, table in TABLES.items()
        }
        row = second.execute(sql.SQL("SELECT file FROM {}").format(sql.Identifier(TABLES["attachments"]))).fetchone()
        counts = {
            table: second.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
            for table in restored.manifest.counts
        }
    assert ids == expected_ids(company)
    assert row is not None and row[0] == company.attachment.file.name
    assert (target.media_root / row[0]).read_bytes() == company.attachment_bytes
    assert counts == restored.manifest.counts
    assert restored.manifest.vendor == "postgresql"
    assert restored.manifest.database_file == "database.dump"
    assert restored.pending_migrations == []

    with pytest.raises(DatabaseNotEmpty):
        backup_restore(target=target, archive=report.path)

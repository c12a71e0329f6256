"""A restore checks the archive completely before it touches anything, and says why it refuses."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import stat
import tarfile
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from guanxi.platform.backup import sqlite_database
from guanxi.platform.backup.errors import (
    ArchiveInvalid,
    BackupFailed,
    IncompatibleMigrations,
    StorageNotSupported,
    ToolMissing,
    VendorMismatch,
)
from guanxi.platform.backup.postgres_database import PostgresDatabase, tool_major
from guanxi.platform.backup.services import BackupTarget, backup_create, backup_restore, backup_target_from_settings

SOURCE_MIGRATIONS = [("contenttypes", "0001_initial"), ("customers", "0001_initial")]
ATTACHMENT = b"%PDF-1.4 attachment bytes"


def sqlite_target(root: Path, name: str) -> BackupTarget:
    return BackupTarget(
        database={"ENGINE": "django.db.backends.sqlite3", "NAME": str(root / f"{name}.sqlite3")},
        media_root=root / f"{name}-media",
    )


def make_database(path: Path, migrations: list[tuple[str, str]], customers: int) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT, applied TEXT)")
        conn.executemany("INSERT INTO django_migrations (app, name, applied) VALUES (?, ?, '2026-01-01')", migrations)
        conn.execute("CREATE TABLE customers_customer (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO customers_customer (name) VALUES (?)", [(f"客户{i}",) for i in range(customers)])
        conn.commit()


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """A backup of a small SQLite database (three customers) with one uploaded file."""
    source = sqlite_target(tmp_path, "source")
    make_database(Path(source.database["NAME"]), SOURCE_MIGRATIONS, customers=3)
    (source.media_root / "attachments").mkdir(parents=True)
    (source.media_root / "attachments" / "a.pdf").write_bytes(ATTACHMENT)
    return backup_create(target=source, output=tmp_path / "backup.tar.gz").path


def rewrite(archive: Path, change: Callable[[str, bytes], bytes], extra: tuple[str, bytes] | None = None) -> Path:
    """A copy of `archive` with each member's bytes passed through `change`, plus an optional extra member."""
    copy = archive.with_name("changed.tar.gz")
    with tarfile.open(archive, "r:gz") as source, tarfile.open(copy, "w:gz") as out:
        members = [(m.name, source.extractfile(m).read()) for m in source if m.isfile()]  # type: ignore[union-attr]
        for name, data in [*members, *([extra] if extra else [])]:
            body = change(name, data)
            info = tarfile.TarInfo(name)
            info.size = len(body)
            out.addfile(info, io.BytesIO(body))
    return copy


def edit_manifest(edit: Callable[[dict[str, Any]], None]) -> Callable[[str, bytes], bytes]:
    def change(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        edit(manifest)
        return json.dumps(manifest).encode()

    return change


def assert_untouched(target: BackupTarget) -> None:
    assert not Path(target.database["NAME"]).exists()
    assert not target.media_root.exists()
    assert [p.name for p in target.media_root.parent.iterdir() if p.name.startswith(".guanxi-restore-")] == []


def test_backup_writes_the_manifest_and_the_files_privately(archive: Path) -> None:
    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert names == ["database.sqlite3", "media/attachments/a.pdf", "manifest.json"]
    assert manifest["database"]["vendor"] == "sqlite"
    assert manifest["migrations"] == {"contenttypes": ["0001_initial"], "customers": ["0001_initial"]}
    assert manifest["counts"] == {"customers_customer": 3, "django_migrations": 2}
    assert manifest["files"]["media/attachments/a.pdf"]["size"] == len(ATTACHMENT)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600


def test_backup_goes_to_var_backups_by_default_and_never_overwrites(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"
    source = sqlite_target(tmp_path, "source")
    make_database(Path(source.database["NAME"]), SOURCE_MIGRATIONS, customers=1)

    report = backup_create(target=source)

    assert report.path.parent == tmp_path / "var" / "backups"
    assert re.fullmatch(r"guanxi-sqlite-\d{8}-\d{6}\.tar\.gz", report.path.name)
    with pytest.raises(BackupFailed, match="already exists"):
        backup_create(target=source, output=report.path)


def test_restore_puts_back_the_database_and_files(archive: Path, tmp_path: Path) -> None:
    target = sqlite_target(tmp_path, "target")
    report = backup_restore(target=target, archive=archive)
    with closing(sqlite3.connect(target.database["NAME"])) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM customers_customer ORDER BY id")]
    assert names == ["客户0", "客户1", "客户2"]
    assert (target.media_root / "attachments" / "a.pdf").read_bytes() == ATTACHMENT
    # The backup predates most migrations of this code: `guanxi migrate` applies them afterwards.
    assert "customers.0002_initial" in report.pending_migrations
    assert "customers.0001_initial" not in report.pending_migrations
    assert "contenttypes.0001_initial" not in report.pending_migrations


def test_a_missing_archive_is_named(tmp_path: Path) -> None:
    target = sqlite_target(tmp_path, "target")
    with pytest.raises(ArchiveInvalid, match=r"There is no backup archive at .*nowhere\.tar\.gz"):
        backup_restore(target=target, archive=tmp_path / "nowhere.tar.gz")
    assert_untouched(target)


@pytest.mark.parametrize("content", [b"not an archive at all", b""], ids=["garbage", "empty"])
def test_a_file_that_is_not_an_archive_is_called_damaged(tmp_path: Path, content: bytes) -> None:
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(content)
    target = sqlite_target(tmp_path, "target")
    with pytest.raises(ArchiveInvalid, match="is damaged or is not a guanxi backup archive"):
        backup_restore(target=target, archive=bogus)
    assert_untouched(target)


def test_a_truncated_archive_is_called_damaged(archive: Path, tmp_path: Path) -> None:
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    target = sqlite_target(tmp_path, "target")
    with pytest.raises(ArchiveInvalid, match="is damaged"):
        backup_restore(target=target, archive=archive)
    assert_untouched(target)


def test_a_changed_file_fails_its_checksum_and_nothing_is_touched(archive: Path, tmp_path: Path) -> None:
    tampered = rewrite(archive, lambda name, data: b"X" + data[1:] if name.startswith("media/") else data)
    target = sqlite_target(tmp_path, "target")
    with pytest.raises(ArchiveInvalid, match=r"The file media/attachments/a.pdf in the archive is damaged"):
        backup_restore(target=target, archive=tampered)
    assert_untouched(target)


def test_an_entry_climbing_out_of_the_archive_is_refused(archive: Path, tmp_path: Path) -> None:
    evil = rewrite(archive, lambda name, data: data, extra=("media/../../evil.txt", b"owned"))
    target = sqlite_target(tmp_path, "target")
    with pytest.raises(ArchiveInvalid, match=re.escape("unexpected entry “media/../../evil.txt”")):
        backup_restore(target=target, archive=evil)
    assert not (tmp_path / "evil.txt").exists()
    assert_untouched(target)


def test_a_backup_from_a_newer_version_is_refused(archive: Path, tmp_path: Path) -> None:
    def add_future_migration(manifest: dict[str, Any]) -> None:
        manifest["app_version"] = "9.0.0"
        manifest["migrations"]["customers"].append("9999_from_the_future")

    newer = rewrite(archive, edit_manifest(add_future_migration))
    target = sqlite_target(tmp_path, "target")
    with pytest.raises(IncompatibleMigrations, match=r"newer guanxi \(9.0.0.*customers.9999_from_the_future"):
        backup_restore(target=target, archive=newer)
    assert_untouched(target)


def test_a_sqlite_backup_is_not_restored_into_postgresql(archive: Path, tmp_path: Path) -> None:
    target = BackupTarget(
        database={"ENGINE": "django.db.backends.postgresql", "NAME": "guanxi", "HOST": "192.0.2.1"},
        media_root=tmp_path / "pg-media",
    )
    with pytest.raises(VendorMismatch, match="holds a sqlite database; the configured database is postgresql"):
        backup_restore(target=target, archive=archive)
    assert not target.media_root.exists()


def test_forcing_into_a_database_with_newer_migrations_is_refused(archive: Path, tmp_path: Path) -> None:
    target = sqlite_target(tmp_path, "target")
    newer = [*SOURCE_MIGRATIONS, ("contenttypes", "0002_remove_content_type_name")]
    make_database(Path(target.database["NAME"]), newer, customers=1)
    with pytest.raises(IncompatibleMigrations, match=re.escape("contenttypes.0002_remove_content_type_name")):
        backup_restore(target=target, archive=archive, force=True)


def test_a_failed_database_step_puts_the_previous_files_back(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = sqlite_target(tmp_path, "target")
    target.media_root.mkdir()
    (target.media_root / "kept.txt").write_text("previous upload")

    def fail(self: Any, staged: Path) -> None:
        raise BackupFailed("the disk is full")

    monkeypatch.setattr(sqlite_database.SqliteDatabase, "restore", fail)
    with pytest.raises(BackupFailed, match="the disk is full"):
        backup_restore(target=target, archive=archive)
    assert sorted(p.name for p in target.media_root.iterdir()) == ["kept.txt"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_backups_need_uploads_on_the_file_system(settings: Any) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    with pytest.raises(StorageNotSupported, match="InMemoryStorage; guanxi backups include them only"):
        backup_target_from_settings()


def test_restore_command_reports_the_refusal(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    with pytest.raises(CommandError, match="There is no backup archive at"):
        call_command("guanxi_restore", str(tmp_path / "missing.tar.gz"))


# --- PostgreSQL client tools (no server needed) -----------------------------------------------------


def fake_tool(directory: Path, name: str, version_line: str) -> None:
    directory.mkdir(exist_ok=True)
    script = directory / name
    script.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    script.chmod(0o755)


def test_tool_versions_are_read_from_their_banner() -> None:
    assert tool_major("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)") == 15
    assert tool_major("pg_restore (PostgreSQL) 17beta1") == 17
    assert tool_major("something else") is None


def test_a_missing_pg_dump_is_explained(tmp_path: Path) -> None:
    database = PostgresDatabase({"NAME": "guanxi"}, tools_dir=str(tmp_path))
    with pytest.raises(ToolMissing, match=rf"pg_dump was not found in GUANXI_PG_BIN={tmp_path}.*postgresql-client-15"):
        database.find_tool("pg_dump", 15)


def test_a_pg_dump_older_than_the_server_is_refused(tmp_path: Path) -> None:
    fake_tool(tmp_path, "pg_dump", "pg_dump (PostgreSQL) 14.11")
    database = PostgresDatabase({"NAME": "guanxi"}, tools_dir=str(tmp_path))
    with pytest.raises(ToolMissing, match=r"pg_dump \(PostgreSQL\) 14.11, older than the PostgreSQL 15 server"):
        database.find_tool("pg_dump", 15)


def test_a_pg_dump_of_the_server_version_or_newer_is_used(tmp_path: Path) -> None:
    fake_tool(tmp_path, "pg_dump", "pg_dump (PostgreSQL) 16.2")
    database = PostgresDatabase({"NAME": "guanxi"}, tools_dir=str(tmp_path))
    assert database.find_tool("pg_dump", 15) == (tmp_path / "pg_dump", "pg_dump (PostgreSQL) 16.2")

"""Backup and restore of an installation: the database plus the uploaded files, in one archive.

`backup_create` copies the database consistently (see the vendor modules), adds every file under the
media directory and writes the manifest. `backup_restore` unpacks the archive next to the media
directory, verifies checksums, vendor and migrations, refuses a database that holds data unless
forced, and only then replaces the files and the database. If the database step fails, the previous
files are put back, so an installation is never left half restored.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db import connections
from django.db.migrations.loader import MigrationLoader

from guanxi.platform.backup.archive import ARCHIVE_SUFFIX, archive_extract, archive_write
from guanxi.platform.backup.databases import BackupDatabase
from guanxi.platform.backup.errors import (
    BackupError,
    BackupFailed,
    DatabaseNotEmpty,
    IncompatibleMigrations,
    StorageNotSupported,
    VendorMismatch,
)
from guanxi.platform.backup.manifest import FileEntry, Manifest
from guanxi.platform.backup.postgres_database import PostgresDatabase
from guanxi.platform.backup.sqlite_database import SqliteDatabase

MEDIA_PREFIX = "media/"


@dataclass(frozen=True)
class BackupTarget:
    """What a backup copies and a restore replaces: one database (a DATABASES entry) and the media directory."""

    database: dict[str, Any]
    media_root: Path


@dataclass(frozen=True)
class BackupReport:
    path: Path
    manifest: Manifest


@dataclass(frozen=True)
class RestoreReport:
    manifest: Manifest
    target_label: str
    pending_migrations: list[str]


def app_version() -> str:
    try:
        return version("guanxi")
    except PackageNotFoundError:
        return "unknown"


def backup_target_from_settings(using: str = "default") -> BackupTarget:
    """The configured database and the directory of the file-system storage that holds uploads."""
    storage = storages["default"]
    if not isinstance(storage, FileSystemStorage):
        raise StorageNotSupported(
            f"Uploaded files are stored with {type(storage).__module__}.{type(storage).__name__}; guanxi backups "
            "include them only from the file-system storage (MEDIA_ROOT). Back that storage up with its own tools."
        )
    return BackupTarget(database=dict(connections[using].settings_dict), media_root=Path(storage.location))


def database_for(settings_dict: dict[str, Any]) -> BackupDatabase:
    """The backup engine for a DATABASES entry."""
    engine = str(settings_dict.get("ENGINE", ""))
    if engine == "django.db.backends.sqlite3":
        return SqliteDatabase(str(settings_dict["NAME"]))
    if engine == "django.db.backends.postgresql":
        return PostgresDatabase(settings_dict, tools_dir=str(getattr(settings, "GUANXI_PG_BIN", "") or ""))
    raise BackupError(f"Backups support SQLite and PostgreSQL; this database uses {engine or 'no engine'}.")


def default_backup_name(vendor: str, now: datetime) -> str:
    return f"guanxi-{vendor}-{now.strftime('%Y%m%d-%H%M%S')}{ARCHIVE_SUFFIX}"


def _destination(output: Path | None, vendor: str, now: datetime) -> Path:
    if output is None:
        output = Path(settings.VAR_DIR) / "backups"
        output.mkdir(parents=True, exist_ok=True)
    if output.is_dir():
        output = output / default_backup_name(vendor, now)
    if output.exists():
        raise BackupFailed(f"{output} already exists; choose another --output or move that file away.")
    return output.absolute()


@contextmanager
def _staging_dir(near: Path, prefix: str) -> Iterator[Path]:
    """A private directory on the same file system as `near` (so renames are atomic), removed afterwards."""
    near.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=near))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _media_files(media_root: Path) -> list[tuple[str, Path]]:
    if not media_root.is_dir():
        return []
    files = [p for p in media_root.rglob("*") if p.is_file() and not p.is_symlink()]
    return [(MEDIA_PREFIX + p.relative_to(media_root).as_posix(), p) for p in sorted(files)]


def backup_create(*, target: BackupTarget, output: Path | None = None) -> BackupReport:
    """Write one archive with the database, the uploaded files and the manifest; return where it is."""
    database = database_for(target.database)
    now = datetime.now(UTC)
    destination = _destination(output, database.vendor, now)
    with _staging_dir(destination.parent, ".guanxi-backup-") as staging:
        dump = database.dump(staging / database.database_file)

        def manifest_for(entries: dict[str, FileEntry]) -> Manifest:
            return Manifest(
                app_version=app_version(),
                vendor=database.vendor,
                created_at=now.isoformat(timespec="seconds"),
                database_file=database.database_file,
                migrations=dump.migrations,
                counts=dump.counts,
                files=entries,
                server_version=dump.server_version,
                tool_version=dump.tool_version,
            )

        files = [(database.database_file, dump.path), *_media_files(target.media_root)]
        manifest = archive_write(destination=destination, files=files, manifest_for=manifest_for)
    return BackupReport(path=destination, manifest=manifest)


def _known_migrations() -> set[tuple[str, str]]:
    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def _check_compatible(manifest: Manifest, database: BackupDatabase, *, force: bool) -> list[str]:
    """Refuse what cannot work; return the code's migrations the backup lacks (`migrate` applies them)."""
    if manifest.vendor != database.vendor:
        raise VendorMismatch(
            f"This backup holds a {manifest.vendor} database; the configured database is {database.vendor}. "
            f"Restore it into a {manifest.vendor} database (set DATABASE_URL accordingly)."
        )
    known = _known_migrations()
    in_backup = manifest.applied_migrations()
    if unknown := sorted(in_backup - known):
        names = ", ".join(f"{app}.{name}" for app, name in unknown[:5])
        raise IncompatibleMigrations(
            f"The backup was made by a newer guanxi ({manifest.app_version}, this is {app_version()}): this code "
            f"does not know its migrations {names}. Install guanxi {manifest.app_version} or newer to restore it."
        )
    rows = database.rows_outside_seed()
    if rows and not force:
        busiest = sorted(rows.items(), key=lambda item: -item[1])[:3]
        detail = ", ".join(f"{table}: {count} rows" for table, count in busiest)
        raise DatabaseNotEmpty(
            f"The {database.label} already holds data ({detail}, {len(rows)} tables in all). A restore replaces "
            "it; run the restore again with --force to do that, or restore into a new empty database."
        )
    if extra := sorted(database.applied_migrations() - in_backup):
        names = ", ".join(f"{app}.{name}" for app, name in extra[:5])
        raise IncompatibleMigrations(
            f"The {database.label} has migrations the backup lacks ({names}); restoring would mix two schemas. "
            "Restore into a new empty database, then run `guanxi migrate`."
        )
    return [f"{app}.{name}" for app, name in sorted(known - in_backup)]


def _swap_in_media(staged_media: Path, media_root: Path) -> Path | None:
    """Move the restored files into place; return where the previous files were set aside, if any."""
    staged_media.mkdir(exist_ok=True)
    aside = None
    if media_root.exists():
        aside = media_root.with_name(f".{media_root.name}.before-restore-{datetime.now(UTC):%Y%m%d%H%M%S}")
        media_root.rename(aside)
    staged_media.rename(media_root)
    return aside


def _put_back_media(staged_media: Path, media_root: Path, aside: Path | None) -> None:
    media_root.rename(staged_media)
    if aside is not None:
        aside.rename(media_root)


def backup_restore(*, target: BackupTarget, archive: Path, force: bool = False) -> RestoreReport:
    """Replace the target's database and uploaded files with the archive's, after checking everything.

    Nothing is changed unless the archive is intact, its vendor matches, this code knows its migrations
    and the database is empty (or `force`). The database step is atomic; if it fails, the previous
    uploaded files are put back.
    """
    database = database_for(target.database)
    media_root = target.media_root.absolute()
    with _staging_dir(media_root.parent, ".guanxi-restore-") as staging:
        manifest = archive_extract(archive, staging)
        pending = _check_compatible(manifest, database, force=force)
        staged_db = staging / manifest.database_file
        database.check_restorable(manifest, staged_db)
        for alias in connections:  # this process's own connections must not hold the old database open
            connections[alias].close()
        staged_media = staging / "media"
        aside = _swap_in_media(staged_media, media_root)
        try:
            database.restore(staged_db)
        except BaseException:
            _put_back_media(staged_media, media_root, aside)
            raise
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
    restored = database.table_counts()
    if differ := sorted(t for t, n in manifest.counts.items() if restored.get(t) != n):
        raise BackupFailed(
            f"The restore finished but these tables do not hold the rows the manifest records: {', '.join(differ)}."
        )
    return RestoreReport(manifest=manifest, target_label=database.label, pending_migrations=pending)

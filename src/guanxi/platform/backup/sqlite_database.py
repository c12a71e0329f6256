"""SQLite: copies through SQLite's online backup API, so the app may keep running while it copies.

A backup is one backup-API step from the live database into a new file (a consistent snapshot even
under WAL), switched to rollback-journal mode so the archived file stands alone. A restore checks the
staged copy (integrity, row counts) and then copies it into the target with one backup-API step,
which SQLite applies as a single write transaction: readers see the old database or the new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from guanxi.platform.backup.databases import SEEDED_BY_MIGRATE, DatabaseDump, migrations_by_app
from guanxi.platform.backup.errors import ArchiveInvalid, BackupFailed
from guanxi.platform.backup.manifest import Manifest

BUSY_TIMEOUT_SECONDS = 30


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    return [str(row[0]) for row in rows]


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    counts = {}
    for table in _tables(conn):
        quoted = '"' + table.replace('"', '""') + '"'
        # The table names come from sqlite_master and are quoted as identifiers.
        counts[table] = int(conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0])  # noqa: S608  # nosec B608
    return counts


def _migrations(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    if "django_migrations" not in _tables(conn):
        return []
    return [(str(app), str(name)) for app, name in conn.execute("SELECT app, name FROM django_migrations")]


class SqliteDatabase:
    """The SQLite database file (or shared in-memory database) named by a DATABASES entry."""

    vendor = "sqlite"
    database_file = "database.sqlite3"

    def __init__(self, name: str) -> None:
        self.name = name
        self.label = f"SQLite database {name}"

    @property
    def _is_uri(self) -> bool:
        return self.name.startswith("file:")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.name, uri=self._is_uri, timeout=BUSY_TIMEOUT_SECONDS)) as conn:
            yield conn

    def _exists(self) -> bool:
        return self._is_uri or Path(self.name).is_file()

    def dump(self, path: Path) -> DatabaseDump:
        if not self._exists():
            raise BackupFailed(f"There is no SQLite database at {self.name}; nothing to back up.")
        try:
            with self._connect() as source, closing(sqlite3.connect(path)) as copy:
                source.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")
                counts, migrations = _counts(copy), _migrations(copy)
        except sqlite3.Error as exc:
            raise BackupFailed(f"Copying the SQLite database {self.name} failed: {exc}.") from exc
        return DatabaseDump(
            path=path,
            counts=counts,
            migrations=migrations_by_app(migrations),
            server_version=sqlite3.sqlite_version,
            tool_version=f"sqlite3 backup API (SQLite {sqlite3.sqlite_version})",
        )

    def check_restorable(self, manifest: Manifest, staged: Path) -> None:
        try:
            with closing(sqlite3.connect(staged.resolve().as_uri() + "?mode=ro", uri=True)) as conn:
                integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
                counts = _counts(conn)
        except sqlite3.Error as exc:
            raise ArchiveInvalid(f"The archive's SQLite database cannot be read: {exc}.") from exc
        if integrity != "ok":
            raise ArchiveInvalid(f"The archive's SQLite database fails its integrity check: {integrity}.")
        if counts != manifest.counts:
            raise ArchiveInvalid("The archive's SQLite database does not hold the row counts its manifest records.")

    def rows_outside_seed(self) -> dict[str, int]:
        if not self._exists():
            return {}
        with self._connect() as conn:
            return {t: n for t, n in _counts(conn).items() if n and t not in SEEDED_BY_MIGRATE}

    def applied_migrations(self) -> set[tuple[str, str]]:
        if not self._exists():
            return set()
        with self._connect() as conn:
            return set(_migrations(conn))

    def restore(self, staged: Path) -> None:
        if not self._is_uri:
            Path(self.name).parent.mkdir(parents=True, exist_ok=True)
        try:
            with closing(sqlite3.connect(staged)) as source, self._connect() as target:
                source.backup(target)
        except sqlite3.OperationalError as exc:
            raise BackupFailed(
                f"The SQLite database {self.name} could not be replaced ({exc}); it is unchanged. If it is "
                "locked, stop the web server and the worker and run the restore again."
            ) from exc

    def table_counts(self) -> dict[str, int]:
        with self._connect() as conn:
            return _counts(conn)

"""PostgreSQL: pg_dump (custom format) from an exported snapshot, pg_restore in a single transaction.

The backup opens a REPEATABLE READ transaction, exports its snapshot, counts rows and reads the
migration state inside it, and runs pg_dump on that same snapshot: the manifest describes exactly the
dumped data. The restore runs pg_restore with --single-transaction and --exit-on-error, so the target
database gets the whole backup or stays as it was. The client tools must be at least the server's
major version; on Debian they are looked for in /usr/lib/postgresql/<major>/bin first.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from guanxi.platform.backup.databases import SEEDED_BY_MIGRATE, DatabaseDump, migrations_by_app
from guanxi.platform.backup.errors import ArchiveInvalid, BackupFailed, ServerTooOld, ToolMissing
from guanxi.platform.backup.manifest import Manifest

# libpq connection parameters that may sit in DATABASES[...]["OPTIONS"], with the environment
# variables pg_dump and pg_restore read them from. Session settings ("options") are left out on purpose:
# a statement_timeout meant for web requests must not cut a dump or a restore short.
LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}
TOOL_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.\d+)*")
DEBIAN_TOOLS_DIR = "/usr/lib/postgresql/{major}/bin"
# An extension's comment can only be set by its owner (a superuser), so restoring it as the
# application's user fails the whole transaction; the comment is not worth that.
EXTENSION_COMMENT = re.compile(r"\bCOMMENT - EXTENSION\b")
STDERR_TAIL_CHARS = 2000


def tool_major(version_text: str) -> int | None:
    """15 for "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"; None if the text says no version."""
    match = TOOL_VERSION.search(version_text)
    return int(match.group(1)) if match else None


def server_major(version: str) -> int | None:
    """15 for "15.20"."""
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def _tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= STDERR_TAIL_CHARS else "…" + text[-STDERR_TAIL_CHARS:]


class PostgresDatabase:
    """The PostgreSQL database named by a DATABASES entry, reached with psycopg and the client tools."""

    vendor = "postgresql"
    database_file = "database.dump"

    def __init__(self, settings_dict: dict[str, Any], *, tools_dir: str = "") -> None:
        self.dbname = str(settings_dict["NAME"])
        self.host = str(settings_dict.get("HOST") or "")
        self.port = str(settings_dict.get("PORT") or "")
        self.user = str(settings_dict.get("USER") or "")
        self.password = str(settings_dict.get("PASSWORD") or "")
        options = settings_dict.get("OPTIONS") or {}
        self.libpq_options = {key: str(options[key]) for key in LIBPQ_OPTIONS if options.get(key) not in (None, "")}
        self.tools_dir = tools_dir
        self._pg_restore: Path | None = None  # chosen by check_restorable, used by restore
        self.label = f"PostgreSQL database {self.dbname} on {self.host or 'the local socket'}:{self.port or 5432}"

    # --- connections and tools ---------------------------------------------------------------------

    @contextmanager
    def _connect(self, *, autocommit: bool = True) -> Iterator[psycopg.Connection[Any]]:
        params = {"dbname": self.dbname, "host": self.host, "port": self.port, "user": self.user}
        params.update({"password": self.password, **self.libpq_options})
        try:
            conninfo = make_conninfo("", **{key: value for key, value in params.items() if value})
            conn = psycopg.connect(conninfo, autocommit=autocommit)
        except psycopg.OperationalError as exc:
            raise BackupFailed(f"Cannot connect to the {self.label}: {str(exc).strip()}") from exc
        with conn:
            yield conn

    def _tool_env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key != "PGOPTIONS"}
        pairs = {"PGDATABASE": self.dbname, "PGHOST": self.host, "PGPORT": self.port, "PGUSER": self.user}
        pairs["PGPASSWORD"] = self.password
        pairs.update({LIBPQ_OPTIONS[key]: value for key, value in self.libpq_options.items()})
        env.update({key: value for key, value in pairs.items() if value})
        return env

    def _server_version(self, conn: psycopg.Connection[Any]) -> str:
        number = conn.info.server_version  # e.g. 150020
        return f"{number // 10000}.{number % 10000}"

    def find_tool(self, name: str, major: int) -> tuple[Path, str]:
        """The path and `--version` text of pg_dump or pg_restore that can serve a `major` server."""
        if self.tools_dir:
            candidates = [Path(self.tools_dir) / name]
        else:
            which = shutil.which(name)
            candidates = [Path(DEBIAN_TOOLS_DIR.format(major=major)) / name, *([Path(which)] if which else [])]
        for path in candidates:
            if path.is_file() and os.access(path, os.X_OK):
                # The tool is the PostgreSQL client named by configuration or found on PATH; fixed arguments.
                done = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
                found = tool_major(done.stdout)
                if found is not None and found >= major:
                    return path, done.stdout.strip()
                raise ToolMissing(
                    f"{path} is {done.stdout.strip() or 'of an unknown version'}, older than the PostgreSQL "
                    f"{major} server. Install the version-{major} client tools (Debian: postgresql-client-{major}) "
                    "or set GUANXI_PG_BIN to their directory."
                )
        where = f"in GUANXI_PG_BIN={self.tools_dir}" if self.tools_dir else "on this machine"
        raise ToolMissing(
            f"{name} was not found {where}. Install the PostgreSQL {major} client tools "
            f"(Debian: apt install postgresql-client-{major}) or set GUANXI_PG_BIN to their directory."
        )

    def _run(self, args: list[str | Path], *, what: str) -> str:
        # The tools are pg_dump/pg_restore found above; the arguments are built here, not taken from users.
        done = subprocess.run(args, capture_output=True, text=True, env=self._tool_env(), check=False)  # noqa: S603  # nosec B603
        if done.returncode != 0:
            raise BackupFailed(f"{what} failed (exit code {done.returncode}): {_tail(done.stderr)}")
        return done.stdout

    # --- reading ------------------------------------------------------------------------------------

    def _tables(self, conn: psycopg.Connection[Any]) -> list[str]:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
        return [str(row[0]) for row in rows.fetchall()]

    def _counts(self, conn: psycopg.Connection[Any]) -> dict[str, int]:
        counts = {}
        for table in self._tables(conn):
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
            counts[table] = int(row[0]) if row else 0
        return counts

    def _migrations(self, conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
        if "django_migrations" not in self._tables(conn):
            return []
        rows = conn.execute("SELECT app, name FROM django_migrations").fetchall()
        return [(str(app), str(name)) for app, name in rows]

    def rows_outside_seed(self) -> dict[str, int]:
        with self._connect() as conn:
            return {t: n for t, n in self._counts(conn).items() if n and t not in SEEDED_BY_MIGRATE}

    def applied_migrations(self) -> set[tuple[str, str]]:
        with self._connect() as conn:
            return set(self._migrations(conn))

    def table_counts(self) -> dict[str, int]:
        with self._connect() as conn:
            return self._counts(conn)

    # --- backup and restore -------------------------------------------------------------------------

    def dump(self, path: Path) -> DatabaseDump:
        with self._connect(autocommit=False) as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            conn.execute("SET LOCAL statement_timeout = 0")
            version = self._server_version(conn)
            pg_dump, tool_version = self.find_tool("pg_dump", int(version.split(".")[0]))
            snapshot_row = conn.execute("SELECT pg_export_snapshot()").fetchone()
            snapshot = str(snapshot_row[0]) if snapshot_row else ""
            counts, migrations = self._counts(conn), self._migrations(conn)
            # pg_dump reads the snapshot this transaction exported, so it sees exactly what was counted.
            self._run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={path}", "--no-password"],
                what="pg_dump",
            )
            conn.rollback()
        return DatabaseDump(
            path=path,
            counts=counts,
            migrations=migrations_by_app(migrations),
            server_version=version,
            tool_version=tool_version,
        )

    def check_restorable(self, manifest: Manifest, staged: Path) -> None:
        with self._connect() as conn:
            version = self._server_version(conn)
        here, there = server_major(version), server_major(manifest.server_version)
        if here is None or there is None or here < there:
            raise ServerTooOld(
                f"The backup comes from PostgreSQL {manifest.server_version}; the {self.label} runs {version}. "
                f"Restore into PostgreSQL {manifest.server_version.split('.')[0]} or newer."
            )
        dumped_with = tool_major(manifest.tool_version) or here
        pg_restore, _ = self.find_tool("pg_restore", max(here, dumped_with))
        try:
            self._run([pg_restore, "--list", staged], what="Reading the archive's database dump")
        except BackupFailed as exc:
            raise ArchiveInvalid(str(exc)) from exc
        self._pg_restore = pg_restore

    def restore(self, staged: Path) -> None:
        pg_restore = self._pg_restore
        if pg_restore is None:
            raise BackupFailed("Internal error: restore() was called before check_restorable().")
        listing = self._run([pg_restore, "--list", staged], what="Reading the archive's database dump")
        use_list = staged.with_name(staged.name + ".list")
        use_list.write_text(
            "".join(line for line in listing.splitlines(keepends=True) if not EXTENSION_COMMENT.search(line))
        )
        quoted_name = "'" + self.dbname.replace("\\", "\\\\").replace("'", "\\'") + "'"
        self._run(
            [
                pg_restore,
                "--single-transaction",
                "--exit-on-error",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--no-password",
                f"--use-list={use_list}",
                f"--dbname=dbname={quoted_name}",
                staged,
            ],
            what=f"pg_restore into the {self.label} (nothing was changed: it runs in one transaction)",
        )

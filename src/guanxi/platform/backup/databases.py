"""What a backup needs from a database, whichever the vendor.

Each engine works on the database named by a DATABASES entry through its own connections (never
Django's), so a restore can target a database the running process is not configured for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from guanxi.platform.backup.manifest import Manifest

# Tables that `guanxi migrate` fills by itself; rows in any other table mean the database is in use.
SEEDED_BY_MIGRATE = frozenset(
    {"django_migrations", "django_content_type", "auth_permission", "identity_role", "identity_historicalrole"}
)


@dataclass(frozen=True)
class DatabaseDump:
    """A database copied into one file, with the row counts and migrations of exactly that copy."""

    path: Path
    counts: dict[str, int]
    migrations: dict[str, list[str]]
    server_version: str
    tool_version: str


class BackupDatabase(Protocol):
    """One vendor's way to copy a database into a file and to put such a file back."""

    vendor: str
    database_file: str
    label: str

    def dump(self, path: Path) -> DatabaseDump:
        """Copy the database, consistently, into `path`."""
        ...

    def check_restorable(self, manifest: Manifest, staged: Path) -> None:
        """Raise unless `staged` (the archive's database file) can be restored here; changes nothing."""
        ...

    def rows_outside_seed(self) -> dict[str, int]:
        """Tables that hold rows `migrate` did not put there, with their counts; empty for a new database."""
        ...

    def applied_migrations(self) -> set[tuple[str, str]]: ...

    def restore(self, staged: Path) -> None:
        """Replace the database's contents with `staged`, all or nothing."""
        ...

    def table_counts(self) -> dict[str, int]: ...


def migrations_by_app(rows: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for app, name in sorted(rows):
        grouped.setdefault(app, []).append(name)
    return grouped

"""Why a backup or a restore was refused or failed; each message says what to do next."""

from __future__ import annotations


class BackupError(Exception):
    """Base of every backup and restore error; `str(error)` is a complete sentence for the operator."""


class ArchiveInvalid(BackupError):
    """The archive is missing, unreadable, not a guanxi backup, or its contents fail their checksums."""


class VendorMismatch(BackupError):
    """A PostgreSQL backup cannot be restored into SQLite, nor the reverse."""


class IncompatibleMigrations(BackupError):
    """The backup and the code (or the target database) disagree about the schema."""


class DatabaseNotEmpty(BackupError):
    """The target database already holds data and `force` was not given."""


class ToolMissing(BackupError):
    """pg_dump or pg_restore is not installed or is too old for the server."""


class StorageNotSupported(BackupError):
    """Uploaded files are kept somewhere other than a local directory."""


class BackupFailed(BackupError):
    """The database tool or the file system failed while the backup or restore ran."""


class ServerTooOld(BackupError):
    """The target PostgreSQL server is older than the one the backup came from."""

"""`guanxi restore PATH [--force]`: put back a `guanxi backup` archive, after checking it completely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from guanxi.platform.backup.errors import BackupError
from guanxi.platform.backup.services import backup_restore, backup_target_from_settings


class Command(BaseCommand):
    help = (
        "Restore a backup archive into the configured database and media directory. Checks the archive's "
        "checksums, database vendor and migrations first; refuses a database that holds data unless --force. "
        "Stop the web server and the worker first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, help="The archive written by `guanxi backup`.")
        parser.add_argument("--force", action="store_true", help="Replace the data in a database that is not empty.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="The database alias to restore into.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = backup_restore(
                target=backup_target_from_settings(options["database"]),
                archive=options["archive"],
                force=options["force"],
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = report.manifest
        self.stdout.write(
            self.style.SUCCESS(f"Restored {options['archive']} into the {report.target_label}")
            + f" (made {manifest.created_at} by guanxi {manifest.app_version}; "
            f"{sum(manifest.counts.values()):,} rows, {len(manifest.media_files)} uploaded files)."
        )
        if report.pending_migrations:
            self.stdout.write(
                f"The backup predates {len(report.pending_migrations)} migration(s) of this version; "
                "run `guanxi migrate` now."
            )

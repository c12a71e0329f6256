"""`guanxi backup [--output PATH]`: one archive with the database, the uploaded files and a manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from guanxi.platform.backup.errors import BackupError
from guanxi.platform.backup.services import backup_create, backup_target_from_settings


class Command(BaseCommand):
    help = (
        "Back up the database and the uploaded files into one .tar.gz archive (with a manifest of versions, "
        "row counts and checksums). Safe while guanxi runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            help="The archive to write, or a directory to write it into (an existing one, or a path ending in /); "
            "default: var/backups/.",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="The database alias to back up.")

    def handle(self, *args: Any, **options: Any) -> None:
        raw_output: str = options["output"] or ""
        output = Path(raw_output) if raw_output else None
        if output is not None and raw_output.endswith("/"):  # "a/b/" names a directory, even a new one
            output.mkdir(parents=True, exist_ok=True)
        try:
            report = backup_create(target=backup_target_from_settings(options["database"]), output=output)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = report.manifest
        size = report.path.stat().st_size
        self.stdout.write(
            self.style.SUCCESS(f"Backup written: {report.path}")
            + f" ({size:,} bytes; {manifest.vendor}; {sum(manifest.counts.values()):,} rows in "
            f"{len(manifest.counts)} tables; {len(manifest.media_files)} uploaded files)"
        )

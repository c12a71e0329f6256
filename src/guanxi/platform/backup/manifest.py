"""The manifest of a backup archive: what made it, the schema state, row counts and file checksums.

The manifest is `manifest.json` inside the archive. A restore reads it first and refuses the archive
unless the vendor matches, the code knows every migration in it, and every file's SHA-256 matches.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from guanxi.platform.backup.errors import ArchiveInvalid

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
HASH_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class FileEntry:
    """One file in the archive: its SHA-256 and size in bytes."""

    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """Everything a restore checks before it touches anything."""

    app_version: str
    vendor: str
    created_at: str
    database_file: str
    migrations: dict[str, list[str]]
    counts: dict[str, int]
    files: dict[str, FileEntry]
    tool_version: str = ""
    server_version: str = ""
    format: int = FORMAT_VERSION

    @property
    def media_files(self) -> list[str]:
        return sorted(name for name in self.files if name.startswith("media/"))

    def applied_migrations(self) -> set[tuple[str, str]]:
        return {(app, name) for app, names in self.migrations.items() for name in names}

    def to_json(self) -> str:
        data = {
            "format": self.format,
            "app": "guanxi",
            "app_version": self.app_version,
            "created_at": self.created_at,
            "database": {
                "vendor": self.vendor,
                "file": self.database_file,
                "server_version": self.server_version,
                "tool_version": self.tool_version,
            },
            "migrations": self.migrations,
            "counts": self.counts,
            "files": {name: {"sha256": e.sha256, "size": e.size} for name, e in sorted(self.files.items())},
        }
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse a manifest; anything malformed is an `ArchiveInvalid` naming what is wrong."""
        try:
            data = json.loads(text)
            if data.get("app") != "guanxi":
                raise ArchiveInvalid("The archive's manifest is not a guanxi backup manifest.")
            if data.get("format") != FORMAT_VERSION:
                raise ArchiveInvalid(
                    f"The backup uses manifest format {data.get('format')!r}; this guanxi reads format "
                    f"{FORMAT_VERSION} only."
                )
            database = data["database"]
            return cls(
                app_version=str(data["app_version"]),
                vendor=str(database["vendor"]),
                created_at=str(data["created_at"]),
                database_file=str(database["file"]),
                server_version=str(database.get("server_version", "")),
                tool_version=str(database.get("tool_version", "")),
                migrations={str(app): [str(n) for n in names] for app, names in data["migrations"].items()},
                counts={str(table): int(count) for table, count in data["counts"].items()},
                files={
                    str(name): FileEntry(sha256=str(entry["sha256"]), size=int(entry["size"]))
                    for name, entry in data["files"].items()
                },
            )
        except ArchiveInvalid:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ArchiveInvalid(f"The archive's manifest is damaged ({exc.__class__.__name__}: {exc}).") from exc


def sha256_of_stream(stream: BinaryIO) -> FileEntry:
    """Hash a stream to its end."""
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(HASH_CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
    return FileEntry(sha256=digest.hexdigest(), size=size)


def sha256_of_file(path: Path) -> FileEntry:
    with path.open("rb") as stream:
        return sha256_of_stream(stream)


def verify_files(manifest: Manifest, root: Path) -> None:
    """Check that `root` holds exactly the manifest's files, each with its recorded size and SHA-256."""
    present = {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()} - {MANIFEST_NAME}
    listed = set(manifest.files)
    if missing := sorted(listed - present):
        raise ArchiveInvalid(f"The archive lacks files its manifest lists: {', '.join(missing[:5])}.")
    if unexpected := sorted(present - listed):
        raise ArchiveInvalid(f"The archive holds files its manifest does not list: {', '.join(unexpected[:5])}.")
    for name, expected in sorted(manifest.files.items()):
        actual = sha256_of_file(root / name)
        if actual != expected:
            raise ArchiveInvalid(
                f"The file {name} in the archive is damaged: its checksum or size differs from the manifest."
            )

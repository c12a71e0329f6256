"""The backup archive on disk: a `.tar.gz` written atomically (mode 600) and read back safely.

Writing hashes every file while it streams into the archive and adds the manifest last. Reading
accepts only regular files under the names a backup holds (`manifest.json`, `database.*`, `media/...`),
never links or paths that climb out, and verifies every checksum before anyone uses the contents.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from guanxi.platform.backup.errors import ArchiveInvalid, BackupFailed
from guanxi.platform.backup.manifest import HASH_CHUNK_BYTES, MANIFEST_NAME, FileEntry, Manifest, verify_files

# Level 1 is several times faster than the default and still shrinks a SQLite file well; a pg_dump
# custom-format file is compressed already.
GZIP_LEVEL = 1
ARCHIVE_SUFFIX = ".tar.gz"


class _HashingReader(io.RawIOBase):
    """Wraps a binary file so that what tarfile reads from it is hashed on the way."""

    def __init__(self, stream: io.BufferedReader) -> None:
        super().__init__()
        self._stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        chunk = self._stream.read(size if size is not None and size >= 0 else -1)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


def _add_file(tar: tarfile.TarFile, arcname: str, path: Path) -> FileEntry:
    with path.open("rb") as stream:
        info = tar.gettarinfo(fileobj=stream, arcname=arcname)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mode = 0o600
        reader = _HashingReader(stream)
        tar.addfile(info, reader)
    if reader.size != info.size:
        raise BackupFailed(f"The file {path} changed size while it was being archived; run the backup again.")
    return FileEntry(sha256=reader.digest.hexdigest(), size=reader.size)


def archive_write(
    *, destination: Path, files: list[tuple[str, Path]], manifest_for: Callable[[dict[str, FileEntry]], Manifest]
) -> Manifest:
    """Write `files` (archive name, source path) and then the manifest built from their checksums.

    The archive appears under `destination` only when complete; until then it is `<name>.partial`.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with (
            os.fdopen(fd, "wb") as raw,
            tarfile.open(fileobj=raw, mode="w:gz", compresslevel=GZIP_LEVEL, format=tarfile.PAX_FORMAT) as tar,
        ):
            entries = {arcname: _add_file(tar, arcname, path) for arcname, path in files}
            manifest = manifest_for(entries)
            body = manifest.to_json().encode()
            info = tarfile.TarInfo(MANIFEST_NAME)
            info.size, info.mode, info.mtime = len(body), 0o600, int(time.time())
            tar.addfile(info, io.BytesIO(body))
        partial.replace(destination)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def _member_path(member: tarfile.TarInfo) -> PurePosixPath:
    """The member's relative path, or ArchiveInvalid if it is not a name a guanxi backup contains."""
    path = PurePosixPath(member.name)
    top_level_file = len(path.parts) == 1 and (path.name == MANIFEST_NAME or path.name.startswith("database."))
    allowed_top = bool(path.parts) and (path.parts[0] == "media" or top_level_file)
    if path.is_absolute() or ".." in path.parts or not allowed_top:
        raise ArchiveInvalid(f"The archive holds an unexpected entry “{member.name}”; it is not a guanxi backup.")
    if not (member.isfile() or member.isdir()):
        raise ArchiveInvalid(f"The archive entry “{member.name}” is a link or device; guanxi backups hold files only.")
    return path


def archive_extract(archive: Path, into: Path) -> Manifest:
    """Unpack `archive` into the empty directory `into` and return its verified manifest."""
    if not archive.exists():
        raise ArchiveInvalid(f"There is no backup archive at {archive}.")
    if not archive.is_file():
        raise ArchiveInvalid(f"{archive} is not a file; give the path of a guanxi backup archive ({ARCHIVE_SUFFIX}).")
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                relative = _member_path(member)
                target = into.joinpath(*relative.parts)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                if source is None:  # pragma: no cover - isfile() members always have contents
                    raise ArchiveInvalid(f"The archive entry “{member.name}” cannot be read.")
                with source, target.open("xb") as out:
                    while chunk := source.read(HASH_CHUNK_BYTES):
                        out.write(chunk)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise ArchiveInvalid(
            f"{archive} is damaged or is not a guanxi backup archive ({ARCHIVE_SUFFIX}): {exc}."
        ) from exc
    except FileExistsError as exc:
        raise ArchiveInvalid(f"{archive} holds {exc.filename} twice; it is not a guanxi backup.") from exc
    manifest_path = into / MANIFEST_NAME
    if not manifest_path.is_file():
        raise ArchiveInvalid(f"{archive} has no {MANIFEST_NAME}; it is not a guanxi backup archive.")
    try:
        text = manifest_path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ArchiveInvalid(f"The manifest in {archive} is not UTF-8 text; the archive is damaged.") from exc
    manifest = Manifest.from_json(text)
    verify_files(manifest, into)
    return manifest

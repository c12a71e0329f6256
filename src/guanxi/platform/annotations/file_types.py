"""Which files may be attached: an allow-list by extension, confirmed by sniffing the content.

A file is accepted only when its extension is on the list AND its first bytes look like that kind of
file; executables, HTML and SVG (which browsers run) are refused whatever they are called. The stored
content type comes from this table, never from what the browser claimed.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext as _

SNIFF_BYTES = 64 * 1024
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class FileKind:
    content_type: str
    family: str  # how the content is checked: jpeg, png, gif, webp, bmp, pdf, ooxml, ole, odf, text, zip


_OOXML = "application/vnd.openxmlformats-officedocument"
ALLOWED: dict[str, FileKind] = {
    "jpg": FileKind("image/jpeg", "jpeg"),
    "jpeg": FileKind("image/jpeg", "jpeg"),
    "png": FileKind("image/png", "png"),
    "gif": FileKind("image/gif", "gif"),
    "webp": FileKind("image/webp", "webp"),
    "bmp": FileKind("image/bmp", "bmp"),
    "pdf": FileKind("application/pdf", "pdf"),
    "docx": FileKind(f"{_OOXML}.wordprocessingml.document", "ooxml"),
    "xlsx": FileKind(f"{_OOXML}.spreadsheetml.sheet", "ooxml"),
    "pptx": FileKind(f"{_OOXML}.presentationml.presentation", "ooxml"),
    "doc": FileKind("application/msword", "ole"),
    "xls": FileKind("application/vnd.ms-excel", "ole"),
    "ppt": FileKind("application/vnd.ms-powerpoint", "ole"),
    "odt": FileKind("application/vnd.oasis.opendocument.text", "odf"),
    "ods": FileKind("application/vnd.oasis.opendocument.spreadsheet", "odf"),
    "odp": FileKind("application/vnd.oasis.opendocument.presentation", "odf"),
    "txt": FileKind("text/plain; charset=utf-8", "text"),
    "csv": FileKind("text/csv; charset=utf-8", "text"),
    "zip": FileKind("application/zip", "zip"),
}

# The folder an Office Open XML package keeps its main part in, per extension.
_OOXML_PARTS = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}

_EXECUTABLE_SIGNATURES = (
    b"MZ",  # Windows PE (.exe, .dll, .scr)
    b"\x7fELF",  # Linux
    b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe",  # macOS
    b"#!",  # scripts
)  # fmt: skip
_MARKUP = re.compile(rb"<\s*(!doctype\s+html|html|script|svg|iframe|body|head|object|embed)\b", re.IGNORECASE)
_UNSAFE_NAME_CHARS = re.compile(r'[<>:"|?*\\/]')


class FileRefused(ValueError):
    """The file may not be attached; the message says why, in words a user understands."""


def allowed_extensions() -> list[str]:
    return sorted(ALLOWED)


def sanitize_file_name(name: str | None) -> str:
    """A safe display name: no folders, control or reserved characters, leading dots; at most 200 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if ch.isprintable())
    base = _UNSAFE_NAME_CHARS.sub("_", base)
    base = " ".join(base.split()).strip(" .")
    if not base:
        return "file"
    if len(base) > MAX_NAME_LENGTH:
        stem, dot, ext = base.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            base = f"{stem[: MAX_NAME_LENGTH - len(ext) - 1].rstrip(' .')}.{ext}"
        else:
            base = base[:MAX_NAME_LENGTH]
    return base


def extension_of(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def _decode_text(head: bytes, encoding: str, complete: bool) -> str | None:
    try:
        return head.decode(encoding)
    except UnicodeDecodeError as exc:
        # The sniffed window of a longer file may cut a multi-byte character in two at its end.
        if complete or exc.start < len(head) - 4:
            return None
        try:
            return head[: exc.start].decode(encoding)
        except UnicodeDecodeError:
            return None


def _looks_like_text(head: bytes) -> bool:
    """UTF-8 or GB18030 text without NUL or other control characters (tabs and line breaks are fine)."""
    if b"\x00" in head:
        return False
    complete = len(head) < SNIFF_BYTES
    for encoding in ("utf-8-sig", "gb18030"):
        text = _decode_text(head, encoding, complete)
        if text is not None:
            return not any(ord(ch) < 32 and ch not in "\t\n\r\f" for ch in text)
    return False


def _zip_names(stream: IO[bytes]) -> list[str] | None:
    try:
        stream.seek(0)
        with zipfile.ZipFile(stream) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    finally:
        stream.seek(0)


def _content_matches(ext: str, kind: FileKind, head: bytes, stream: IO[bytes]) -> bool:
    family = kind.family
    if family == "jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if family == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if family == "gif":
        return head.startswith((b"GIF87a", b"GIF89a"))
    if family == "webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if family == "bmp":
        return head.startswith(b"BM")
    if family == "pdf":
        return b"%PDF-" in head[:1024]
    if family == "ole":
        return head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    if family in ("ooxml", "odf", "zip"):
        if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            return False
        names = _zip_names(stream)
        if names is None:
            return False
        if family == "ooxml":
            return "[Content_Types].xml" in names and any(n.startswith(_OOXML_PARTS[ext]) for n in names)
        if family == "odf":
            return "mimetype" in names
        return True
    if family == "text":
        return _looks_like_text(head)
    return False


def check_upload(name: str, stream: IO[bytes]) -> FileKind:
    """Return the kind of an upload named `name` (already sanitised), or raise FileRefused saying why."""
    ext = extension_of(name)
    kinds = ", ".join(f".{e}" for e in allowed_extensions())
    if not ext:
        raise FileRefused(_("The file name has no extension. Accepted types: %(kinds)s.") % {"kinds": kinds})
    kind = ALLOWED.get(ext)
    if kind is None:
        raise FileRefused(
            _("Files of type .%(ext)s are not accepted. Accepted types: %(kinds)s.") % {"ext": ext, "kinds": kinds}
        )
    stream.seek(0)
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    if not head:
        raise FileRefused(_("The file is empty."))
    if head.startswith(_EXECUTABLE_SIGNATURES) or (kind.family == "text" and _MARKUP.search(head)):
        raise FileRefused(_("Programs, scripts and web pages cannot be attached."))
    if not _content_matches(ext, kind, head, stream):
        raise FileRefused(_("The content of this file does not match its .%(ext)s extension.") % {"ext": ext})
    return kind

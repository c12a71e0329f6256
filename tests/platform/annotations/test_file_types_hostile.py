"""Hostile uploads: scripts dressed as images, double extensions, hidden characters and empty files."""

from __future__ import annotations

import io

import pytest

from guanxi.platform.annotations.file_types import FileRefused, check_upload, sanitize_file_name
from tests.platform.annotations.conftest import PDF_BYTES, PNG_BYTES

SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
)
HTML_PAGE = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/customers')</script></body></html>"


def _refusal(name: str, content: bytes) -> str:
    with pytest.raises(FileRefused) as refused:
        check_upload(sanitize_file_name(name), io.BytesIO(content))
    return str(refused.value)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("logo.png", SVG_WITH_SCRIPT, "The content of this file does not match its .png extension."),
        ("logo.svg", SVG_WITH_SCRIPT, "Files of type .svg are not accepted."),
        ("logo.SVG", PNG_BYTES, "Files of type .svg are not accepted."),
        ("photo.jpg", HTML_PAGE, "The content of this file does not match its .jpg extension."),
        (
            "photo.gif",
            b"GIF89<html><script>alert(1)</script>",
            "The content of this file does not match its .gif extension.",
        ),
        ("notes.txt", SVG_WITH_SCRIPT, "Programs, scripts and web pages cannot be attached."),
        ("notes.txt", b"  < script >alert(1)", "Programs, scripts and web pages cannot be attached."),
        ("page.csv", b"name\n<IFRAME src=//evil.example>", "Programs, scripts and web pages cannot be attached."),
        ("notes.txt", HTML_PAGE, "Programs, scripts and web pages cannot be attached."),
    ],
)
def test_markup_disguised_as_an_image_or_text_is_refused(name: str, content: bytes, message: str) -> None:
    assert _refusal(name, content).startswith(message)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("invoice.pdf.exe", b"MZ\x90\x00", "Files of type .exe are not accepted."),
        ("invoice.exe.pdf", b"MZ\x90\x00", "Programs, scripts and web pages cannot be attached."),
        ("report.pdf.html", PDF_BYTES, "Files of type .html are not accepted."),
        ("report.html.pdf", HTML_PAGE, "The content of this file does not match its .pdf extension."),
        ("setup.exe.", b"MZ\x90\x00", "Files of type .exe are not accepted."),
        ("setup.exe   ", b"MZ\x90\x00", "Files of type .exe are not accepted."),
        ("a.pdf\x00.exe", b"MZ\x90\x00", "Files of type .exe are not accepted."),
        # U+202E (right-to-left override) makes "invoice\u202efdp.exe" look like "invoiceexe.pdf".
        ("invoice\u202efdp.exe", b"MZ\x90\x00", "Files of type .exe are not accepted."),
        ("run.sh.txt", b"#!/bin/sh\necho hi\n", "Programs, scripts and web pages cannot be attached."),
        (".pdf", PDF_BYTES, "The file name has no extension."),
    ],
)
def test_double_extensions_and_hidden_characters_do_not_sneak_through(name: str, content: bytes, message: str) -> None:
    assert _refusal(name, content).startswith(message)


@pytest.mark.parametrize("name", ["empty.txt", "empty.csv", "empty.png", "empty.docx", "empty.zip"])
def test_zero_byte_files_are_refused(name: str) -> None:
    assert _refusal(name, b"") == "The file is empty."


def test_a_right_to_left_override_is_removed_from_the_stored_name() -> None:
    assert sanitize_file_name("invoice\u202efdp.exe") == "invoicefdp.exe"


def test_a_name_with_a_harmless_inner_extension_keeps_its_real_one() -> None:
    assert check_upload(sanitize_file_name("scan.php.png"), io.BytesIO(PNG_BYTES)).content_type == "image/png"

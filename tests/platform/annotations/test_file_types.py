"""Which files may be attached: extension allow-list confirmed by content, and safe display names."""

from __future__ import annotations

import io

import pytest

from guanxi.platform.annotations.file_types import FileRefused, check_upload, sanitize_file_name
from tests.platform.annotations.conftest import PDF_BYTES, PNG_BYTES, docx_bytes


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("报价.pdf", PDF_BYTES, "application/pdf"),
        ("photo.PNG", PNG_BYTES, "image/png"),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 16, "image/jpeg"),
        ("a.gif", b"GIF89a" + b"\x00" * 8, "image/gif"),
        ("合同.docx", docx_bytes(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16, "application/vnd.ms-excel"),
        ("客户.csv", "姓名,电话\n张伟,13812345678\n".encode(), "text/csv; charset=utf-8"),
        ("gbk.txt", "你好，世界".encode("gb18030"), "text/plain; charset=utf-8"),
        ("bundle.zip", docx_bytes(), "application/zip"),
    ],
)
def test_accepted_files_get_the_content_type_of_their_extension(name: str, content: bytes, content_type: str) -> None:
    assert check_upload(name, io.BytesIO(content)).content_type == content_type


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("setup.exe", b"MZ\x90\x00", "Files of type .exe are not accepted."),
        ("page.html", b"<html></html>", "Files of type .html are not accepted."),
        ("logo.svg", b"<svg/>", "Files of type .svg are not accepted."),
        ("noext", b"hello", "The file name has no extension."),
        ("invoice.pdf", b"MZ\x90\x00rest", "Programs, scripts and web pages cannot be attached."),
        ("notes.txt", b"#!/bin/sh\nrm -rf /\n", "Programs, scripts and web pages cannot be attached."),
        ("notes.txt", b"hello <script>alert(1)</script>", "Programs, scripts and web pages cannot be attached."),
        ("photo.png", PDF_BYTES, "The content of this file does not match its .png extension."),
        ("report.docx", b"PK\x03\x04 not really a zip", "The content of this file does not match its .docx extension."),
        ("data.csv", b"\x00\x01\x02binary", "The content of this file does not match its .csv extension."),
        ("empty.pdf", b"", "The file is empty."),
    ],
)
def test_refused_files_say_why(name: str, content: bytes, message: str) -> None:
    with pytest.raises(FileRefused) as refused:
        check_upload(name, io.BytesIO(content))
    assert str(refused.value).startswith(message)


def test_refusal_lists_the_accepted_types() -> None:
    with pytest.raises(FileRefused) as refused:
        check_upload("virus.exe", io.BytesIO(b"MZ"))
    assert ".pdf" in str(refused.value) and ".docx" in str(refused.value)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\张伟\\报价 单.pdf", "报价 单.pdf"),
        ("  .hidden.pdf  ", "hidden.pdf"),
        ('a<b>c:"d"|e?.pdf', "a_b_c__d__e_.pdf"),
        ("line\nbreak.pdf", "linebreak.pdf"),
        ("", "file"),
        ("..", "file"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_file_names_are_sanitised(raw: str, clean: str) -> None:
    assert sanitize_file_name(raw) == clean

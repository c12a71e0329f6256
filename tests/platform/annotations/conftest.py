"""Fixtures for annotation tests: customers of two reps, tags, and files of each kind."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.customers.models import Customer
from guanxi.platform.annotations.models import Tag
from tests.factories import CustomerFactory

CUSTOMER = "customers.customer"
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def north_customer(org: Any) -> Customer:
    return CustomerFactory(owner=org.rep_north, name="北方客户")


@pytest.fixture
def south_customer(org: Any) -> Customer:
    return CustomerFactory(owner=org.rep_south, name="南方客户")


@pytest.fixture
def vip(db: None) -> Tag:
    return Tag.objects.create(name="VIP", color=Tag.Color.RED)


@pytest.fixture
def hot(db: None) -> Tag:
    return Tag.objects.create(name="Hot", color=Tag.Color.ORANGE)

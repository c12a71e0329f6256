"""Fixtures for backup tests: uploads on a real directory, and a small company with an attachment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.customers.models import ContactPoint, Customer, Interaction
from guanxi.platform.annotations.models import Attachment
from guanxi.platform.annotations.services import attachment_add
from tests.factories import ContactPointFactory, CustomerFactory, InteractionFactory

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\n" + bytes(range(256)) * 4 + b"\ntrailer<<>>\n%%EOF\n"


@dataclass
class Company:
    """What the backup must bring back: the ids of every row created, and the attachment's bytes."""

    customer_ids: list[int]
    contact_point_ids: list[int]
    interaction_ids: list[int]
    attachment: Attachment
    attachment_bytes: bytes


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    """Uploads go to a real directory (the suite's default storage keeps them in memory)."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return root


@pytest.fixture
def company(org: Any, media_root: Path) -> Company:
    people = [CustomerFactory(owner=org.rep_north, name=f"备份客户{i}") for i in range(3)]
    for person in people:
        ContactPointFactory(customer=person)
        InteractionFactory(customer=person, subject=f"回访 {person.name}")
    attachment = attachment_add(
        actor=org.actor("rep_north"),
        target="customers.customer",
        object_id=people[0].pk,
        uploaded_file=SimpleUploadedFile("合同.pdf", PDF_BYTES, content_type="application/pdf"),
    )
    return Company(
        customer_ids=sorted(Customer.objects.values_list("id", flat=True)),
        contact_point_ids=sorted(ContactPoint.objects.values_list("id", flat=True)),
        interaction_ids=sorted(Interaction.objects.values_list("id", flat=True)),
        attachment=attachment,
        attachment_bytes=PDF_BYTES,
    )

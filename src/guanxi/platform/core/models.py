"""The base model every domain record extends: bigint id, timestamps and an optimistic-lock version."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimestampedModel(models.Model):
    """Created/updated timestamps and a version number bumped by every service write."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True

    def bump_version(self) -> None:
        self.version = (self.version or 0) + 1

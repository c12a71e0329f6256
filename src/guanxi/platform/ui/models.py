"""Saved views: a named set of list filters and a sort, kept per user and optionally shared with everyone."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.platform.core.models import TimestampedModel

MAX_QUERY_LENGTH = 2000
MAX_NAME_LENGTH = 100


class SavedView(TimestampedModel):
    """A list page's query string ("stage=active&sort=-rating") saved under a name."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    target = models.CharField(
        _("list"), max_length=64, help_text=_("The record type the list shows, e.g. customers.customer.")
    )
    name = models.CharField(_("name"), max_length=MAX_NAME_LENGTH)
    query = models.CharField(_("filters"), max_length=MAX_QUERY_LENGTH, blank=True)
    is_shared = models.BooleanField(_("shared with everyone"), default=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [
            models.UniqueConstraint(fields=["user", "target", "name"], name="savedview_unique_name_per_user"),
        ]
        indexes = [models.Index(fields=["target", "user"], name="savedview_target_user")]

    def __str__(self) -> str:
        return self.name

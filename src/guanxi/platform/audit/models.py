"""The access log: who saw unmasked personal data, who exported what."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessLogEntry(models.Model):
    class Action(models.TextChoices):
        VIEW_PERSONAL_DATA = "view_personal_data", _("Viewed personal data")
        EXPORT = "export", _("Exported records")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    object_type = models.CharField(_("record type"), max_length=64)
    object_id = models.BigIntegerField(_("record id"), null=True, blank=True)
    record_count = models.PositiveIntegerField(_("records"), default=1)
    channel = models.CharField(_("channel"), max_length=16, default="web")
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    occurred_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id or ''} by {self.user_id}"

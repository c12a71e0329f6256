"""Tags (coloured), tag assignments, attachments and notes, attached to any record by type code and id."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.platform.audit.history import ChangeHistory
from guanxi.platform.core.models import TimestampedModel


class Tag(TimestampedModel):
    class Color(models.TextChoices):
        GRAY = "gray", _("Gray")
        RED = "red", _("Red")
        ORANGE = "orange", _("Orange")
        YELLOW = "yellow", _("Yellow")
        GREEN = "green", _("Green")
        TEAL = "teal", _("Teal")
        BLUE = "blue", _("Blue")
        PURPLE = "purple", _("Purple")
        PINK = "pink", _("Pink")

    name = models.CharField(_("name"), max_length=50, unique=True)
    color = models.CharField(_("color"), max_length=10, choices=Color.choices, default=Color.BLUE)
    description = models.CharField(_("description"), max_length=200, blank=True)

    history = ChangeHistory()

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class TaggedItem(models.Model):
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="items")
    target = models.CharField(max_length=64)
    object_id = models.BigIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target", "object_id", "tag"], name="taggeditem_unique"),
        ]
        indexes = [models.Index(fields=["tag", "target", "object_id"], name="taggeditem_by_tag")]

    def __str__(self) -> str:
        return f"{self.target}#{self.object_id}: {self.tag_id}"


class Attachment(models.Model):
    target = models.CharField(max_length=64)
    object_id = models.BigIntegerField()
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("content type"), max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["target", "object_id"], name="attachment_by_record")]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class Note(TimestampedModel):
    target = models.CharField(max_length=64)
    object_id = models.BigIntegerField()
    body = models.TextField(_("note"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    history = ChangeHistory()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["target", "object_id"], name="note_by_record")]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

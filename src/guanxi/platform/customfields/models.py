"""A custom field definition: type, zh/en labels, choices, whether it is required and filterable."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.platform.audit.history import ChangeHistory
from guanxi.platform.core.models import TimestampedModel


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    MONEY = "money", _("Money")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    BOOLEAN = "boolean", _("Yes / no")
    USER = "user", _("User")
    URL = "url", _("Web address")


class CustomFieldDefinition(TimestampedModel):
    target = models.CharField(_("record type"), max_length=64, db_index=True)
    key = models.SlugField(_("key"), max_length=50)
    label_zh = models.CharField(_("label (Chinese)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100)
    field_type = models.CharField(_("type"), max_length=20, choices=FieldType.choices)
    choices = models.JSONField(
        _("choices"), default=list, blank=True, help_text=_("For choice fields: [{value, label_zh, label_en}].")
    )
    required = models.BooleanField(_("required"), default=False)
    help_text_zh = models.CharField(_("help (Chinese)"), max_length=200, blank=True)
    help_text_en = models.CharField(_("help (English)"), max_length=200, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    history = ChangeHistory()

    class Meta:
        ordering = ["target", "position", "id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        constraints = [models.UniqueConstraint(fields=["target", "key"], name="customfield_unique_key_per_target")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.label_zh if (get_language() or "").startswith("zh") else self.label_en

    @property
    def help_text(self) -> str:
        return self.help_text_zh if (get_language() or "").startswith("zh") else self.help_text_en

    def choice_label(self, value: str) -> str:
        zh = (get_language() or "").startswith("zh")
        for choice in self.choices:
            if choice.get("value") == value:
                return str(choice.get("label_zh" if zh else "label_en") or value)
        return value

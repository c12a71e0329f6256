"""Users, teams (a tree with materialised paths), roles and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.platform.audit.history import ChangeHistory
from guanxi.platform.core.models import TimestampedModel
from guanxi.platform.identity.permissions import DataScope


class Team(TimestampedModel):
    """A team; teams form a tree. `path` is "/1/4/9/" so a subtree is one prefix query."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent team"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    manager = models.ForeignKey(
        "identity.User",
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    history = ChangeHistory(excluded_fields=["path", "depth"])

    class Meta:
        ordering = ["path"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Role(TimestampedModel):
    """A set of action permissions and a data scope per object type. Built-in roles are editable."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    permissions = models.JSONField(_("permissions"), default=list, blank=True)
    scopes = models.JSONField(_("data scopes"), default=dict, blank=True)
    is_builtin = models.BooleanField(_("built in"), default=False)

    history = ChangeHistory()

    class Meta:
        ordering = ["id"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en

    def scope_for(self, object_type: str) -> str:
        return str(self.scopes.get(object_type, DataScope.OWN))


class GuanxiUserManager(UserManager["User"]):
    def get_queryset(self) -> models.QuerySet[User]:
        return super().get_queryset().select_related("role", "team")


class User(AbstractUser):
    """A person who signs in. Belongs to one main team and has one role."""

    class Language(models.TextChoices):
        BROWSER = "", _("Follow the browser")
        ZH_HANS = "zh-hans", "简体中文"
        EN = "en", "English"

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    role = models.ForeignKey(
        Role, verbose_name=_("role"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    language = models.CharField(_("language"), max_length=10, choices=Language.choices, blank=True, default="")
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")

    objects = GuanxiUserManager()  # type: ignore[misc]
    # Never the password hash; the last login changes on every sign-in and is not an edit.
    history = ChangeHistory(excluded_fields=["password", "last_login"])

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class ApiToken(models.Model):
    """A personal API token: only a hash is stored; the secret is shown once at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

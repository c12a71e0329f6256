"""`guanxi createadmin`: create the administrator and print the login (kept in var/admin-login.txt).

Idempotent: when the administrator exists, the stored login is printed again and nothing changes.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.identity.models import Role, Team, User
from guanxi.platform.identity.roles import ADMINISTRATOR
from guanxi.platform.identity.services import roles_ensure_builtin, team_create, user_create

LOGIN_FILE_NAME = "admin-login.txt"


def login_file() -> Path:
    return Path(settings.VAR_DIR) / LOGIN_FILE_NAME


def head_office() -> Team:
    """The root team the administrator belongs to; "总部" (Head office) is created when there is none."""
    root = Team.objects.filter(parent__isnull=True).order_by("id").first()
    if root is not None:
        return root
    name = "总部" if settings.LANGUAGE_CODE.startswith("zh") else "Head office"
    return team_create(actor=None, name=name)


def write_login(path: Path, *, url: str, username: str, password: str) -> None:
    """Write the login readable by the owner only (mode 600, also when the file existed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(f"URL: {url}\nUsername: {username}\nPassword: {password}\n")
    path.chmod(0o600)


def banner(text: str) -> str:
    lines = text.strip().splitlines()
    width = max(len(line) for line in lines) + 4
    rule = "=" * width
    return "\n".join([rule, *(f"  {line}" for line in lines), rule])


class Command(BaseCommand):
    help = "Create an administrator (superuser with the administrator role) and print the login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin", help="User name (default: admin).")
        parser.add_argument(
            "--password",
            default="",
            help="Password (at least 10 characters, not common, not only digits, not like the user name); "
            "a strong one is generated when omitted.",
        )
        parser.add_argument("--email", default="", help="Email address.")
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="Where to sign in (printed).")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        path = login_file()
        if User.objects.filter(username__iexact=username).exists():
            if path.exists():
                self.stdout.write(banner(f"Administrator login (from {path}):\n{path.read_text(encoding='utf-8')}"))
            else:
                self.stdout.write(
                    f"The administrator “{username}” already exists; its password is not stored here. "
                    f"Set a new one with: guanxi changepassword {username}"
                )
            return
        generated = not options["password"]
        password = options["password"] or secrets.token_urlsafe(12)
        try:
            with transaction.atomic():
                roles_ensure_builtin()
                user_create(
                    actor=None,
                    username=username,
                    password=password,
                    display_name="Administrator" if username == "admin" else username,
                    email=options["email"],
                    team=head_office(),
                    role=Role.objects.get(code=ADMINISTRATOR),
                    is_superuser=True,
                )
        except ValidationFailed as exc:
            messages = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.fields.items())
            raise CommandError(messages or exc.message) from None
        if generated:
            write_login(path, url=options["url"], username=username, password=password)
            self.stdout.write(
                banner(
                    f"Administrator created. Sign in at {options['url']}\nUsername: {username}\n"
                    f"Password: {password}\n(kept in {path})"
                )
            )
        else:
            self.stdout.write(banner(f"Administrator “{username}” created with the password you gave."))

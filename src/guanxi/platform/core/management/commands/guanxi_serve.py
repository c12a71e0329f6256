"""`guanxi serve`: the production web server, gunicorn with the configuration in guanxi.config.gunicorn.

The command replaces itself with gunicorn (exec), so a process manager signals gunicorn's master
directly: SIGHUP reloads the code gracefully, SIGTERM stops after the running requests.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

GUNICORN_CONFIG = "python:guanxi.config.gunicorn"


def gunicorn_command(*, check_only: bool) -> list[str]:
    """This Python running gunicorn with guanxi's configuration module."""
    command = [sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONFIG]
    return [*command, "--print-config"] if check_only else command


def gunicorn_environment(*, bind: str | None, workers: int | None) -> dict[str, str]:
    """The environment gunicorn starts with: this one, plus the overrides given on the command line."""
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE)
    if bind:
        env["GUANXI_WEB_BIND"] = bind
    if workers is not None:
        env["GUANXI_WEB_WORKERS"] = str(workers)
    return env


class Command(BaseCommand):
    help = (
        "Serve guanxi in production with gunicorn (config: guanxi.config.gunicorn; tune it with GUANXI_WEB_* "
        "environment variables). Refuses to run with DEBUG on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", help="Address to listen on, e.g. 127.0.0.1:8000 (GUANXI_WEB_BIND).")
        parser.add_argument("--workers", type=int, help="Number of worker processes (GUANXI_WEB_WORKERS).")
        parser.add_argument("--print-config", action="store_true", help="Print gunicorn's resolved settings and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DEBUG:
            raise CommandError(
                f"DEBUG is on (settings {settings.SETTINGS_MODULE}); `guanxi serve` is the production server. "
                "Set DJANGO_SETTINGS_MODULE=guanxi.config.settings.production (see docs/deploy.md), "
                "or use `guanxi run` for development."
            )
        if options["workers"] is not None and options["workers"] < 1:
            raise CommandError("--workers must be at least 1.")
        command = gunicorn_command(check_only=options["print_config"])
        env = gunicorn_environment(bind=options["bind"], workers=options["workers"])
        sys.stdout.flush()
        sys.stderr.flush()
        # Fixed program (this Python's gunicorn) and arguments; the environment carries the settings.
        os.execve(sys.executable, command, env)  # noqa: S606  # nosec B606

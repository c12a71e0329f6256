"""`guanxi run`: everything `make run` promises, in one command.

Migrates the database, loads the demo company on the first run only (a marker file under var/),
creates the administrator and prints the login, then runs the web server and the background worker
as two child processes. Ctrl-C (or SIGTERM) stops both; when either child dies, the other is stopped.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

DEMO_MARKER_NAME = "demo-loaded"
STOP_GRACE_SECONDS = 15
POLL_SECONDS = 0.5


class StopRequested(Exception):
    """SIGINT or SIGTERM reached `guanxi run`."""


def demo_marker() -> Path:
    return Path(settings.VAR_DIR) / DEMO_MARKER_NAME


def child_command(*args: str) -> list[str]:
    """This Python running the `guanxi` command, so the children use the same environment and settings."""
    return [sys.executable, "-m", "guanxi.cli", *args]


def stop_children(children: dict[str, subprocess.Popen[bytes]]) -> None:
    """Ask every running child to stop (SIGINT: both finish their work), then kill what is left."""
    for process in children.values():
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in children.values():
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Command(BaseCommand):
    help = "Migrate, load the demo on the first run, create the administrator, serve with the worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on (default 8000).")
        parser.add_argument("--no-demo", action="store_true", help="Do not load the demo company.")
        parser.add_argument("--no-worker", action="store_true", help="Do not start the background worker.")
        parser.add_argument("--workers", type=int, default=2, help="Worker threads of the background worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        url = f"http://{host}:{port}/"
        call_command("migrate", interactive=False, verbosity=1)
        if not options["no_demo"]:
            self._load_demo_once()
        call_command("guanxi_createadmin", url=url)
        connection.close()  # the children open their own connections
        self._serve(host=host, port=port, url=url, worker=not options["no_worker"], workers=options["workers"])

    def _load_demo_once(self) -> None:
        marker = demo_marker()
        if marker.exists():
            return
        self.stdout.write("First run: loading the demo company (guanxi demo)...")
        try:
            call_command("guanxi_demo")
        except CommandError as exc:  # the demo refuses a database that already holds data
            self.stdout.write(f"The demo company was not loaded: {exc}")
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("The demo was offered on the first run; delete this file to offer it again.\n")

    def _serve(self, *, host: str, port: int, url: str, worker: bool, workers: int) -> None:
        def on_signal(signum: int, frame: FrameType | None) -> None:
            raise StopRequested

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        children: dict[str, subprocess.Popen[bytes]] = {}
        try:
            # Own process groups: a terminal's Ctrl-C reaches only us, and we stop each child once, cleanly.
            # The children are this Python running `guanxi` with fixed arguments: no untrusted input.
            children["web server"] = subprocess.Popen(  # noqa: S603 (fixed arguments, see above)  # nosec B603
                child_command("runserver", f"{host}:{port}", "--noreload"), process_group=0
            )
            if worker:
                children["worker"] = subprocess.Popen(  # noqa: S603 (fixed arguments, see above)  # nosec B603
                    child_command("worker", "--workers", str(workers)), process_group=0
                )
            self.stdout.write(self.style.SUCCESS(f"guanxi is running at {url} — press Ctrl-C to stop."))
            while True:
                for name, process in children.items():
                    code = process.poll()
                    if code is not None:
                        raise CommandError(f"The {name} stopped (exit code {code}); stopping guanxi.")
                time.sleep(POLL_SECONDS)
        except StopRequested:
            self.stdout.write("Stopping the web server and the worker...")
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            stop_children(children)

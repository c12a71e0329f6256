"""`guanxi worker`: the background worker (the huey consumer, with the periodic jobs' scheduler)."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from huey import Huey
from huey.consumer import Consumer

from guanxi.platform.core.jobs import get_huey, periodic_jobs

SHUTDOWN_TIMEOUT_SECONDS = 30


class GracefulConsumer(Consumer):
    """A huey consumer that finishes the running tasks on SIGTERM as well as on SIGINT (Ctrl-C).

    huey treats SIGTERM as "stop now"; process managers (systemd, docker, `guanxi run`) send SIGTERM
    and expect a clean stop, so both signals mean "finish what is running, then exit".
    """

    def __init__(self, huey: Huey, **options: Any) -> None:
        super().__init__(huey, **options)
        self._signal_actions[signal.SIGTERM] = (False, True)
        self._signal_actions[signal.SIGINT] = (False, True)


def build_consumer(*, workers: int, worker_type: str, periodic: bool = True) -> Consumer:
    huey = get_huey()
    if huey.immediate:
        raise CommandError("The worker cannot run while GUANXI_HUEY['immediate'] is on (tasks already run inline).")
    return GracefulConsumer(
        huey,
        workers=workers,
        worker_type=worker_type,
        periodic=periodic,
        check_worker_health=True,
        shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS,
    )


class Command(BaseCommand):
    help = "Run the background worker: queued tasks and periodic jobs. Ctrl-C or SIGTERM stops it cleanly."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=2, help="Number of worker threads (default 2).")
        parser.add_argument(
            "--worker-type", choices=["thread", "process", "greenlet"], default="thread", help="How workers run."
        )
        parser.add_argument("--no-periodic", action="store_true", help="Do not run the periodic jobs here.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1.")
        consumer = build_consumer(
            workers=options["workers"], worker_type=options["worker_type"], periodic=not options["no_periodic"]
        )
        names = ", ".join(job.name for job in periodic_jobs()) or "none"
        self.stdout.write(
            f"guanxi worker: {options['workers']} {options['worker_type']} worker(s); periodic jobs: {names}"
        )
        consumer.run()

"""`guanxi jobs list` and `guanxi jobs run NAME`: see the periodic jobs and run one now, in this process."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.platform.core.jobs import periodic_jobs, run_periodic_job


class Command(BaseCommand):
    help = "List the periodic jobs, or run one of them now (every periodic job is idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="List the periodic jobs and their schedules.")
        run = sub.add_parser("run", help="Run one periodic job now.")
        run.add_argument("name", help="The job's name, as shown by `guanxi jobs list`.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            jobs = periodic_jobs()
            if not jobs:
                self.stdout.write("No periodic jobs are registered.")
            for job in jobs:
                schedule = f"minute={job.minute} hour={job.hour} day={job.day}"
                self.stdout.write(f"{job.name}\t{schedule}\t{job.task.module_path}")
            return
        name = options["name"]
        known = {job.name for job in periodic_jobs()}
        if name not in known:
            raise CommandError(f"No periodic job named “{name}”. Known: {', '.join(sorted(known)) or 'none'}.")
        result = run_periodic_job(name)
        self.stdout.write(self.style.SUCCESS(f"{name}: done") + (f" ({result})" if result is not None else ""))

"""`guanxi demo`: load the demo company (teams, a user per role, customers, leads, history) and print the logins."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.customers.demo import DEFAULT_CUSTOMERS, DEFAULT_SEED, DEMO_PASSWORD, DemoRefused, demo_load
from guanxi.platform.core.errors import ValidationFailed


class Command(BaseCommand):
    help = "Load the demo company. Refuses when it is loaded already, or when the database holds customers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers", type=int, default=DEFAULT_CUSTOMERS, help="How many customers (default 2000)."
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="Random seed: the same seed, the same company."
        )
        parser.add_argument("--password", default=DEMO_PASSWORD, help="The demo users' shared password.")
        parser.add_argument("--force", action="store_true", help="Load even though the database holds customers.")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            summary = demo_load(
                customers=options["customers"],
                seed=options["seed"],
                password=options["password"],
                force=options["force"],
            )
        except DemoRefused as exc:
            raise CommandError(exc.message) from None
        except ValidationFailed as exc:
            raise CommandError("; ".join(" ".join(msgs) for msgs in exc.fields.values()) or exc.message) from None
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo company loaded in {seconds:.1f} s: {summary.customers} customers "
                f"({summary.organisations} organisations), {summary.contact_points} contact points, "
                f"{summary.leads} leads, {summary.interactions} interactions, {summary.tasks} tasks, "
                f"{summary.pool_customers} customers in the public pool, {summary.tags} tag assignments."
            )
        )
        self.stdout.write(f"Demo users (password “{summary.password}”): {', '.join(summary.users)}")

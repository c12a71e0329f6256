"""`guanxi bench-data`: generate scale data for benchmarks (bench customers owned by 200 bench users)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from guanxi.customers.scale_data import DEFAULT_BATCH, DEFAULT_SEED, bench_data_generate, bench_data_truncate


class Command(BaseCommand):
    help = (
        "Generate N bench customers with contact points, interactions, tasks, tags and custom field values, "
        "written straight into the database (COPY on PostgreSQL). No change history is written for them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=10_000, help="How many customers (default 10,000).")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed.")
        parser.add_argument(
            "--batch", type=int, default=DEFAULT_BATCH, help="Customers per chunk and transaction (default 50,000)."
        )
        parser.add_argument("--no-interactions", action="store_true", help="Skip interactions (quick runs).")
        parser.add_argument(
            "--truncate", action="store_true", help="First delete the customers owned by bench users (never others)."
        )
        parser.add_argument(
            "--results-dir",
            default="bench/results",
            help="Where to write generate-<vendor>-<N>.json (default bench/results); '' to skip.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        if options["customers"] <= 0:
            if options["truncate"]:
                self.stdout.write(f"removed earlier bench rows: {bench_data_truncate()}")
            return
        summary = bench_data_generate(
            customers=options["customers"],
            seed=options["seed"],
            batch=max(1, options["batch"]),
            interactions=not options["no_interactions"],
            truncate=options["truncate"],
            progress=progress,
        )
        figures = summary.as_json()
        rows = ", ".join(f"{count:,} {name.replace('_', ' ')}" for name, count in summary.rows.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated on {summary.vendor} in {summary.seconds:.1f} s: {rows} "
                f"({figures['rows_total']:,} rows, {figures['rows_per_second']:,} rows/s)."
            )
        )
        if options["results_dir"]:
            folder = Path(options["results_dir"])
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"generate-{summary.vendor}-{summary.customers}.json"
            path.write_text(json.dumps(figures, indent=2) + "\n")
            self.stdout.write(f"Figures written to {path}")

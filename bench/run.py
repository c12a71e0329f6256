"""`make bench`: latency of the main pages, endpoints and searches at scale, each beside a raw-SQL baseline.

    python -m bench.run --database-url postgres://postgres@127.0.0.1:5432/guanxi_bench --customers 1000000
    python -m bench.run --database-url sqlite:///var/bench/sqlite-100000.sqlite3 --customers 100000

One database per run (Django is configured once per process; `make bench` runs one process per target).
The database is created and migrated if needed and filled with `guanxi bench-data` when it holds fewer
bench customers than asked (an existing database of the right size is reused: a million customers take
a quarter of an hour to generate). Each scenario runs `--warmup` times unmeasured, then `--iterations`
times with the request and its baseline interleaved, so a noisy neighbour slows both alike. Results go to
`bench/results/<name>.json` and a table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET_MS = {"list": 100.0, "customer": 150.0, "search": 150.0}


@dataclass
class Figure:
    """The measured figures of one scenario."""

    name: str
    group: str
    actor: str
    iterations: int
    median_ms: float
    p95_ms: float
    baseline_median_ms: float
    baseline_p95_ms: float
    ratio: float
    queries: int
    queries_by_page_size: dict[str, int]
    target_p95_ms: float | None
    meets_target: bool | None


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (p95 of 50 samples is the 48th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.config.settings.dev"
    os.environ["DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("GUANXI_REQUIRE_2FA_FOR_ADMINS", "false")
    import django

    django.setup()


def _ensure_postgres_database(database_url: str) -> None:
    """Create the PostgreSQL database (UTF-8, C.UTF-8 collation as pg_trgm needs for Chinese) if missing."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(database_url)
    with psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if not exists:
            conn.execute(
                sql.SQL(
                    "CREATE DATABASE {} ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0"
                ).format(sql.Identifier(config["NAME"]))
            )


def ensure_data(customers: int, seed: int) -> dict[str, Any]:
    """Migrate, then generate bench customers unless about `customers` of them are there already."""
    from django.core.management import call_command

    from guanxi.customers.models import Customer
    from guanxi.customers.scale_data import BENCH_USER_PREFIX, bench_data_generate, bench_data_truncate

    call_command("migrate", verbosity=0)
    have = Customer.objects.filter(owner__username__startswith=BENCH_USER_PREFIX).count()
    generated: dict[str, Any] = {"reused": True, "customers": have}
    if abs(have - customers) > customers * 0.01:
        if have:
            bench_data_truncate()
        started = time.perf_counter()
        summary = bench_data_generate(customers=customers, seed=seed, progress=print)
        generated = {"reused": False, "customers": customers, "seconds": round(time.perf_counter() - started, 1)}
        generated["rows"] = summary.rows
    _analyse()
    return generated


def _analyse() -> None:
    """Fresh planner statistics, as autovacuum would have after a bulk load."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _count_queries(call: Any, arg: Any) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call(arg)
    return len(captured.captured_queries)


def measure(scenario: Any, iterations: int, warmup: int, rng: random.Random) -> Figure:
    args = list(scenario.args)
    for index in range(warmup):
        scenario.request(args[index % len(args)])
        scenario.baseline(args[index % len(args)])
    app, base = [], []
    for index in range(iterations):
        arg = args[(warmup + index) % len(args)]
        first_app = rng.random() < 0.5  # alternate the order so neither side always runs on a warm cache
        for side in ("app", "base") if first_app else ("base", "app"):
            started = time.perf_counter()
            (scenario.request if side == "app" else scenario.baseline)(arg)
            (app if side == "app" else base).append((time.perf_counter() - started) * 1000)
    queries = _count_queries(scenario.request, args[0])
    by_size = {str(size): _count_queries(call, args[0]) for size, call in scenario.page_size_variants.items()}
    if by_size:
        by_size["50"] = queries
    target = TARGET_MS.get(scenario.group)
    p95 = percentile(app, 0.95)
    return Figure(
        name=scenario.name,
        group=scenario.group,
        actor=scenario.actor,
        iterations=iterations,
        median_ms=round(statistics.median(app), 2),
        p95_ms=round(p95, 2),
        baseline_median_ms=round(statistics.median(base), 2),
        baseline_p95_ms=round(percentile(base, 0.95), 2),
        ratio=round(statistics.median(app) / max(statistics.median(base), 0.001), 1),
        queries=queries,
        queries_by_page_size=by_size,
        target_p95_ms=target,
        meets_target=None if target is None else p95 < target,
    )


def run(
    *, customers: int, iterations: int, warmup: int, seed: int, only: str = "", progress: Any = print
) -> dict[str, Any]:
    """Build the scenarios on the configured database, measure each, and return the report as a dict."""
    from django.db import connection

    from bench import scenarios as sc

    rng = random.Random(seed)
    actors = sc.bench_actors()
    written = sc.WrittenRows()
    try:
        all_scenarios = [
            *sc.list_scenarios(actors),
            *sc.customer_detail_scenarios(actors, rng),
            *sc.search_scenarios(actors, rng),
            *sc.write_scenarios(actors, rng, written),
        ]
        figures = []
        for scenario in all_scenarios:
            if only and only not in f"{scenario.group} {scenario.name}":
                continue
            figure = measure(scenario, iterations, warmup, rng)
            progress(
                f"  {figure.name:<28} {figure.actor:<8} p50 {figure.median_ms:7.1f} ms  p95 {figure.p95_ms:7.1f} ms"
                f"  SQL p50 {figure.baseline_median_ms:6.1f} ms  {figure.queries} queries"
            )
            figures.append(figure)
    finally:
        written.remove()
        sc.revoke_tokens(actors)
    return {
        "database": connection.vendor,
        "database_version": _database_version(),
        "customers": customers,
        "iterations": iterations,
        "machine": _machine(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "figures": [asdict(figure) for figure in figures],
    }


def _database_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        return str(cursor.fetchone()[0]).split(" on ")[0]


def _machine() -> dict[str, Any]:
    memory_gb = 0.0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split("\n")[0].split()[1])
        memory_gb = round(kb / 1024 / 1024, 1)
    return {
        "cpus": os.cpu_count(),
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def format_table(report: dict[str, Any]) -> str:
    header = (
        f"{report['database']} · {report['customers']:,} customers · {report['iterations']} runs each · "
        f"{report['machine']['cpus']} CPUs"
    )
    lines = [
        header,
        f"{'scenario':<28} {'actor':<8} {'p50 ms':>8} {'p95 ms':>8} {'SQL p50':>8} {'ratio':>6} {'queries':>8}"
        f" {'target':>7}",
    ]
    for figure in report["figures"]:
        target = figure["target_p95_ms"]
        verdict = "" if target is None else ("ok" if figure["meets_target"] else f"MISS<{target:.0f}")
        sizes = figure["queries_by_page_size"]
        queries = str(figure["queries"]) if not sizes or len(set(sizes.values())) == 1 else "varies"
        lines.append(
            f"{figure['name']:<28} {figure['actor']:<8} {figure['median_ms']:>8.1f} {figure['p95_ms']:>8.1f}"
            f" {figure['baseline_median_ms']:>8.1f} {figure['ratio']:>6.1f} {queries:>8} {verdict:>7}"
        )
    return "\n".join(lines)


def format_markdown(report: dict[str, Any]) -> str:
    """The figures as a Markdown table, for docs/performance.md (`python -m bench.run --markdown FILE`)."""
    lines = [
        "| scenario | actor | p50 ms | p95 ms | raw SQL p50 ms | ratio | queries | target p95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for figure in report["figures"]:
        target = figure["target_p95_ms"]
        verdict = "" if target is None else f"{'ok' if figure['meets_target'] else '**missed**'} (< {target:.0f})"
        lines.append(
            f"| {figure['name']} | {figure['actor']} | {figure['median_ms']:.1f} | {figure['p95_ms']:.1f} | "
            f"{figure['baseline_median_ms']:.1f} | {figure['ratio']:.1f} | {figure['queries']} | {verdict} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--markdown", metavar="RESULTS_JSON", help="print a results file as Markdown and exit")
    parser.add_argument("--database-url")
    parser.add_argument("--customers", type=int)
    parser.add_argument("--name", help="results file name (default: <vendor>-<customers>)")
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--only", default="", help="run the scenarios whose group or name contains this text")
    args = parser.parse_args(argv)
    if args.markdown:
        print(format_markdown(json.loads(Path(args.markdown).read_text())))
        return 0
    if not args.database_url or not args.customers:
        parser.error("--database-url and --customers are required")
    if args.database_url.startswith("postgres"):
        _ensure_postgres_database(args.database_url)
    elif args.database_url.startswith("sqlite:///"):
        Path(args.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    _setup_django(args.database_url)
    print(f"== {args.database_url} · {args.customers:,} customers", flush=True)
    generated = ensure_data(args.customers, args.seed)
    report = run(
        customers=args.customers, iterations=args.iterations, warmup=args.warmup, seed=args.seed, only=args.only
    )
    report["data"] = generated
    name = args.name or f"{report['database']}-{args.customers}"
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(format_table(report))
    print(f"written to bench/results/{name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make bench-load`: requests per second and p95 latency of a realistic mix, under 50 and 200 simulated reps.

    python -m bench.load --database-url postgres://postgres@127.0.0.1:5432/guanxi_bench

Uses the bench database as `make bench` left it (run that first). It signs in 200 bench reps by creating
their sessions directly (the login form is rate-limited and would be measured instead), picks each rep's
own customers and search terms, starts gunicorn with the production configuration
(`guanxi.config.gunicorn`: workers from the CPU count, two threads each) on 127.0.0.1, runs locust headless
(`bench/locustfile.py`) for each user count, and writes `bench/results/load-<vendor>.json`. Locust runs on
the same two cores as gunicorn and the database, so the figures are a floor for a real deployment.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.run import RESULTS_DIR, _machine, _setup_django

BENCH_DIR = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
REPS = 200
CUSTOMERS_PER_REP = 100


def signed_in_reps(count: int) -> list[dict[str, Any]]:
    """A session, a CSRF token, own customer ids and search terms for each of `count` bench reps."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.middleware.csrf import _get_new_csrf_string

    from guanxi.customers.models import Customer
    from guanxi.platform.identity.models import User

    backend = settings.AUTHENTICATION_BACKENDS[-1]
    reps = []
    users = User.objects.filter(username__startswith="bench_user_", role__code="sales_rep").order_by("username")
    for user in users[:count]:
        customers = list(
            Customer.objects.filter(owner=user).order_by("-id").values_list("id", "name_initials")[:CUSTOMERS_PER_REP]
        )
        if not customers:
            continue
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        terms = sorted({initials[:2] for _id, initials in customers if len(initials) >= 2})[:20]
        reps.append(
            {
                "username": user.username,
                "session_key": session.session_key,
                "csrf_token": _get_new_csrf_string(),
                "customer_ids": [customer_id for customer_id, _initials in customers],
                "search_terms": terms or ["zh"],
            }
        )
    return reps


def _wait_until_up(url: str, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer at {url}")


def _aggregate(stats_csv: Path) -> dict[str, Any]:
    by_name: dict[str, Any] = {}
    with stats_csv.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            by_name[row["Name"] or "Aggregated"] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "median_ms": float(row["Median Response Time"]),
                "p95_ms": float(row["95%"]),
                "rps": round(float(row["Requests/s"]), 1),
            }
    return by_name


def run_locust(*, users: int, seconds: int, host: str, sessions_file: Path, workdir: Path) -> dict[str, Any]:
    prefix = workdir / f"locust-{users}"
    command = [
        str(BIN / "locust"),
        "-f",
        str(BENCH_DIR / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(max(users // 10, 1)),
        "--run-time",
        f"{seconds}s",
        "--host",
        host,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    env = {**os.environ, "GUANXI_LOAD_SESSIONS": str(sessions_file)}
    subprocess.run(command, check=False, env=env, timeout=seconds + 120)
    stats = _aggregate(Path(f"{prefix}_stats.csv"))
    return {"users": users, "seconds": seconds, "total": stats.pop("Aggregated"), "endpoints": stats}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--users", default="50,200", help="comma-separated simulated user counts")
    parser.add_argument("--seconds", type=int, default=60, help="how long each user count runs")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args(argv)
    _setup_django(args.database_url)
    from django.db import connection

    reps = signed_in_reps(REPS)
    workdir = Path(tempfile.mkdtemp(prefix="guanxi-load-"))
    sessions_file = workdir / "sessions.json"
    sessions_file.write_text(json.dumps(reps, ensure_ascii=False))
    host = f"http://127.0.0.1:{args.port}"
    env = {
        **os.environ,
        "GUANXI_WEB_BIND": f"127.0.0.1:{args.port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": host,
    }
    server = subprocess.Popen([str(BIN / "gunicorn"), "-c", "python:guanxi.config.gunicorn"], env=env)
    try:
        _wait_until_up(f"{host}/login/")
        runs = [
            run_locust(users=int(users), seconds=args.seconds, host=host, sessions_file=sessions_file, workdir=workdir)
            for users in args.users.split(",")
        ]
    finally:
        server.terminate()
        server.wait(timeout=60)
    report = {
        "database": connection.vendor,
        "reps_signed_in": len(reps),
        "server": "gunicorn, guanxi.config.gunicorn defaults",
        "machine": _machine(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "runs": runs,
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"load-{connection.vendor}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(f"{'users':>6} {'requests':>9} {'failures':>9} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}")
    for item in runs:
        total = item["total"]
        print(
            f"{item['users']:>6} {total['requests']:>9} {total['failures']:>9} {total['rps']:>7} "
            f"{total['median_ms']:>7.0f} {total['p95_ms']:>7.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `guanxi` command: management commands with short names.

guanxi run          migrate, load the demo on first run, serve on 127.0.0.1:8000 with the worker
guanxi serve        the production web server (gunicorn, config in guanxi.config.gunicorn)
guanxi worker       the background worker (huey consumer with periodic jobs; on Redis when REDIS_URL is set)
guanxi backup       back up the database and uploaded files into one archive (--output PATH)
guanxi restore      restore such an archive (PATH; --force to replace a database that holds data)
guanxi demo         load the demo company
guanxi createadmin  create an administrator and print the login
guanxi bench-data   generate scale data for benchmarks (--customers N)
guanxi <command>    any Django management command (migrate, shell, ...)
"""

from __future__ import annotations

import os
import sys

ALIASES = {
    "run": "guanxi_run",
    "serve": "guanxi_serve",
    "worker": "guanxi_worker",
    "backup": "guanxi_backup",
    "restore": "guanxi_restore",
    "demo": "guanxi_demo",
    "createadmin": "guanxi_createadmin",
    "jobs": "guanxi_jobs",
    "bench-data": "guanxi_bench_data",
}


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.config.settings.dev")
    from django.core.management import execute_from_command_line

    if not args or args[0] in ("-h", "--help", "help"):
        print(__doc__)
        if not args:
            return
    command = ALIASES.get(args[0], args[0]) if args else "help"
    execute_from_command_line(["guanxi", command, *args[1:]])


if __name__ == "__main__":
    main()

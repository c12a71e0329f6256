"""Scale data for benchmarks: `python bench/generate.py --customers 1000000` (the same as `guanxi bench-data`).

A thin wrapper: the generator lives in `guanxi.customers.scale_data`, so the installed `guanxi` command
works without this folder. The database comes from DATABASE_URL like every other command.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    from guanxi.cli import main as guanxi_main

    guanxi_main(["bench-data", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()

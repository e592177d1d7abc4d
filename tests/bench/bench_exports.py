"""The export benchmark (`make bench`): rows per second and peak memory of a report export at
two sizes, to show that memory stays flat while the rows grow tenfold.

A throwaway database (SQLite in a temporary folder, or with `--db postgresql` a throwaway
PostgreSQL cluster, as the test suite makes one) is migrated with Alembic, the instansi registry
and demo users are loaded, and `--small` reports are bulk-inserted (tests/bench/bulk_reports.py).
Each format is exported once in a fresh process (tests/bench/export_once.py: the job as the
scheduler runs it, every report, as the national admin). Then the reports are topped up to
`--rows` and each format is exported again. The table gives rows/s, the resident memory before
the export, its peak, and the ratios of the large run to the small one: rows grow by
`--rows / --small`, the peak should not.

    .venv/bin/python -m tests.bench.bench_exports                    # 50,000 and 500,000 rows
    .venv/bin/python -m tests.bench.bench_exports --small 5000 --rows 50000 --db postgresql
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def prepare(url: str) -> Any:
    """Migrate, load the registry and the demo users; a session factory on the database."""
    from api.config import Settings
    from engine import personal_data, schema
    from engine.db import make_engine, make_session_factory
    from engine.seed import loader
    from engine.services import auth

    personal_data.configure(Settings.from_env().PERSONAL_DATA_KEY)
    schema.upgrade(url)
    auth.configure_hasher(time_cost=1, memory_cost=8)
    factory = make_session_factory(make_engine(url))
    with factory() as session, session.begin():
        loader.load_registry(session)
        loader.load_demo_users(session)
    return factory


def insert(factory: Any, count: int, first_number: int) -> None:
    from sqlalchemy import text

    from tests.bench.bulk_reports import insert_reports

    started = time.perf_counter()
    insert_reports(factory, count=count, seed=first_number, first_number=first_number)
    seconds = time.perf_counter() - started
    # the statistics autovacuum would gather after a bulk load (PostgreSQL plans by them)
    with factory.kw["bind"].connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("ANALYZE"))
    print(
        f"inserted {count:,} reports in {seconds:.1f} s ({count / seconds:,.0f} rows/s)", flush=True
    )


def export_once(url: str, fmt: str, folder: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "tests.bench.export_once"]
    command += ["--url", url, "--format", fmt, "--dir", str(folder)]
    ran = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if ran.returncode != 0:
        raise SystemExit(f"export failed:\n{ran.stderr}")
    found: dict[str, Any] = json.loads(ran.stdout.strip().splitlines()[-1])
    print(f"exported {found['rows']:,} rows as {fmt} in {found['seconds']:.1f} s", flush=True)
    return found


def mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def report(results: list[dict[str, Any]], formats: list[str]) -> None:
    print()
    header = f"{'format':<6} {'rows':>9} {'seconds':>8} {'rows/s':>8} "
    header += f"{'RSS before':>11} {'RSS peak':>9} {'growth':>8} {'file':>9}"
    print(header)
    for r in results:
        growth = r["rss_peak_kib"] - r["rss_before_kib"]
        print(
            f"{r['format']:<6} {r['rows']:>9,} {r['seconds']:>8.1f} {r['rows_per_s']:>8,} "
            f"{mib(r['rss_before_kib']):>11} {mib(r['rss_peak_kib']):>9} {mib(growth):>8} "
            f"{r['file_bytes'] / 1024 / 1024:>5,.0f} MiB"
        )
    print()
    for fmt in formats:
        small, large = [r for r in results if r["format"] == fmt]
        rows = large["rows"] / small["rows"]
        peak = large["rss_peak_kib"] / small["rss_peak_kib"]
        print(
            f"{fmt}: {rows:.0f}x the rows, peak RSS {peak:.2f}x "
            f"({mib(small['rss_peak_kib'])} -> {mib(large['rss_peak_kib'])}), "
            f"speed {large['rows_per_s'] / small['rows_per_s']:.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=500_000, help="the large run's reports")
    parser.add_argument("--small", type=int, default=50_000, help="the small run's reports")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    formats = [f for f in args.formats.split(",") if f]
    if not 0 < args.small < args.rows:
        parser.error("--small must be positive and below --rows")

    cluster = None
    with tempfile.TemporaryDirectory(prefix="lapor-bench-") as temp:
        folder = Path(temp)
        if args.db == "postgresql":
            from tests import pgcluster

            cluster = pgcluster.start_cluster()
            url = cluster.create_database("lapor_bench")
        else:
            url = f"sqlite:///{folder / 'bench.db'}"
        try:
            os.environ.setdefault("LAPOR_DATABASE_URL", url)
            factory = prepare(url)
            print(
                f"database: {args.db}; exports of every report, as the national admin", flush=True
            )
            insert(factory, args.small, first_number=10_000_000)
            results = [export_once(url, fmt, folder) for fmt in formats]
            insert(factory, args.rows - args.small, first_number=10_000_000 + args.small)
            results += [export_once(url, fmt, folder) for fmt in formats]
            factory.kw["bind"].dispose()
        finally:
            if cluster is not None:
                cluster.stop()
    report(results, formats)


if __name__ == "__main__":
    main()

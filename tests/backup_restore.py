"""The backup and restore drill: dump a live PostgreSQL database, restore it into a fresh
cluster, and prove the copy whole (the same rows, every audit chain and checkpoint verifying).

    .venv/bin/python -m tests.backup_restore --source postgresql+psycopg://lapor@db-host/lapor \\
        [--keep-dump /backups/lapor-2026-11-23.dump] [--target URL] [--json]

Why it lives in tests/: a restore that was never tried is no backup, and the drill is that
try. It starts its throwaway cluster with tests/pgcluster.py, as the suite does (PostgreSQL 15
binaries; as root, initdb and pg_ctl run as the `postgres` user), and
tests/test_backup_restore.py runs it on real reports. Operators run the same module from the
deployment's checkout (README.md, "Backup and restore"); `--keep-dump` keeps the verified dump
as the backup itself, and beside it (`<dump>.anchor.jsonl`) the audit anchor as of the dump,
which the restored copy verifies against.

What it does:
1. Opens a REPEATABLE READ transaction on the source, exports its snapshot and counts every
   table's rows in it, while holding the audit anchor file's shared lock
   (engine.services.audit_anchor.noted): no checkpoint is then between its database commit and
   its anchor line, so the anchor's first N bytes and the snapshot agree.
2. `pg_dump -Fc --snapshot=...`: the dump holds exactly the rows counted, however busy the
   source is.
3. Creates a fresh cluster (or uses `--target`, an empty database), `pg_restore`s into it.
4. Runs `lapor audit verify --json` on the restored database with the same LAPOR_AUDIT_KEY and
   the anchor's copy, and compares the row counts and the Alembic revision.

Exit 0 when the copy is whole, 1 when it is not (each difference named), 2 when a step failed.
The source password, if any, goes to the tools in PGPASSWORD, never on a command line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from tests import pgcluster

ROOT = Path(__file__).resolve().parent.parent
TABLES = """
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name
"""


class DrillFailed(RuntimeError):
    """A step of the drill could not run (dump, restore, verify)."""


@dataclass
class DrillResult:
    source_counts: dict[str, int]
    restored_counts: dict[str, int]
    source_revision: str | None
    restored_revision: str | None
    verify: dict[str, Any]
    differences: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    dump_bytes: int = 0
    anchor_bytes: int = 0

    @property
    def whole(self) -> bool:
        return not self.differences


def libpq(url: str) -> tuple[str, str | None]:
    """A SQLAlchemy URL as a libpq URI without its password, and the password apart."""
    parsed = make_url(url)
    password = parsed.password
    plain = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    return plain.render_as_string(hide_password=False), (
        str(password) if password is not None else None
    )


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore of the PostgreSQL 15 install (the folders pgcluster looks in)."""
    for folder in pgcluster.PG_BIN_DIRS:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise DrillFailed(f"{name} not found: install PostgreSQL 15 (apt-get install postgresql)")
    return found


def count_rows(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Every table's row count, as `conn`'s transaction sees them."""
    tables = [row[0] for row in conn.execute(TABLES)]
    counts: dict[str, int] = {}
    for table in tables:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        row = conn.execute(query).fetchone()
        counts[table] = int(row[0]) if row is not None else 0
    return counts


def revision(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row is not None else None


def compare(result: DrillResult) -> list[str]:
    """Each way the restored database differs from the source's snapshot."""
    found = []
    source, restored = result.source_counts, result.restored_counts
    for table in sorted(set(source) | set(restored)):
        if table not in restored:
            found.append(f"table {table} is missing from the restored database")
        elif table not in source:
            found.append(f"table {table} is in the restored database only")
        elif source[table] != restored[table]:
            found.append(f"table {table}: {source[table]} rows at the source, {restored[table]}")
    if result.source_revision != result.restored_revision:
        found.append(
            f"migration revision {result.restored_revision!r}, "
            f"the source is at {result.source_revision!r}"
        )
    if not result.verify.get("clean"):
        problems = result.verify.get("problems", [])
        found.append(f"lapor audit verify found {len(problems)} problem(s)")
        found += [f"  {p.get('kind')}: {p.get('detail', p)}" for p in problems[:20]]
    return found


def _run(cmd: list[str], what: str, password: str | None = None) -> None:
    env = {**os.environ, **({"PGPASSWORD": password} if password else {})}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=6 * 3600)
    if done.returncode != 0:
        raise DrillFailed(f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


@contextmanager
def _anchor_held(anchor: Path) -> Iterator[int]:
    """The anchor's size under its shared lock (0 without a file)."""
    from engine.services import audit_anchor

    with audit_anchor.noted(anchor) as size:
        yield size


def _copy_head(source: Path, target: Path, size: int) -> None:
    """The first `size` bytes of the anchor (it only grows), private to this user."""
    with source.open("rb") as src, target.open("wb") as dst:
        dst.write(src.read(size))
    target.chmod(0o600)


def kept_anchor(kept_dump: Path) -> Path:
    """Where the anchor as of a kept dump is kept: beside it."""
    return kept_dump.with_name(kept_dump.name + ".anchor.jsonl")


def dump(
    source_url: str, dump_path: Path, anchor: Path, anchor_copy: Path
) -> tuple[dict[str, int], str | None, int]:
    """pg_dump -Fc of one snapshot; returns its row counts, revision and the anchor bytes."""
    conninfo, password = libpq(source_url)
    with psycopg.connect(conninfo, password=password) as conn:
        with _anchor_held(anchor) as size:  # released once the snapshot exists
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        counts, rev = count_rows(conn), revision(conn)
        _run(
            [
                pg_tool("pg_dump"),
                "--format=custom",
                f"--snapshot={row[0]}",
                f"--file={dump_path}",
                f"--dbname={conninfo}",
            ],
            "pg_dump",
            password,
        )
        conn.rollback()
    if size:
        _copy_head(anchor, anchor_copy, size)
    return counts, rev, size


def restore(dump_path: Path, target_url: str) -> tuple[dict[str, int], str | None]:
    """pg_restore into the empty `target_url`; returns its row counts and revision."""
    conninfo, password = libpq(target_url)
    _run(
        [
            pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={conninfo}",
            str(dump_path),
        ],
        "pg_restore",
        password,
    )
    with psycopg.connect(conninfo, password=password) as conn:
        return count_rows(conn), revision(conn)


def verify(target_url: str, anchor_copy: Path) -> dict[str, Any]:
    """`lapor audit verify --json` on the restored database (exit 0 clean, 1 problems)."""
    env = {
        **os.environ,
        "LAPOR_DATABASE_URL": target_url,
        "LAPOR_AUDIT_ANCHOR_PATH": str(anchor_copy),
    }
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "audit", "verify", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=6 * 3600,
    )
    if done.returncode not in (0, 1):
        raise DrillFailed(f"lapor audit verify failed (exit {done.returncode}): {done.stderr}")
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def drill(
    source_url: str,
    *,
    anchor: Path,
    target_url: str | None = None,
    keep_dump: Path | None = None,
) -> DrillResult:
    """Dump `source_url`, restore into `target_url` (default: a fresh throwaway cluster),
    verify the copy. The throwaway cluster is removed afterwards."""
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="lapor-drill-") as work, ExitStack() as stack:
        folder = Path(work)
        dump_path = keep_dump or folder / "lapor.dump"
        anchor_copy = kept_anchor(keep_dump) if keep_dump else folder / "audit-anchor.jsonl"
        started = time.perf_counter()
        counts, rev, anchor_bytes = dump(source_url, dump_path, anchor, anchor_copy)
        seconds["dump"] = time.perf_counter() - started
        if target_url is None:
            started = time.perf_counter()
            cluster = pgcluster.start_cluster()
            stack.callback(cluster.stop)
            target_url = cluster.create_database("lapor_restored")
            seconds["fresh_cluster"] = time.perf_counter() - started
        started = time.perf_counter()
        restored_counts, restored_rev = restore(dump_path, target_url)
        seconds["restore"] = time.perf_counter() - started
        started = time.perf_counter()
        verified = verify(target_url, anchor_copy)
        seconds["verify"] = time.perf_counter() - started
        result = DrillResult(
            source_counts=counts,
            restored_counts=restored_counts,
            source_revision=rev,
            restored_revision=restored_rev,
            verify=verified,
            seconds={k: round(v, 3) for k, v in seconds.items()},
            dump_bytes=dump_path.stat().st_size,
            anchor_bytes=anchor_bytes,
        )
    result.differences = compare(result)
    return result


def _report(result: DrillResult) -> str:
    rows = sum(result.source_counts.values())
    lines = [
        f"source: {len(result.source_counts)} tables, {rows} rows, "
        f"revision {result.source_revision}; dump {result.dump_bytes} bytes; "
        f"anchor {result.anchor_bytes} bytes",
        f"audit verify: {'clean' if result.verify.get('clean') else 'PROBLEMS'} "
        f"({result.verify.get('events')} events in {result.verify.get('chains')} chains, "
        f"{result.verify.get('checkpoints')} checkpoints)",
        "seconds: " + ", ".join(f"{k} {v}" for k, v in result.seconds.items()),
    ]
    lines += result.differences or ["restored copy is whole: every table's rows match"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.backup_restore", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--source", required=True, help="the database to back up (LAPOR URL)")
    parser.add_argument("--target", help="an empty database to restore into (default: fresh)")
    parser.add_argument("--keep-dump", type=Path, help="keep the verified dump at this path")
    parser.add_argument(
        "--anchor",
        type=Path,
        help="the audit anchor file (default: LAPOR_AUDIT_ANCHOR_PATH)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if args.anchor is None:
        from api.config import Settings

        args.anchor = Path(Settings.from_env().AUDIT_ANCHOR_PATH)
    try:
        result = drill(
            args.source, anchor=args.anchor, target_url=args.target, keep_dump=args.keep_dump
        )
    except (DrillFailed, psycopg.Error, subprocess.TimeoutExpired) as exc:
        print(f"backup/restore drill failed: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({**asdict(result), "whole": result.whole}, indent=2))
    else:
        print(_report(result))
    return 0 if result.whole else 1


if __name__ == "__main__":
    sys.exit(main())

"""The backup and restore drill (tests/backup_restore.py) on real data: reports filed and
handled through the HTTP API, audit checkpoints signed into an anchor file, then
`python -m tests.backup_restore` dumps the session database, restores it into a fresh
cluster and verifies the copy. The drill runs on PostgreSQL only (pg_dump/pg_restore), once per
`make test`; it must also be able to say no: a wrong audit key, an edited event or a chain cut
short in the restored copy, a copy that lost rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from engine.services import audit
from tests import backup_restore
from tests.helpers import Api
from tests.test_audit_chain import full_scenario

ROOT = Path(__file__).resolve().parent.parent
KEY = "backup-drill-audit-key-0123456789abcdef"


@pytest.fixture()
def api(fresh_client: Any) -> Api:
    return Api(fresh_client)


@pytest.fixture()
def anchored(api: Api, factory: Any, tmp_path: Path) -> Path:
    """Three reports (one handled to a rated close) with their checkpoints anchored."""
    full_scenario(api)
    api.file()
    api.file(title="Lampu jalan padam di Jalan Kaliurang km 7")
    anchor = tmp_path / "anchor" / "audit-anchor.jsonl"
    with factory() as session:
        run = audit.checkpoint(session, key=KEY.encode(), anchor=anchor)
    assert run.written >= 3
    return anchor


def run_drill(database_url: str, anchor: Path, key: str, *extra: str) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "tests.backup_restore", "--source", database_url, "--json", *extra],
        cwd=ROOT,
        env={**os.environ, "LAPOR_AUDIT_KEY": key, "LAPOR_AUDIT_ANCHOR_PATH": str(anchor)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.postgresql_only
def test_a_dump_restores_whole_into_a_fresh_cluster_and_its_audit_trail_verifies(
    anchored: Path, database_url: str, tmp_path: Path
) -> None:
    kept = tmp_path / "lapor.dump"
    done = run_drill(database_url, anchored, KEY, "--keep-dump", str(kept))
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["whole"] is True and result["differences"] == []
    assert result["restored_counts"] == result["source_counts"]
    counts = result["source_counts"]
    assert counts["report"] == 3
    assert counts["audit_event"] >= 7  # filed x3, three task completions, the rating
    assert counts["audit_checkpoint"] >= 3
    assert counts["instansi"] > 500  # the registry came along
    assert result["restored_revision"] == result["source_revision"] is not None
    verified = result["verify"]
    assert verified["clean"] is True and verified["problems"] == []
    assert verified["events"] == counts["audit_event"]
    assert verified["checkpoints"] == counts["audit_checkpoint"]
    assert result["anchor_bytes"] == anchored.stat().st_size > 0
    assert kept.stat().st_size == result["dump_bytes"] > 0
    kept_anchor = backup_restore.kept_anchor(kept)  # the anchor as of the dump, kept beside it
    assert kept_anchor.read_bytes() == anchored.read_bytes()
    assert set(result["seconds"]) == {"dump", "fresh_cluster", "restore", "verify"}


@pytest.mark.postgresql_only
def test_a_wrong_key_an_edited_event_and_a_cut_chain_in_the_restored_copy_are_caught(
    anchored: Path,
    database_url: str,
    new_database: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target, kept = new_database("lapor_restore_drill"), tmp_path / "lapor.dump"
    done = run_drill(
        database_url, anchored, "another-audit-key-0123456789abcdef-xyz",
        "--target", target, "--keep-dump", str(kept),
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["whole"] is False
    assert result["restored_counts"] == result["source_counts"]  # the rows all came
    assert result["verify"]["clean"] is False
    assert any("lapor audit verify found" in d for d in result["differences"])

    monkeypatch.setenv("LAPOR_AUDIT_KEY", KEY)
    anchor = backup_restore.kept_anchor(kept)
    assert backup_restore.verify(target, anchor)["clean"] is True  # with the right key
    edited, cut = tamper(target)
    verified = backup_restore.verify(target, anchor)
    assert verified["clean"] is False
    problems = verified["problems"]
    assert {"kind": "edited", "event_id": edited} in [
        {"kind": p["kind"], "event_id": p["event_id"]} for p in problems
    ]
    assert cut in {p["report_id"] for p in problems}  # the anchor still knows its checkpoint


def tamper(database_url: str) -> tuple[int, int]:
    """In a restored copy: edit the actor of the first report's second event, and cut the last
    report's chain with its checkpoints (what a restore from a trimmed dump would look like).
    Returns the edited event's id and the cut report's id."""
    conninfo, _ = backup_restore.libpq(database_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        first, last = conn.execute("SELECT min(id), max(id) FROM report").fetchone() or (0, 0)
        row = conn.execute(
            "SELECT id FROM audit_event WHERE report_id = %s AND seq = 2", (first,)
        ).fetchone()
        assert row is not None
        conn.execute("UPDATE audit_event SET actor = 'system' WHERE id = %s", (row[0],))
        conn.execute("DELETE FROM audit_checkpoint WHERE report_id = %s", (last,))
        conn.execute("DELETE FROM audit_event WHERE report_id = %s", (last,))
    return int(row[0]), int(last)


def test_missing_rows_a_missing_table_or_another_revision_are_each_named() -> None:
    result = backup_restore.DrillResult(
        source_counts={"report": 3, "audit_event": 9, "alert": 1},
        restored_counts={"report": 2, "audit_event": 9},
        source_revision="0012",
        restored_revision="0011",
        verify={"clean": True, "problems": []},
    )
    assert backup_restore.compare(result) == [
        "table alert is missing from the restored database",
        "table report: 3 rows at the source, 2",
        "migration revision '0011', the source is at '0012'",
    ]


def test_the_source_password_stays_off_the_command_line() -> None:
    url = "postgresql+psycopg://lapor:s3cr%40t@db.internal:5433/lapor"
    assert backup_restore.libpq(url) == ("postgresql://lapor@db.internal:5433/lapor", "s3cr@t")

"""The audit anchor: checkpoints chained by their macs and copied to an append-only file outside
the database, so that deleting the newest events together with the checkpoints that signed
them, deleting or altering a checkpoint, or editing the anchor itself is named by `lapor audit
verify`. Tampering goes through raw SQL (and file edits), as an intruder would."""

from __future__ import annotations

import fcntl
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, delete, insert, select, text

from api.cli import main
from api.config import ConfigError, Settings
from engine import clock
from engine.models import AuditEvent
from engine.models.audit import GENESIS, AuditCheckpoint
from engine.services import audit, audit_anchor, audit_verify
from engine.services.audit_anchor import AnchorProblem, Head
from tests.helpers import Api
from tests.test_audit_chain import KEY, chain, filed, record, sql

CHECKPOINTS = AuditCheckpoint.__table__
EVENTS = AuditEvent.__table__


@pytest.fixture()
def api(fresh_client: Any) -> Api:
    return Api(fresh_client)


@pytest.fixture()
def anchor(tmp_path: Path) -> Path:
    return tmp_path / "anchor" / "audit-anchor.jsonl"


def sign(factory: Any, anchor: Path | None, **kwargs: Any) -> audit.CheckpointRun:
    with factory() as s:
        return audit.checkpoint(s, key=KEY, anchor=anchor, **kwargs)


def found(factory: Any, anchor: Path | None, **kwargs: Any) -> list[Any]:
    with factory() as s:
        return audit_verify.verify(s, key=KEY, anchor=anchor, **kwargs).problems


def named(problems: list[Any]) -> list[tuple[str, int | None, int | None, int | None]]:
    """(kind, report id, seq, checkpoint id) of each problem."""
    return [(p.kind, p.report_id, p.seq, p.checkpoint_id) for p in problems]


def checkpoints(factory: Any) -> list[Any]:
    with factory() as s:
        return list(s.execute(select(CHECKPOINTS).order_by(CHECKPOINTS.c.id)))


def lines(anchor: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in anchor.read_text().splitlines()]


def test_checkpoints_are_anchored_chained_and_verify_clean(
    api: Api, factory: Any, anchor: Path
) -> None:
    report_id, _, _ = filed(api, factory)
    record(factory, None, 2)
    run = sign(factory, anchor)
    assert (run.chains, run.written, run.anchored) == (2, 2, 2)
    assert stat.S_IMODE(anchor.stat().st_mode) == 0o600
    record(factory, report_id, 1)
    assert sign(factory, anchor).anchored == 1
    rows = checkpoints(factory)
    first, second = lines(anchor)
    assert [h[0] for h in first["heads"]] == [rows[0].id, rows[1].id]
    assert second["heads"] == [
        [rows[2].id, report_id, 7, rows[2].hash, audit.moment_text(rows[2].at), rows[2].mac]
    ]
    assert second["prev"] == first["mac"] == rows[1].mac  # lines follow each other
    assert audit.links(KEY, rows[1].mac, rows[0].mac)  # and so do checkpoints
    assert audit.links(KEY, rows[2].mac, rows[1].mac)
    with factory() as s:
        result = audit_verify.verify(s, key=KEY, anchor=anchor)
    assert result.clean and (result.checkpoints, result.anchored) == (3, 3)
    assert sign(factory, anchor).anchored == 0 and len(lines(anchor)) == 2  # nothing new


def test_deleting_the_newest_events_with_their_checkpoints_is_named(
    api: Api, factory: Any, db_engine: Engine, anchor: Path
) -> None:
    report_id, tracking, _ = filed(api, factory)
    sign(factory, anchor)
    record(factory, report_id, 2)  # seq 7 and 8
    sign(factory, anchor)
    newest = checkpoints(factory)[-1]
    assert (newest.report_id, newest.seq) == (report_id, 8)
    gone = chain(factory, report_id)[-2:]
    # the intruder removes the events and the checkpoint that signed them
    sql(db_engine, delete(EVENTS).where(EVENTS.c.id.in_([e.id for e in gone])))
    sql(db_engine, delete(CHECKPOINTS).where(CHECKPOINTS.c.id == newest.id))
    assert found(factory, None) == []  # the database alone cannot tell
    problems = found(factory, anchor)
    assert named(problems) == [
        ("truncated", report_id, 8, newest.id),
        ("checkpoint_deleted", report_id, 8, newest.id),
    ]
    assert "seq 7..8 deleted" in problems[0].detail and "anchored" in problems[0].detail
    assert {p.tracking_id for p in problems} == {tracking}
    # one report's verification names them too
    assert named(found(factory, anchor, report=tracking)) == named(problems)
    # later checkpoints follow the anchor, not the database: the cut shows there as well
    other, _, _ = filed(api, factory, steps=0)
    sign(factory, anchor)
    later = checkpoints(factory)[-1]
    assert named(found(factory, anchor)) == named(problems)  # the anchor named the deletion
    assert named(found(factory, None)) == [("checkpoint_deleted", other, 1, later.id)]


def test_a_deleted_middle_checkpoint_is_named(
    api: Api, factory: Any, db_engine: Engine, anchor: Path
) -> None:
    report_id, tracking, _ = filed(api, factory, steps=1)
    for _ in range(3):
        record(factory, report_id, 1)
        sign(factory, anchor)
    first, middle, last = checkpoints(factory)
    sql(db_engine, delete(CHECKPOINTS).where(CHECKPOINTS.c.id == middle.id))
    [alone] = found(factory, None)  # from the database alone: the chain of macs breaks
    assert named([alone]) == [("checkpoint_deleted", report_id, last.seq, last.id)]
    assert f"after checkpoint {first.id} and before {last.id} were deleted" in alone.detail
    [anchored] = found(factory, anchor)  # the anchor names the very one
    assert named([anchored]) == [("checkpoint_deleted", report_id, middle.seq, middle.id)]
    assert anchored.tracking_id == tracking


def test_an_altered_or_inserted_checkpoint_is_named(
    api: Api, factory: Any, db_engine: Engine, anchor: Path
) -> None:
    report_id, _, rows = filed(api, factory)
    sign(factory, anchor)
    [real] = checkpoints(factory)
    sql(
        db_engine,
        text("UPDATE audit_checkpoint SET seq = 5, hash = :h WHERE id = :id"),
        {"h": rows[4].hash, "id": real.id},
    )
    assert named(found(factory, anchor)) == [
        ("bad_signature", report_id, 5, real.id),
        ("checkpoint_altered", report_id, 6, real.id),
    ]
    sql(
        db_engine,
        text("UPDATE audit_checkpoint SET seq = 6, hash = :h WHERE id = :id"),
        {"h": real.hash, "id": real.id},
    )
    assert found(factory, anchor) == []
    # a row copied in (its mac is genuine, its place is not): not in the anchor
    copy = {k: v for k, v in real._mapping.items() if k != "id"}
    sql(db_engine, insert(CHECKPOINTS).values(**copy))
    extra = checkpoints(factory)[-1]
    kinds = named(found(factory, anchor))
    assert ("unanchored", report_id, 6, extra.id) in kinds
    assert ("checkpoint_deleted", report_id, 6, extra.id) in kinds  # it follows no one


def test_an_edited_or_shortened_anchor_is_named(api: Api, factory: Any, anchor: Path) -> None:
    report_id, _, _ = filed(api, factory)
    sign(factory, anchor)
    record(factory, report_id, 1)
    sign(factory, anchor)
    original = anchor.read_text()
    first, second = original.splitlines()
    edited = json.loads(first)
    edited["heads"][0][2] = 3  # the signed seq, made smaller
    anchor.write_text(json.dumps(edited) + "\n" + second + "\n")
    [problem] = found(factory, anchor)
    assert problem.kind == "anchor_line"
    assert "line 1 of the audit anchor does not match its HMAC" in problem.detail
    anchor.write_text(second + "\n")  # the first line removed
    problems = found(factory, anchor)
    assert [p.kind for p in problems][:1] == ["anchor_line"]
    assert "line 1 of the audit anchor does not follow the line before it" in problems[0].detail
    anchor.write_text(original + first[:40])  # a line cut short
    assert any("is incomplete" in p.detail for p in found(factory, anchor))
    with pytest.raises(AnchorProblem, match="ends in an incomplete line"):
        sign(factory, anchor)
    anchor.write_text(original)
    assert found(factory, anchor) == []


def test_a_missing_anchor_is_named_and_stops_checkpoints(
    api: Api, factory: Any, db_engine: Engine, anchor: Path
) -> None:
    report_id, _, _ = filed(api, factory)
    assert found(factory, anchor) == []  # nothing signed yet: no anchor is fine
    sign(factory, anchor)
    anchor.unlink()
    [problem] = found(factory, anchor)
    assert problem.kind == "anchor_missing" and str(anchor) in problem.detail
    assert "LAPOR_AUDIT_ANCHOR_PATH" in problem.detail
    record(factory, report_id, 1)
    with pytest.raises(AnchorProblem, match="is missing, but the database holds checkpoints"):
        sign(factory, anchor)
    assert not anchor.exists()
    anchor.write_bytes(b"")  # an empty file is no anchor either
    assert [p.kind for p in found(factory, anchor)] == ["anchor_missing"]
    run = sign(factory, anchor, start_anchor=True)  # an operator starts a new one
    assert (run.written, run.anchored) == (1, 2)
    assert found(factory, anchor) == []


def test_a_trail_from_before_anchors_is_anchored_as_it_is(
    api: Api, factory: Any, db_engine: Engine, anchor: Path
) -> None:
    """Checkpoints written before chaining (unchained macs) are copied to a new anchor."""
    report_id, _, rows = filed(api, factory)
    at = clock.now()
    for row in rows[2], rows[5]:
        mac = audit.checkpoint_mac(KEY, report_id=report_id, seq=row.seq, hash=row.hash, at=at)
        values = {"report_id": report_id, "seq": row.seq, "hash": row.hash, "at": at, "mac": mac}
        sql(db_engine, insert(CHECKPOINTS).values(**values))
    assert found(factory, None) == []
    record(factory, report_id, 1)
    run = sign(factory, anchor)
    assert (run.written, run.anchored) == (1, 3)
    assert found(factory, anchor) == []


def test_checkpoints_the_anchor_lacks_are_named_then_copied(
    api: Api, factory: Any, anchor: Path
) -> None:
    report_id, _, _ = filed(api, factory)
    sign(factory, anchor)
    record(factory, report_id, 1)
    sign(factory, None)  # as if the run had stopped between its commit and its line
    lacking = checkpoints(factory)[-1]
    assert named(found(factory, anchor)) == [("unanchored", report_id, 7, lacking.id)]
    run = sign(factory, anchor)
    assert (run.written, run.anchored) == (0, 1)
    assert found(factory, anchor) == []


def test_concurrent_checkpoint_runs_keep_one_chain(
    api: Api, factory: Any, anchor: Path, database_url: str
) -> None:
    """Threads here and `lapor audit checkpoint` processes sign at once, from a fresh anchor:
    the anchor lock and the database's lock keep them one chain, in id order."""
    reports = [filed(api, factory, steps=0)[0] for _ in range(3)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(reports) + 1)
    env = {**os.environ, "LAPOR_DATABASE_URL": database_url}
    env.update(LAPOR_AUDIT_KEY=KEY.decode(), LAPOR_AUDIT_ANCHOR_PATH=str(anchor))
    command = [str(Path(sys.executable).with_name("lapor")), "audit", "checkpoint"]

    def run(report_id: int) -> None:
        try:
            start.wait(30)
            for _ in range(3):
                record(factory, report_id, 1)
                sign(factory, anchor)
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in reports]
    for t in threads:
        t.start()
    start.wait(30)
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for t in threads:
        t.join(60)
    outputs = [p.communicate(timeout=60) for p in processes]
    assert errors == []
    assert [p.returncode for p in processes] == [0, 0], outputs
    ids = [h[0] for line in lines(anchor) for h in line["heads"]]
    assert ids == sorted(ids) == [c.id for c in checkpoints(factory)]
    assert len(ids) >= 9  # every thread's three events were signed, some by the processes
    assert found(factory, anchor) == []


def test_a_new_anchor_is_judged_under_its_lock(api: Api, factory: Any, anchor: Path) -> None:
    """The first run on a new anchor holds its lock between its commit and its line; a run
    starting then waits for the line rather than taking the anchor for a lost one."""
    report_id, _, _ = filed(api, factory)
    anchor.parent.mkdir()
    done: list[Any] = []
    with anchor.open("ab") as first:
        fcntl.flock(first, fcntl.LOCK_EX)  # the first run, between its commit and its line
        sign(factory, None)
        [row] = checkpoints(factory)
        second = threading.Thread(target=lambda: done.append(_sign_or_fail(factory, anchor)))
        second.start()
        second.join(0.3)
        assert second.is_alive() and done == []  # waiting for the lock
        head = Head(row.id, row.report_id, row.seq, row.hash, audit.moment_text(row.at), row.mac)
        first.write(audit_anchor.encode(KEY, [head], GENESIS))
        first.flush()
    second.join(30)
    assert [(r.written, r.anchored) for r in done] == [(0, 0)]
    record(factory, report_id, 1)
    assert sign(factory, anchor).anchored == 1 and found(factory, anchor) == []


def _sign_or_fail(factory: Any, anchor: Path) -> Any:
    try:
        return sign(factory, anchor)
    except AnchorProblem as exc:
        return exc


def test_the_scheduler_job_anchors(factory: Any, api: Api, anchor: Path) -> None:
    from sla.scheduler import build_scheduler

    filed(api, factory, steps=0)
    scheduler = build_scheduler(factory, audit_key=KEY, audit_anchor=str(anchor))
    job = scheduler.get_job("audit_checkpoint")
    assert job is not None
    job.func()
    assert len(lines(anchor)) == 1 and found(factory, anchor) == []


def test_cli_with_the_anchor_setting(
    api: Api,
    factory: Any,
    db_engine: Engine,
    database_url: str,
    anchor: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAPOR_DATABASE_URL", database_url)
    monkeypatch.setenv("LAPOR_AUDIT_ANCHOR_PATH", str(anchor))
    report_id, tracking, _ = filed(api, factory)
    runner = CliRunner()
    written = runner.invoke(main, ["audit", "checkpoint"])
    assert written.exit_code == 0, written.output
    assert "1 checkpoint(s) written (1 chains looked at), 1 copied to the anchor" in written.output
    clean = runner.invoke(main, ["audit", "verify"])
    assert clean.exit_code == 0, clean.output
    assert f"clean: 6 events in 1 chains, 1 checkpoints, 1 in the anchor ({anchor})" in (
        clean.output
    )
    newest = chain(factory, report_id)[-1]
    sql(db_engine, delete(EVENTS).where(EVENTS.c.id == newest.id))
    sql(db_engine, delete(CHECKPOINTS))
    dirty = runner.invoke(main, ["audit", "verify"])
    assert dirty.exit_code == 1
    assert f"truncated: report {report_id} ({tracking}): anchored checkpoint" in dirty.output
    assert f"checkpoint_deleted: report {report_id} ({tracking}): checkpoint" in dirty.output
    document = json.loads(runner.invoke(main, ["audit", "verify", "--json"]).stdout)
    assert document["anchored"] == 1
    assert [(p["kind"], p["seq"]) for p in document["problems"]] == [
        ("truncated", 6),
        ("checkpoint_deleted", 6),
    ]
    os.unlink(anchor)
    record(factory, report_id, 1)
    sign(factory, None)
    missing = runner.invoke(main, ["audit", "verify"])
    assert missing.exit_code == 1
    assert f"anchor_missing: anchor: the audit anchor {anchor} is missing" in missing.output
    refused = runner.invoke(main, ["audit", "checkpoint"])
    assert refused.exit_code == 1 and "--start-anchor" in refused.output
    started = runner.invoke(main, ["audit", "checkpoint", "--start-anchor"])
    assert started.exit_code == 0, started.output


def test_the_anchor_setting() -> None:
    assert Settings().AUDIT_ANCHOR_PATH.endswith("instance/audit-anchor.jsonl")
    with pytest.raises(ConfigError, match="LAPOR_AUDIT_ANCHOR_PATH"):
        Settings.from_env({"AUDIT_ANCHOR_PATH": " "})

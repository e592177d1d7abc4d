"""The audit trail: hash chains per report, HMAC checkpoints, `lapor audit verify`, payloads
holding ids only, and appends racing on one report. Tampering goes through raw SQL, as an
intruder with database access would."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, delete, func, insert, inspect, select, text, update

from api.cli import main
from api.config import DEV_AUDIT_KEY, ConfigError, Settings
from engine import clock, schema
from engine.db import make_engine, make_session_factory
from engine.models import AuditEvent, Report
from engine.models.audit import GENESIS, AuditCheckpoint
from engine.services import audit, audit_verify
from tests.helpers import REPORT, Api
from tests.processes import wait_for

KEY = DEV_AUDIT_KEY.encode()
EVENTS = AuditEvent.__table__
CHECKPOINTS = AuditCheckpoint.__table__
FOLLOW_UP = {"tindak_lanjut": "Jalan sudah ditambal oleh DPUPKP pada 12 Februari."}
RATING_TEXT = "Terima kasih, sudah diperbaiki dengan baik."


@pytest.fixture()
def api(fresh_client: Any) -> Api:
    return Api(fresh_client)


def verify(factory: Any, report: str | None = None, key: bytes = KEY) -> Any:
    with factory() as s:
        return audit_verify.verify(s, key=key, report=report)


def problems(factory: Any, **kwargs: Any) -> list[tuple[str, int | None, int | None]]:
    """(kind, event id, checkpoint id) of each problem found."""
    return [(p.kind, p.event_id, p.checkpoint_id) for p in verify(factory, **kwargs).problems]


def record(factory: Any, report_id: int | None, count: int, action: str = "test.step") -> None:
    with factory() as s, s.begin():
        for n in range(count):
            audit.record(s, actor="system", action=action, report_id=report_id, data={"n": n})


def chain(factory: Any, report_id: int | None) -> list[Any]:
    """The chain's rows in seq order."""
    where = EVENTS.c.report_id.is_(None) if report_id is None else EVENTS.c.report_id == report_id
    with factory() as s:
        return list(s.execute(select(EVENTS).where(where).order_by(EVENTS.c.seq)))


def filed(api: Api, factory: Any, steps: int = 5) -> tuple[int, str, list[Any]]:
    """A report with a chain of 1 + `steps` events: (id, tracking id, rows)."""
    tracking = api.file()["tracking_id"]
    with factory() as s:
        report_id = s.scalar(select(Report.id).where(Report.tracking_id == tracking))
    record(factory, report_id, steps)
    return report_id, tracking, chain(factory, report_id)


def sql(db_engine: Engine, statement: Any, params: dict[str, Any] | None = None) -> None:
    with db_engine.begin() as conn:
        conn.execute(statement, params or {})


def forged(row: Any, **changes: Any) -> dict[str, Any]:
    """A copy of `row` with `changes`, its hash computed as `audit.record` would."""
    values = {**row._mapping, **changes}
    values.pop("id")
    values["hash"] = audit.event_hash(**{k: v for k, v in values.items() if k != "hash"})
    return values


def full_scenario(api: Api) -> tuple[str, str]:
    """Filing to a rated close through the HTTP API, by the pelapor of tests.helpers.REPORT."""
    body = api.file()
    tracking, secret = body["tracking_id"], body["secret"]
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    api.complete("sleman", tracking, {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"})
    api.complete("sleman.pu", tracking, FOLLOW_UP)
    api.reply(tracking, secret, kind="rating", rating=5, satisfied=True, text=RATING_TEXT)
    return tracking, secret


def test_a_full_scenario_chains_verifies_clean_and_names_nobody(api: Api, factory: Any) -> None:
    tracking, _ = full_scenario(api)
    record(factory, None, 2, action="test.no_report")
    with factory() as s:
        report_id = s.scalar(select(Report.id).where(Report.tracking_id == tracking))
    rows = chain(factory, report_id)
    assert [r.action for r in rows] == [
        "report.filed",
        "task.completed",
        "task.completed",
        "task.completed",
        "report.reply.rating",
    ]
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert [r.prev_hash for r in rows] == [GENESIS] + [r.hash for r in rows[:-1]]
    assert all(audit.hash_of(r) == r.hash for r in rows)
    assert [r.seq for r in chain(factory, None)] == [1, 2]
    result = verify(factory)
    assert result.clean and (result.events, result.chains) == (7, 2)
    assert verify(factory, report=tracking).events == 5
    assert verify(factory, report=str(report_id)).events == 5
    # nothing the pelapor or an officer typed, and no name or contact, is in any audit row
    with factory() as s:
        dumped = [json.dumps([*row], default=str) for row in s.execute(select(EVENTS))]
        staff = s.execute(
            text("SELECT full_name, email FROM app_user WHERE username IN ('nasional', 'sleman')")
        ).all()
    assert len(staff) == 2
    typed = [FOLLOW_UP["tindak_lanjut"], RATING_TEXT, REPORT["title"], REPORT["body"]]
    sentinels = [REPORT["pelapor_name"], REPORT["pelapor_email"], REPORT["pelapor_phone"], *typed]
    sentinels += [v for person in staff for v in person if v]
    for row in dumped:
        for sentinel in sentinels:
            assert sentinel.lower() not in row.lower(), (sentinel, row)


def test_tricky_payloads_verify_clean(api: Api, factory: Any) -> None:
    """What JSON storage gives back hashes as what was written (jsonb prints 1e16 as an int)."""
    report_id, _, _ = filed(api, factory, steps=0)
    payloads = [
        {"big": 1e16, "float": 0.1, "tiny": 1.5e-7, "neg": -0.0, "int": 2**40},
        {"nested": {"b": [1, 2.5, None, True], "a": "Łódź, 東京, emoji 🙂"}, "empty": {}},
        {1: "int key", "tuple": (1, 2)},
        None,
    ]
    clock.set_clock(datetime(2026, 2, 2, 3, 4, 5, 678901, tzinfo=UTC))
    with factory() as s, s.begin():
        for data in payloads:
            audit.record(s, actor="system", action="test.tricky", report_id=report_id, data=data)
    assert verify(factory).clean


def test_events_cannot_change_through_the_orm(api: Api, factory: Any) -> None:
    _, _, rows = filed(api, factory, steps=1)
    with factory() as s, s.begin():
        event = s.get_one(AuditEvent, rows[1].id)
        event.data = {"n": 2}
        with pytest.raises(RuntimeError, match="append-only"):
            s.flush()
        s.rollback()
    with factory() as s, s.begin():
        s.delete(s.get_one(AuditEvent, rows[1].id))
        with pytest.raises(RuntimeError, match="append-only"):
            s.flush()
        s.rollback()
    assert verify(factory).clean and len(chain(factory, rows[0].report_id)) == 2


def test_an_edited_payload_or_actor_is_named(api: Api, factory: Any, db_engine: Engine) -> None:
    report_id, tracking, rows = filed(api, factory)
    sql(db_engine, update(EVENTS).where(EVENTS.c.id == rows[2].id).values(data={"n": 99}))
    sql(
        db_engine,
        text("UPDATE audit_event SET actor = 'user:1' WHERE id = :id"),
        {"id": rows[4].id},
    )
    result = verify(factory)
    assert [(p.kind, p.event_id, p.seq, p.report_id, p.tracking_id) for p in result.problems] == [
        ("edited", rows[2].id, 3, report_id, tracking),
        ("edited", rows[4].id, 5, report_id, tracking),
    ]


def test_forged_events_are_named_inserted(api: Api, factory: Any, db_engine: Engine) -> None:
    _, _, rows = filed(api, factory)
    head = rows[-1]
    # well formed, but branching off event 2 (which event 3 already follows)
    branch = forged(head, seq=head.seq + 1, prev_hash=rows[1].hash, action="report.closed")
    sql(db_engine, insert(EVENTS).values(**branch))
    # a careless forgery: a made-up hash, following no event
    careless = {**branch, "seq": head.seq + 2, "prev_hash": "ab" * 32, "hash": "cd" * 32}
    sql(db_engine, insert(EVENTS).values(**careless))
    ids = [r.id for r in chain(factory, rows[0].report_id)[-2:]]
    assert problems(factory) == [("inserted", ids[0], None), ("inserted", ids[1], None)]


def test_an_event_forged_into_the_middle_is_named(
    api: Api, factory: Any, db_engine: Engine
) -> None:
    """Room made by renumbering the later events: the forgery is off the chain's path, and the
    renumbered events no longer match their hashes."""
    _, _, rows = filed(api, factory, steps=3)
    for row in reversed(rows[2:]):  # one at a time: (report_id, seq) stays unique
        sql(db_engine, update(EVENTS).where(EVENTS.c.id == row.id).values(seq=row.seq + 1))
    forgery = forged(rows[2], seq=3, prev_hash=rows[1].hash, data={"n": "forged"})
    sql(db_engine, insert(EVENTS).values(**forgery))
    inserted = chain(factory, rows[0].report_id)[2]
    assert inserted.data == {"n": "forged"} and inserted.id not in {r.id for r in rows}
    assert problems(factory) == [
        ("edited", rows[2].id, None),
        ("edited", rows[3].id, None),
        ("inserted", inserted.id, None),
    ]


def test_a_deleted_middle_event_is_named(api: Api, factory: Any, db_engine: Engine) -> None:
    _, tracking, rows = filed(api, factory)
    sql(db_engine, delete(EVENTS).where(EVENTS.c.id.in_([rows[2].id, rows[3].id])))
    [problem] = verify(factory).problems
    assert (problem.kind, problem.event_id, problem.seq) == ("deleted", rows[4].id, 5)
    assert "seq 3..4 missing before event" in problem.detail and problem.tracking_id == tracking
    sql(db_engine, delete(EVENTS).where(EVENTS.c.id == rows[0].id))  # the very first one too
    assert [(k, e) for k, e, _ in problems(factory)] == [
        ("deleted", rows[1].id),
        ("deleted", rows[4].id),
    ]


def test_deleting_the_newest_events_is_caught_after_a_checkpoint(
    api: Api, factory: Any, db_engine: Engine
) -> None:
    report_id, _, rows = filed(api, factory)
    record(factory, None, 3, action="test.no_report")
    sql(db_engine, delete(EVENTS).where(EVENTS.c.id == rows[-1].id))
    assert verify(factory).clean  # without a checkpoint nobody can tell: why they exist
    record(factory, report_id, 1)
    with factory() as s:
        assert audit.checkpoint(s, key=KEY) == audit.CheckpointRun(chains=2, written=2)
    with factory() as s:
        checkpoints = {c.report_id: c for c in s.scalars(select(AuditCheckpoint))}
    newest = chain(factory, report_id)[-2:]
    sql(db_engine, delete(EVENTS).where(EVENTS.c.id.in_([r.id for r in newest])))
    global_head = chain(factory, None)[-1]
    sql(db_engine, delete(EVENTS).where(EVENTS.c.id == global_head.id))
    result = verify(factory)
    assert [(p.kind, p.checkpoint_id, p.seq, p.report_id) for p in result.problems] == [
        ("truncated", checkpoints[None].id, 3, None),  # the no-report chain is walked first
        ("truncated", checkpoints[report_id].id, 6, report_id),
    ]
    assert "seq 5..6 deleted" in result.problems[1].detail


def test_a_rewritten_chain_is_caught_by_its_checkpoint(
    api: Api, factory: Any, db_engine: Engine
) -> None:
    """Whoever knows the format can edit an event and recompute every later hash; only the
    HMAC checkpoint tells."""
    report_id, _, rows = filed(api, factory)

    def rewrite(value: int) -> None:
        prev = rows[0].hash
        for n, row in enumerate(rows[1:], start=1):
            data = {"n": value} if n == 1 else row.data
            values = forged(row, prev_hash=prev, data=data)
            sql(db_engine, update(EVENTS).where(EVENTS.c.id == row.id).values(**values))
            prev = values["hash"]

    rewrite(1000)
    assert verify(factory).clean
    with factory() as s:
        audit.checkpoint(s, key=KEY)
        checkpoint_id = s.scalar(select(AuditCheckpoint.id))
    rows = chain(factory, report_id)
    rewrite(2000)
    assert problems(factory) == [("rewritten", rows[-1].id, checkpoint_id)]


def test_forged_or_altered_checkpoints_are_named(api: Api, factory: Any, db_engine: Engine) -> None:
    report_id, _, rows = filed(api, factory)
    with factory() as s:
        audit.checkpoint(s, key=KEY)
        real = s.scalar(select(AuditCheckpoint))
    assert real is not None and verify(factory).clean
    at = clock.now()
    wrong_key = audit.checkpoint_mac(b"x" * 32, report_id=report_id, seq=9, hash="0" * 64, at=at)
    sql(
        db_engine,
        insert(CHECKPOINTS).values(report_id=report_id, seq=9, hash="0" * 64, at=at, mac=wrong_key),
    )
    sql(db_engine, text("UPDATE audit_checkpoint SET seq = 3 WHERE id = :id"), {"id": real.id})
    with factory() as s:
        forgery = s.scalar(select(func.max(AuditCheckpoint.id)))
    assert problems(factory) == [
        ("bad_signature", None, real.id),
        ("bad_signature", None, forgery),
    ]
    # checked with another key, every checkpoint fails
    sql(db_engine, delete(CHECKPOINTS).where(CHECKPOINTS.c.id == forgery))
    sql(db_engine, text("UPDATE audit_checkpoint SET seq = 6 WHERE id = :id"), {"id": real.id})
    assert verify(factory).clean
    assert problems(factory, key=b"y" * 32) == [("bad_signature", None, real.id)]


def test_checkpoints_sign_only_chains_that_advanced(api: Api, factory: Any) -> None:
    report_id, _, _ = filed(api, factory, steps=1)
    other, _, _ = filed(api, factory, steps=1)
    record(factory, None, 1)

    def run(**kwargs: Any) -> tuple[int, int]:
        with factory() as s:
            done = audit.checkpoint(s, key=KEY, **kwargs)
        return done.chains, done.written

    assert run() == (3, 3)
    assert run() == (3, 0)  # recent chains looked at again, none advanced
    record(factory, report_id, 2)
    assert run() == (3, 1)
    assert run(full=True) == (3, 0)
    with factory() as s:
        signed = s.execute(
            select(AuditCheckpoint.report_id, AuditCheckpoint.seq).order_by(AuditCheckpoint.id)
        ).all()
    assert sorted(signed[:3], key=str) == sorted([(report_id, 2), (other, 2), (None, 1)], key=str)
    assert signed[3:] == [(report_id, 4)]
    assert verify(factory).clean


def test_cli_verify_and_checkpoint(
    api: Api,
    factory: Any,
    db_engine: Engine,
    database_url: str,
    monkeypatch: Any,
    tmp_path: Any,
) -> None:
    monkeypatch.setenv("LAPOR_DATABASE_URL", database_url)
    monkeypatch.setenv("LAPOR_AUDIT_ANCHOR_PATH", str(tmp_path / "anchor.jsonl"))
    report_id, tracking, rows = filed(api, factory)
    runner = CliRunner()
    clean = runner.invoke(main, ["audit", "verify"])
    assert clean.exit_code == 0, clean.output
    assert "clean: 6 events in 1 chains, 0 checkpoints" in clean.output
    written = runner.invoke(main, ["audit", "checkpoint"])
    assert written.exit_code == 0 and "1 checkpoint(s) written" in written.output

    sql(db_engine, text("UPDATE audit_event SET action = 'x' WHERE id = :id"), {"id": rows[1].id})
    sql(db_engine, delete(EVENTS).where(EVENTS.c.id == rows[-1].id))
    dirty = runner.invoke(main, ["audit", "verify"])
    assert dirty.exit_code == 1
    assert f"edited: report {report_id} ({tracking}): event {rows[1].id} does not match" in (
        dirty.output
    )
    assert f"truncated: report {report_id} ({tracking}): checkpoint" in dirty.output
    as_json = runner.invoke(main, ["audit", "verify", "--json", "--report", tracking])
    assert as_json.exit_code == 1
    document = json.loads(as_json.stdout)
    assert document["clean"] is False and document["events"] == 5
    assert [(p["kind"], p["event_id"], p["report_id"]) for p in document["problems"]] == [
        ("edited", rows[1].id, report_id),
        ("truncated", None, report_id),
    ]
    other = api.file()["tracking_id"]
    alone = runner.invoke(main, ["audit", "verify", "--report", other])
    assert alone.exit_code == 0 and "clean: 1 events in 1 chains" in alone.output
    unknown = runner.invoke(main, ["audit", "verify", "--report", "NOPE2345"])
    assert unknown.exit_code == 2 and "--report" in unknown.output


def test_appends_from_many_threads_take_distinct_places(api: Api, factory: Any) -> None:
    report_id, _, _ = filed(api, factory, steps=0)
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            for i in range(5):
                with factory() as s, s.begin():
                    audit.record(s, actor="system", action="test.race", report_id=report_id)
                    audit.record(s, actor="system", action="test.race", data={"t": n, "i": i})
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert [r.seq for r in chain(factory, report_id)] == list(range(1, 22))
    assert [r.seq for r in chain(factory, None)] == list(range(1, 21))
    assert verify(factory).clean


@pytest.mark.postgresql_only
def test_a_second_append_waits_for_the_first_then_follows_it(
    api: Api, factory: Any, db_engine: Engine
) -> None:
    """Two transactions append to one report: the second blocks on the chain's lock until the
    first commits, then reads the new head (without the lock both would take seq 2)."""
    report_id, _, _ = filed(api, factory, steps=0)
    outcome: dict[str, Any] = {}
    first = factory()
    first.begin()
    audit.record(first, actor="system", action="test.first", report_id=report_id)
    first.flush()

    def second() -> None:
        try:
            with factory() as s, s.begin():
                event = audit.record(s, actor="system", action="test.second", report_id=report_id)
            outcome["seq"] = event.seq
        except BaseException as exc:  # noqa: BLE001
            outcome["error"] = exc

    thread = threading.Thread(target=second)
    thread.start()
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'"
    )

    def blocked() -> bool:
        with db_engine.connect() as conn:
            return bool(conn.scalar(waiting))

    try:
        wait_for(blocked, 10, "the second append to wait for the chain's lock")
        assert "seq" not in outcome
    finally:
        first.commit()
        first.close()
        thread.join(10)
    assert outcome == {"seq": 3}
    assert [r.action for r in chain(factory, report_id)] == [
        "report.filed",
        "test.first",
        "test.second",
    ]
    assert verify(factory).clean


def test_the_migration_chains_existing_events(new_database: Any) -> None:
    """Events written before 0008 get the hashes `audit.record` would have given them."""
    from engine.seed import loader

    url = new_database("lapor_audit_migration")
    schema.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        with factory() as s, s.begin():
            loader.load_registry(s)
            now = datetime(2026, 3, 1, 1, 2, 3, 456789, tzinfo=UTC)
            reports = [
                Report(
                    tracking_id=f"MIGRATE{n}",
                    secret_hash="0" * 64,
                    classification="pengaduan",
                    category="lainnya",
                    title="t",
                    body="b",
                    region_code="34.04",
                    status="pending_verification",
                    created_at=now,
                    updated_at=now,
                )
                for n in (1, 2)
            ]
            s.add_all(reports)
            s.flush()
            for n, report_id in enumerate([reports[1].id, None, reports[0].id] * 3):
                data = {"n": n, "big": 1e16, "text": "Łódź"} if n % 2 else None
                audit.record(s, actor="system", action="test.old", report_id=report_id, data=data)
        before = {r.id: (r.seq, r.prev_hash, r.hash) for r in _rows(engine)}
        schema.downgrade(url, "0007")
        assert {"seq", "hash"}.isdisjoint(
            c["name"] for c in inspect(engine).get_columns("audit_event")
        )
        schema.upgrade(url)
        assert {r.id: (r.seq, r.prev_hash, r.hash) for r in _rows(engine)} == before
        with factory() as s:
            assert audit_verify.verify(s, key=KEY).clean
    finally:
        engine.dispose()


def _rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(select(EVENTS.c.id, EVENTS.c.seq, EVENTS.c.prev_hash, EVENTS.c.hash))
        )


def test_the_audit_key_setting() -> None:
    assert Settings.from_env({}).AUDIT_KEY == DEV_AUDIT_KEY
    with pytest.raises(ConfigError, match="LAPOR_AUDIT_KEY"):
        Settings.from_env({"AUDIT_KEY": "short"})

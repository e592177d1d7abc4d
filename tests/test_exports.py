"""Report exports (CSV, XLSX) as background jobs: filters, each role's scope and redaction (an
anonim pelapor's identity never appears), the REST job (202, progress, download, 404 to anyone
but its requester), bad input naming the field, crash safety of the worker, retention, the
scheduler's job and `lapor export`.

Reports are inserted as rows (tests/bench/bulk_reports.py), not filed through the engine: an
export reads only report rows, and this keeps the module fast. Export jobs are removed after
each test here (conftest's clean_slate does not know their table).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import sessionmaker

from api.cli import main
from engine import clock
from engine.models import AuditEvent, ExportJob, Instansi, Report, Unit, User
from engine.services import auth, export_writers, exports
from engine.services.export_scope import COLUMNS
from sla import retention
from sla.scheduler import build_scheduler
from tests.bench.bulk_reports import report_row
from tests.helpers import Api, problem_of

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 WIB
SENTINEL = ("Kartini Sentinelwati", "kartini.sentinel@example.org", "+62 813 5550 4242")
NAMED = ("Budi Santoso", "budi.santoso@example.org", "+62 812 1111 2222")
# (key, instansi, unit, status, filed (WIB day), anonim, rahasia, identity, title)
ROWS = (
    ("unit", "34.04", "34.04-DPUPKP", "in_progress", "2026-02-02", False, False, NAMED, "Jalan"),
    ("anonim", "34.04", None, "closed", "2026-02-10", True, False, SENTINEL, "Lampu mati"),
    ("rahasia", "34.04", None, "in_progress", "2026-02-15", False, True, NAMED, "Dugaan pungli"),
    ("kota", "34.71", None, "forwarded", "2026-03-01", False, False, NAMED, "Sampah pasar"),
    ("badung", "51.03", None, "in_progress", "2026-02-05", False, False, NAMED, "Banjir"),
)


@pytest.fixture()
def export_dir(tmp_path: Path) -> Path:
    return tmp_path / "exports"


@pytest.fixture()
def app(make_app: Callable[..., Flask], database_url: str, export_dir: Path) -> Flask:
    built: Flask = make_app(database_url, EXPORT_DIR=str(export_dir))
    return built


@pytest.fixture()
def api(app: Flask) -> Api:
    client = app.test_client()
    return Api(lambda: nullcontext(client))


@pytest.fixture(autouse=True)
def no_jobs_left(factory: sessionmaker) -> Iterator[None]:
    """No export job before or after the test (other modules may leave some)."""
    with factory() as s, s.begin():
        s.execute(delete(ExportJob))
    yield
    with factory() as s, s.begin():
        s.execute(delete(ExportJob))


@pytest.fixture()
def reports(factory: sessionmaker) -> dict[str, str]:
    """The rows of `ROWS`, filed at 09:00 WIB on their day; key -> tracking id."""
    clock.set_clock(NOW)
    made: dict[str, str] = {}
    with factory() as s, s.begin():
        ids = {c: i for c, i in s.execute(select(Instansi.code, Instansi.id))}
        units = {c: i for c, i in s.execute(select(Unit.code, Unit.id))}
        regions = {c: r for c, r in s.execute(select(Instansi.code, Instansi.region_code))}
        rows = []
        for number, (key, code, unit, state, day, anonim, rahasia, who, title) in enumerate(ROWS):
            filed = datetime.fromisoformat(f"{day}T02:00:00+00:00")
            row = report_row(
                number=900_000 + number,
                instansi_id=ids[code],
                region_code=regions[code],
                filed=filed,
                state=state,
                unit_id=units[unit] if unit else None,
                anonim=anonim,
                rahasia=rahasia,
                name=who[0],
                email=who[1],
                phone=who[2],
                title=title,
            )
            rows.append(row)
            made[key] = row["tracking_id"]
        s.execute(insert(Report.__table__), rows)
    return made


def ask(api: Api, username: str, expect: int = 202, **body: Any) -> dict[str, Any]:
    response = api.call("POST", "/api/v1/exports", token=api.login(username), json=body)
    assert response.status_code == expect, response.get_data(as_text=True)
    answer: dict[str, Any] = response.get_json()
    return answer


def run_all(factory: sessionmaker, export_dir: Path, page_rows: int = 2) -> None:
    while exports.run_next(factory, directory=export_dir, worker="test", page_rows=page_rows):
        pass


def fetched(response: Any) -> Any:
    """The answer with its body read and the file it streamed from closed."""
    response.get_data()
    response.close()
    return response


def download(api: Api, username: str, job: dict[str, Any]) -> Any:
    return fetched(api.call("GET", f"{job['url']}/file", token=api.login(username)))


def csv_rows(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def exported(
    api: Api, factory: sessionmaker, export_dir: Path, username: str, **body: Any
) -> dict[str, dict[str, str]]:
    """The CSV export of `username` with `body`'s filters, by tracking id."""
    job = ask(api, username, **body)
    run_all(factory, export_dir)
    got = download(api, username, job)
    assert got.status_code == 200, got.get_data(as_text=True)
    return {row["tracking_id"]: row for row in csv_rows(got.get_data())}


# -- scope and redaction ----------------------------------------------------------------------


def test_each_role_exports_its_scope_with_its_redaction(
    api: Api, factory: sessionmaker, export_dir: Path, reports: dict[str, str]
) -> None:
    t = reports
    national = exported(api, factory, export_dir, "nasional")
    assert set(t.values()) <= set(national)
    row = national[t["unit"]]
    assert (row["pelapor_name"], row["pelapor_email"], row["pelapor_phone"]) == NAMED
    assert row["instansi_code"] == "34.04" and row["unit_code"] == "34.04-DPUPKP"
    assert row["filed_at"] == "2026-02-02T09:00:00+07:00"  # the requester's zone (WIB)
    assert national[t["rahasia"]]["title"] == "Dugaan pungli"
    anonim = national[t["anonim"]]
    assert anonim["anonim"] == "true" and anonim["title"] == "Lampu mati"
    assert anonim["pelapor_name"] == anonim["pelapor_email"] == anonim["pelapor_phone"] == ""

    sleman = exported(api, factory, export_dir, "sleman")  # its instansi, every unit
    assert set(sleman) == {t["unit"], t["anonim"], t["rahasia"]}
    assert sleman[t["rahasia"]]["pelapor_email"] == NAMED[1]

    officer = exported(api, factory, export_dir, "sleman.pu")  # one unit's reports
    assert set(officer) == {t["unit"]}
    assert officer[t["unit"]]["pelapor_phone"] == NAMED[2]

    province = exported(api, factory, export_dir, "diy")  # the supervised tree (34, 34.xx)
    assert set(province) == {t["unit"], t["anonim"], t["rahasia"], t["kota"]}
    row = province[t["kota"]]
    assert row["pelapor_name"] == NAMED[0]  # the name, as the supervisor's report page
    assert row["pelapor_email"] == row["pelapor_phone"] == ""  # contact: handlers only
    hidden = province[t["rahasia"]]
    assert hidden["status"] == "in_progress"
    assert hidden["title"] == hidden["body"] == hidden["pelapor_name"] == ""

    badung = exported(api, factory, export_dir, "badung")
    assert set(badung) == {t["badung"]}

    every = "\n".join(
        ",".join(r.values())
        for found in (national, sleman, officer, province, badung)
        for r in found.values()
    )
    for value in SENTINEL:  # the anonim pelapor's identity: in no file, for no one
        assert value not in every


def test_filters_instansi_period_and_status(
    api: Api, factory: sessionmaker, export_dir: Path, reports: dict[str, str]
) -> None:
    t = reports
    sleman = exported(api, factory, export_dir, "nasional", instansi="34.04")
    assert set(sleman) == {t["unit"], t["anonim"], t["rahasia"]}
    tree = exported(api, factory, export_dir, "diy", instansi="34", subtree=True)
    assert set(tree) == {t["unit"], t["anonim"], t["rahasia"], t["kota"]}
    # both days included, in the requester's time zone
    period = {"from": "2026-02-05", "to": "2026-02-15"}
    window = exported(api, factory, export_dir, "nasional", **period)
    assert set(window) == {t["anonim"], t["rahasia"], t["badung"]}
    statuses = exported(api, factory, export_dir, "nasional", status=["closed", "forwarded"])
    assert set(statuses) == {t["anonim"], t["kota"]}
    both = exported(
        api, factory, export_dir, "sleman", status=["in_progress"], **{"from": "2026-02-03"}
    )
    assert set(both) == {t["rahasia"]}


def test_xlsx_is_readable_with_openpyxl(
    api: Api, factory: sessionmaker, export_dir: Path, reports: dict[str, str]
) -> None:
    job = ask(api, "sleman", format="xlsx")
    run_all(factory, export_dir)
    got = download(api, "sleman", job)
    assert got.status_code == 200
    assert got.mimetype == exports.MIMETYPES["xlsx"]
    assert f"laporan-{job['id']}.xlsx" in got.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(got.get_data()), read_only=True)
    sheet = book["laporan"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == COLUMNS
    found = {r[0]: dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]}
    assert set(found) == {reports["unit"], reports["anonim"], reports["rahasia"]}
    row = found[reports["unit"]]
    assert row["filed_at"] == datetime(2026, 2, 2, 9, 0)  # a date cell, in WIB
    assert row["anonim"] is False and row["pelapor_email"] == NAMED[1]
    anonim = found[reports["anonim"]]
    assert anonim["anonim"] is True and anonim["pelapor_name"] is None
    text = repr(rows)
    assert not any(value in text for value in SENTINEL)


def test_formula_like_text_is_neutralised_in_csv(
    api: Api, factory: sessionmaker, export_dir: Path, reports: dict[str, str]
) -> None:
    with factory() as s, s.begin():
        report = s.scalar(select(Report).where(Report.tracking_id == reports["unit"]))
        assert report is not None
        report.title = '=HYPERLINK("http://evil.example","klik")'
    found = exported(api, factory, export_dir, "sleman.pu")
    assert found[reports["unit"]]["title"].startswith("'=HYPERLINK")
    assert found[reports["unit"]]["pelapor_phone"] == NAMED[2]  # a phone number stays as is


def test_xlsx_rows_beyond_a_sheet_go_on_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_writers, "XLSX_MAX_ROWS", 3)  # a sheet: the header and 2 rows
    path = tmp_path / "sheets.xlsx"
    out = export_writers.open_rows("xlsx", path, ("n", "text"))
    for n in range(5):
        out.write((str(n), "=1+1" if n == 0 else None))
    out.close()
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == ["laporan", "laporan-2", "laporan-3"]
    rows = [list(sheet.iter_rows(values_only=True)) for sheet in book]
    assert rows[0] == [("n", "text"), ("0", "=1+1"), ("1", None)]
    assert rows[2] == [("n", "text"), ("4", None)]
    cell = next(book["laporan"].iter_rows(min_row=2, max_row=2, min_col=2, max_col=2))[0]
    assert cell.data_type == "s"  # text, never a formula ("f")


# -- the job: progress, download, who sees it -------------------------------------------------


def test_job_progress_download_and_audit(
    api: Api, factory: sessionmaker, export_dir: Path, reports: dict[str, str]
) -> None:
    job = ask(api, "nasional", status=["in_progress"])
    assert job["state"] == "queued" and job["rows_total"] is None and job["percent"] == 0
    assert job["download_url"] is None and job["filters"]["time_zone"] == "Asia/Jakarta"
    token = api.login("nasional")
    early = api.call("GET", f"{job['url']}/file", token=token)
    assert problem_of(early, 409)["field"] == "export_id"

    seen: list[tuple[int, int]] = []
    with factory() as s:
        principal = auth.principal_of(s, job_id_requester(factory, job["id"]))
    stored = dict(job["filters"])
    rows = exports.write_rows(
        factory,
        principal=principal,
        stored=stored,
        fmt="csv",
        path=export_dir.parent / "direct.csv",
        progress=lambda done, total: seen.append((done, total)),
        page_rows=1,
    )
    assert rows == 3 and seen == [(0, 3), (1, 3), (2, 3), (3, 3)]

    run_all(factory, export_dir)
    state = api.call("GET", job["url"], token=token).get_json()
    assert state["state"] == "done" and state["rows_done"] == state["rows_total"] == 3
    assert state["percent"] == 100 and state["download_url"] == f"{job['url']}/file"
    assert state["expires_at"] is not None
    got = fetched(api.call("GET", state["download_url"], token=token))
    assert got.status_code == 200 and got.mimetype == "text/csv"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in got.headers["Content-Disposition"]
    assert len(csv_rows(got.get_data())) == 3
    files = list(export_dir.iterdir())
    assert len(files) == 1 and len(files[0].stem) == 32  # a random name, nothing else left
    with factory() as s:
        actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("export%"))))
    assert actions == {"export.requested", "export.completed", "export.downloaded"}


def job_id_requester(factory: sessionmaker, export_id: int) -> int:
    with factory() as s:
        job = s.get(ExportJob, export_id)
        assert job is not None
        return job.requester_id


def test_only_the_requester_sees_the_job_and_its_file(
    api: Api, factory: sessionmaker, export_dir: Path, reports: dict[str, str]
) -> None:
    job = ask(api, "sleman")
    run_all(factory, export_dir)
    for username in ("badung", "sleman.pu", "diy", "nasional"):
        token = api.login(username)
        for url in (job["url"], f"{job['url']}/file"):
            answer = api.call("GET", url, token=token)
            assert problem_of(answer, 404)["field"] == "export_id", (username, url)
    assert api.call("GET", f"{job['url']}/file").status_code == 401
    missing = api.call("GET", "/api/v1/exports/987654321", token=api.login("sleman"))
    assert problem_of(missing, 404)["field"] == "export_id"
    assert download(api, "sleman", job).status_code == 200


def test_an_api_key_exports_its_instansi(
    api: Api, factory: sessionmaker, export_dir: Path, reports: dict[str, str]
) -> None:
    made = api.call(
        "POST",
        "/api/v1/api-keys",
        token=api.login("sleman"),
        json={"instansi": "34.04", "name": "Dasbor Sleman", "permissions": ["reports:read"]},
    ).get_json()
    key = made["key"]
    answer = api.call("POST", "/api/v1/exports", token=key, json={"format": "csv"})
    assert answer.status_code == 202, answer.get_json()
    run_all(factory, export_dir)
    got = fetched(api.call("GET", f"{answer.get_json()['url']}/file", token=key))
    assert {r["tracking_id"] for r in csv_rows(got.get_data())} == {
        reports["unit"],
        reports["anonim"],
        reports["rahasia"],
    }
    tasks_only = api.call(
        "POST",
        "/api/v1/api-keys",
        token=api.login("sleman"),
        json={"instansi": "34.04", "name": "Tugas", "permissions": ["tasks:read"]},
    ).get_json()["key"]
    refused = api.call("POST", "/api/v1/exports", token=tasks_only, json={})
    assert problem_of(refused, 403)["field"] == "Authorization"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"format": "pdf"}, 422, "format"),
        ({"status": ["lost"]}, 422, "status"),
        ({"status": "closed"}, 422, "status"),
        ({"from": "10-02-2026"}, 422, "from"),
        ({"from": "2026-02-10", "to": "2026-02-01"}, 422, "to"),
        ({"instansi": "99.99"}, 422, "instansi"),
        ({"instansi": "51.03"}, 403, "instansi"),
        ({"subtree": "maybe"}, 422, "subtree"),
        ({"colour": "red"}, 422, "colour"),
    ],
)
def test_bad_input_names_the_field(api: Api, body: dict[str, Any], status: int, field: str) -> None:
    answer = api.call("POST", "/api/v1/exports", token=api.login("sleman"), json=body)
    found = problem_of(answer, status)
    assert found["field"].split(".")[0] == field, found  # `status.0`: the list's first item


def test_who_may_not_export_and_how_many_may_wait(api: Api) -> None:
    assert api.call("POST", "/api/v1/exports", json={}).status_code == 401
    refused = api.call("POST", "/api/v1/exports", token=api.login("designer"), json={})
    assert problem_of(refused, 403)["field"] == "role"
    for _ in range(exports.MAX_PENDING):
        ask(api, "sleman")
    crowded = api.call("POST", "/api/v1/exports", token=api.login("sleman"), json={})
    assert problem_of(crowded, 409)["code"] == "too_many_exports"


# -- crash safety, retention, the scheduler ---------------------------------------------------


def test_a_job_whose_worker_died_is_taken_over_then_failed(
    api: Api, factory: sessionmaker, export_dir: Path, reports: dict[str, str]
) -> None:
    job = ask(api, "sleman")
    claimed = exports._claim(factory, "dead-worker")  # claims, then "dies" (never runs it)
    assert claimed == (job["id"], 1)
    (export_dir).mkdir(parents=True, exist_ok=True)
    (export_dir / f"{job['id']}-1.partial").write_bytes(b"half a file")
    assert exports.run_next(factory, directory=export_dir, worker="alive") is None  # leased
    clock.set_clock(NOW + exports.LEASE + timedelta(seconds=1))
    assert exports.run_next(factory, directory=export_dir, worker="alive") == job["id"]
    with factory() as s:
        done = s.get(ExportJob, job["id"])
        assert done is not None
        assert (done.state, done.attempts, done.rows_done) == ("done", 2, 3)
    assert not list(export_dir.glob("*.partial"))  # the dead worker's half file is gone

    again = ask(api, "sleman")
    for attempt in range(exports.MAX_ATTEMPTS):
        assert exports._claim(factory, f"dies-{attempt}") == (again["id"], attempt + 1)
        clock.set_clock(clock.now() + exports.LEASE + timedelta(seconds=1))
    assert exports.run_next(factory, directory=export_dir, worker="alive") is None
    state = api.call("GET", again["url"], token=api.login("sleman")).get_json()
    assert (state["state"], state["error_code"]) == ("failed", "worker_lost")


def test_a_deactivated_requester_gets_nothing(
    api: Api, factory: sessionmaker, export_dir: Path, reports: dict[str, str]
) -> None:
    job = ask(api, "sleman.pu")
    with factory() as s, s.begin():
        user = s.get(User, job_id_requester(factory, job["id"]))
        assert user is not None
        user.active = False
    try:
        run_all(factory, export_dir)
        with factory() as s:
            failed = s.get(ExportJob, job["id"])
            assert failed is not None
            assert (failed.state, failed.error_code) == ("failed", "requester_inactive")
        assert not export_dir.exists() or not any(export_dir.iterdir())
    finally:
        with factory() as s, s.begin():
            user = s.get(User, job_id_requester(factory, job["id"]))
            assert user is not None
            user.active = True


def test_files_are_purged_after_the_retention_period(
    api: Api, factory: sessionmaker, export_dir: Path, reports: dict[str, str]
) -> None:
    job = ask(api, "sleman")
    run_all(factory, export_dir)
    assert len(list(export_dir.iterdir())) == 1
    policy = retention.Policy(export_hours=24, export_dir=str(export_dir))
    kept = retention.purge(factory, policy=policy, now=NOW + timedelta(hours=23))
    assert kept.counts["exports"] == 0 and len(list(export_dir.iterdir())) == 1
    clock.set_clock(NOW + timedelta(hours=25))
    token = api.login("sleman")
    assert problem_of(download(api, "sleman", job), 410)["code"] == "expired"  # at once
    gone = retention.purge(factory, policy=policy, now=NOW + timedelta(hours=25))
    assert gone.counts["exports"] == 1 and not list(export_dir.iterdir())
    state = api.call("GET", job["url"], token=token).get_json()
    assert state["state"] == "expired" and state["download_url"] is None


def test_the_scheduler_runs_queued_exports(
    api: Api, factory: sessionmaker, export_dir: Path, reports: dict[str, str]
) -> None:
    job = ask(api, "sleman", format="xlsx")
    scheduler = build_scheduler(
        factory, audit_key=b"k" * 32, export_dir=str(export_dir), name="exports-test"
    )
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with factory() as s:
                state = s.scalar(select(ExportJob.state).where(ExportJob.id == job["id"]))
            if state == "done":
                break
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    assert state == "done"
    assert download(api, "sleman", job).status_code == 200


# -- lapor export ------------------------------------------------------------------------------


def test_cli_exports_to_a_file(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    reports: dict[str, str],
) -> None:
    monkeypatch.setenv("LAPOR_DATABASE_URL", database_url)
    out = tmp_path / "sleman.csv"
    args = ["export", "--format", "csv", "--instansi", "34.04", "--out", str(out)]
    ran = CliRunner().invoke(
        main, [*args, "--since", "2026-02-01", "--until", "2026-02-12", "--status", "in_progress"]
    )
    assert ran.exit_code == 0, ran.output
    assert "1 rows written" in ran.output
    assert {r["tracking_id"] for r in csv_rows(out.read_bytes())} == {reports["unit"]}

    xlsx = tmp_path / "diy.xlsx"
    ran = CliRunner().invoke(
        main, ["export", "--format", "xlsx", "--as", "diy", "--out", str(xlsx)]
    )
    assert ran.exit_code == 0, ran.output
    sheet = openpyxl.load_workbook(xlsx, read_only=True)["laporan"]
    assert sheet.max_row == 5  # header and the tree's four reports

    bad = CliRunner().invoke(main, [*args[:-2], "--status", "lost", "--out", str(out)])
    assert bad.exit_code == 2 and "--status" in bad.output
    outside = CliRunner().invoke(
        main, ["export", "--as", "badung", "--instansi", "34.04", "--out", str(out)]
    )
    assert outside.exit_code == 2 and "--instansi" in outside.output

"""Structured logs: one JSON object a line, the request id on every line written while a request
runs (the app's, SQLAlchemy's, werkzeug's and gunicorn's own), a job id on a scheduler job's
lines, and no email address, phone number or personal field value anywhere."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from api import logs
from sla.scheduler import build_scheduler
from tests.helpers import REPORT
from tests.processes import wait_for

EMAIL, PHONE, NAME = "siti.rahayu@example.org", "+62 812 3456 7890", "Siti Rahayu"
PHONES = (PHONE, "0812-3456-7890", "081234567890", "(0274) 555 1234", "6281234567890")
KEPT = ("2026-03-13", "10:00:00", "127.0.0.1", "took 1234 ms", "ABCDEFGH23", "v3.2.0")
HEX_ID = re.compile(r"[0-9a-f]{32}")


class Captured:
    """The lines our handler wrote, parsed."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text().splitlines() if line.strip()]


@pytest.fixture()
def restore_logging() -> Iterator[None]:
    """Put the root logger and the quietened loggers back as they were."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = (*logs.QUIET, "sqlalchemy.engine", "werkzeug", *logs.GUNICORN)
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


@pytest.fixture()
def captured(restore_logging: None) -> Captured:
    """JSON lines into a buffer, as `lapor scheduler` and gunicorn write them to stderr."""
    found = Captured()
    logs.configure("json", "INFO", stream=found.stream)
    return found


def sql_logged() -> None:
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)


def test_every_line_of_a_request_carries_its_id(
    captured: Captured, make_app: Callable[..., Flask], database_url: str
) -> None:
    app = make_app(database_url)
    app_log = logging.getLogger("api.probe")

    @app.get("/probe-log")
    def probe_log() -> str:
        app_log.info("probing for %s", "someone")
        return "ok"

    sql_logged()
    client = app.test_client()
    answer = client.post("/api/v1/reports", json=REPORT, headers={"X-Request-Id": "req-abc.123"})
    assert answer.status_code == 201
    assert answer.headers["X-Request-Id"] == "req-abc.123"
    answer.close()  # as every server does once the answer is sent: the id ends with it
    with client.get("/probe-log", headers={"X-Request-Id": "req-2"}) as probed:
        assert probed.status_code == 200
    logging.getLogger("api.probe").info("after the requests")

    lines = captured.lines()
    first = [line for line in lines if line.get("request_id") == "req-abc.123"]
    assert {line["logger"] for line in first} >= {"sqlalchemy.engine.Engine"}
    assert any("INSERT INTO report" in line["message"] for line in first)
    second = [line for line in lines if line.get("request_id") == "req-2"]
    assert [line["message"] for line in second if line["logger"] == "api.probe"] == [
        "probing for someone"
    ]
    outside = [line for line in lines if line["message"] == "after the requests"]
    assert outside and "request_id" not in outside[0]
    for line in lines:
        assert set(line) >= {"time", "level", "logger", "message"}
        assert line["time"].endswith("+00:00")


def test_a_missing_or_invalid_request_id_is_replaced(client: Any) -> None:
    ids = []
    for header in (None, "", "has spaces", "x" * 129, "tab\there", "ünïcode", "-leading-dash"):
        headers = {"X-Request-Id": header} if header is not None else {}
        answer = client.get("/healthz", headers=headers)
        assert HEX_ID.fullmatch(answer.headers["X-Request-Id"]), header
        ids.append(answer.headers["X-Request-Id"])
    assert len(set(ids)) == len(ids)
    kept = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert client.get("/healthz", headers={"X-Request-Id": kept}).headers["X-Request-Id"] == kept


def test_the_development_server_request_line_carries_the_id(captured: Captured, app: Flask) -> None:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/healthz?email={EMAIL}"
        request = urllib.request.Request(url, headers={"X-Request-Id": "dev-server-1"})
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (http only)
            assert answer.headers["X-Request-Id"] == "dev-server-1"
    finally:
        server.shutdown()
        thread.join(5)
    served = [line for line in captured.lines() if line["logger"] == "werkzeug"]
    assert served, captured.text()
    assert served[-1]["request_id"] == "dev-server-1"
    assert "GET /healthz" in served[-1]["message"] and EMAIL not in captured.text()


def test_personal_data_is_redacted_from_messages_args_extras_and_exceptions(
    captured: Captured,
) -> None:
    log = logging.getLogger("api.redaction")
    log.info("pelapor %s wrote from %s", EMAIL, PHONES[0])
    for phone in PHONES[1:]:
        log.info("call %s back", phone)
    log.info(
        "%(pelapor_name)s <%(email)s> %(count)d", {"pelapor_name": NAME, "email": EMAIL, "count": 3}
    )
    log.info("payload {'pelapor_name': '%s', \"secret\": \"abc123\"} token=t0k3n&x=1", NAME)
    log.info("filed", extra={"pelapor_phone": PHONE, "pelapor_name": NAME})
    try:
        raise ValueError(f"cannot reach {EMAIL}")
    except ValueError:
        log.exception("delivery failed")
    log.info("kept: %s", " ".join(KEPT))

    text = captured.text()
    for secret in (EMAIL, NAME, "abc123", "t0k3n", *PHONES):
        assert secret not in text, secret
    assert re.sub(r"\D", "", PHONE) not in re.sub(r"\D", "", text.replace("3 ", ""))
    lines = captured.lines()
    assert lines[0]["message"] == "pelapor [redacted] wrote from [redacted]"
    assert lines[len(PHONES)]["message"] == "[redacted] <[redacted]> 3"
    failed = next(line for line in lines if line["message"] == "delivery failed")
    assert "ValueError: cannot reach [redacted]" in failed["exception"]
    assert lines[-1]["message"] == "kept: " + " ".join(KEPT)


def test_scheduler_job_lines_carry_the_job_id(captured: Captured, factory: Any) -> None:
    sql_logged()
    scheduler = build_scheduler(factory, audit_key=b"k" * 32, name="json-logs")
    scheduler.start()
    try:
        wait_for(
            lambda: (
                {"heartbeat", "sweep"}
                <= {line.get("job_id", "").split("-")[0] for line in captured.lines()}
            ),
            10,
            "heartbeat and sweep lines",
        )
    finally:
        scheduler.shutdown(wait=True)
    jobs = [line for line in captured.lines() if "job_id" in line]
    assert all(re.fullmatch(r"[a-z_]+-[0-9a-f]{8}", line["job_id"]) for line in jobs)
    assert all("request_id" not in line for line in jobs)
    beats = {line["job_id"] for line in jobs if line["job_id"].startswith("heartbeat-")}
    assert any("scheduler_heartbeat" in line["message"] for line in jobs if line["job_id"] in beats)


def test_text_format_names_the_request(restore_logging: None, client: Any) -> None:
    stream = io.StringIO()
    logs.configure("text", "INFO", stream=stream)
    sql_logged()
    client.get("/readyz", headers={"X-Request-Id": "text-1"})
    line = next(line for line in stream.getvalue().splitlines() if "[request_id=text-1]" in line)
    assert " INFO sqlalchemy.engine.Engine [request_id=text-1] " in line
    with pytest.raises(ValueError):
        logs.configure("xml")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_gunicorn_writes_json_lines_with_request_ids(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    out, err = tmp_path / "access.log", tmp_path / "error.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_LOG")}
    env.update(LAPOR_DATABASE_URL=database_url, LAPOR_ARGON2_TIME_COST="1")
    env["LAPOR_ARGON2_MEMORY_COST"] = "8"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
            + ["--access-logfile", "-", "--logger-class", "api.logs.GunicornLogger"]
            + ["api.wsgi:app"],
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
        try:

            def answers() -> bool:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
                    return True
                except OSError:
                    return False

            wait_for(answers, 60, "gunicorn to serve")
            url = f"http://127.0.0.1:{port}/lapor/ABCDEFGH23?secret=s3cr3t-value&email={EMAIL}"
            request = urllib.request.Request(url, headers={"X-Request-Id": "gunicorn-1"})
            try:
                urllib.request.urlopen(request, timeout=10).close()  # noqa: S310
            except urllib.error.HTTPError as refused:  # no such report: 404 is fine here
                assert refused.headers["X-Request-Id"] == "gunicorn-1"
        finally:
            server.terminate()
            server.wait(30)
    access = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    mine = [line for line in access if line.get("request_id") == "gunicorn-1"]
    assert len(mine) == 1 and mine[0]["logger"] == "gunicorn.access", access
    assert "GET /lapor/ABCDEFGH23?secret=[redacted]&email=[redacted]" in mine[0]["message"]
    errors = [json.loads(line) for line in err.read_text().splitlines() if line.strip()]
    assert any("Booting worker" in line["message"] for line in errors), err.read_text()
    assert {line["logger"] for line in errors} <= {"gunicorn.error", "api.wsgi"}
    assert "s3cr3t-value" not in out.read_text() + err.read_text()

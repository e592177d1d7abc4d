"""An anonim pelapor's identity reaches no one but the pelapor, on any channel; a rahasia report is
never public.

One anonim report carries a sentinel name, email and phone (and a photo whose file name and EXIF
name the pelapor). It goes the whole way: verified and forwarded, disposed, overdue and escalated
to the supervising province (alerts, emails), followed up, with a webhook registered by the
instansi. Then every output is searched for the sentinels: the staff API (tasks, supervision,
alerts, attachments), the staff and public pages, the public feed, the CSV and XLSX exports of
every staff role, every email not addressed to the pelapor, every webhook body, the audit rows,
and every log line written meanwhile.
Channels that later issues add (exports, Open311, statistics) get their place in `CHANNELS`.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import ExifTags, Image
from sqlalchemy import delete, select

from engine import clock
from engine.models import AuditEvent, ExportJob, Instansi, User
from engine.seed.loader import DEMO_PASSWORD
from engine.services import auth, exports
from sla.mailer import SmtpSettings
from sla.models import WebhookEndpoint
from sla.outbox import deliver_due
from sla.sweep import sweep
from tests.helpers import REPORT, Api
from tests.smtp_server import SmtpServer
from tests.webhook_receiver import WebhookReceiver

NAME, EMAIL, PHONE = "Kartini Sentinelwati", "kartini.sentinel@example.org", "+62 813 5550 4242"
PHONE_DIGITS = re.sub(r"\D", "", PHONE)[2:]  # 81355504242: caught with or without +62, spaces
ANONIM = {
    **REPORT,
    "anonim": True,
    "pelapor_name": NAME,
    "pelapor_email": EMAIL,
    "pelapor_phone": PHONE,
}
TEST_SERVERS = ("mail.log",)  # aiosmtpd's own log: the receiving mail server, not the app
STAFF_WITH_EMAIL = (("anon.sup", "supervisor", "34"), ("anon.sleman", "admin_instansi", "34.04"))
MONDAY = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)  # 09:00 WIB, no holiday for weeks
FORMATS = ("xml", "json")  # of the Open311 answers (api/open311)


def leaks(text: str) -> list[str]:
    """The sentinels found in `text` (the phone also as bare digits)."""
    digits = re.sub(r"\D", "", text)
    found = [s for s in (NAME, EMAIL) if s.lower() in text.lower()]
    first_name = NAME.split()[1]
    if first_name.lower() in text.lower():
        found.append(first_name)
    if PHONE_DIGITS in digits:
        found.append(PHONE)
    return found


def photo_naming_the_pelapor() -> bytes:
    image = Image.new("RGB", (32, 24), (10, 120, 200))
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = NAME
    exif[ExifTags.Base.ImageDescription] = f"{EMAIL} {PHONE}"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=NAME.encode())
    return out.getvalue()


@pytest.fixture()
def every_logger_at_debug() -> Iterator[None]:
    """Every logger lets DEBUG through for the test (another test or the CLI may have quietened
    some), so that the search sees whatever a deployment logging at DEBUG would write; SQL
    statements at INFO too (their parameters are hidden), but not SQLAlchemy's DEBUG dump of
    result rows, a database debugging aid that no deployment turns on."""
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    levels = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.NOTSET)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    logging.getLogger("sqlalchemy.pool").setLevel(logging.INFO)
    yield
    for logger, level in levels:
        logger.setLevel(level)


@pytest.fixture()
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture()
def app(make_app: Callable[..., Flask], database_url: str, tmp_path: Path) -> Flask:
    built: Flask = make_app(
        database_url,
        ATTACHMENT_DIR=str(tmp_path / "attachments"),
        EXPORT_DIR=str(tmp_path / "exports"),
    )
    return built


@pytest.fixture()
def no_exports_left(factory: Any) -> Iterator[None]:
    """Export jobs go after the test (clean_slate does not know them; their requesters may be
    the module's staff, deleted after it)."""
    yield
    with factory() as s, s.begin():
        s.execute(delete(ExportJob))


def exported_text(api: Api, username: str, fmt: str, export_dir: str, factory: Any) -> str:
    """The text of `username`'s export (every report they may export) in `fmt`."""
    token = api.login(username)
    asked = api.call("POST", "/api/v1/exports", token=token, json={"format": fmt})
    assert asked.status_code == 202, asked.get_data(as_text=True)
    while exports.run_next(factory, directory=export_dir, worker="anonymity"):
        pass
    got = api.call("GET", f"{asked.get_json()['url']}/file", token=token)
    assert got.status_code == 200, got.get_data(as_text=True)
    data = got.get_data()
    got.close()
    if fmt == "csv":
        return data.decode("utf-8-sig")
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(repr(row) for sheet in book for row in sheet.iter_rows(values_only=True))


@pytest.fixture(scope="module")
def staff_with_email(db_engine: Any) -> Iterator[None]:
    """A province supervisor and a Sleman admin with addresses, so escalations send mail; they
    are deleted after the module, so that other tests' recipient lists stay as they expect."""
    from engine.db import make_session_factory

    factory = make_session_factory(db_engine)
    with factory() as s, s.begin():
        for username, role, code in STAFF_WITH_EMAIL:
            if s.scalar(select(User.id).where(User.username == username)) is None:
                auth.create_user(
                    s,
                    username=username,
                    full_name=username,
                    password=DEMO_PASSWORD,
                    email=f"{username}@lapor.test",
                    roles=[(role, code, None)],
                )
    yield
    with factory() as s, s.begin():  # clean_slate has removed their tokens and alerts by now
        names = [username for username, _, _ in STAFF_WITH_EMAIL]
        for user in s.scalars(select(User).where(User.username.in_(names))):
            s.delete(user)


def register_webhook(factory: Any, receiver: WebhookReceiver) -> None:
    with factory() as s, s.begin():
        instansi_id = s.scalar(select(Instansi.id).where(Instansi.code == "34.04"))
        s.add(
            WebhookEndpoint(
                instansi_id=instansi_id,
                url=f"{receiver.url}/sleman",
                secret="sleman-webhook-secret",
                active=True,
                created_at=clock.now(),
            )
        )


def page_session(app: Flask, username: str) -> FlaskClient:
    """A test client signed in through the login form."""
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    signed = client.post(
        "/login",
        data={"csrf_token": token.group(1), "username": username, "password": DEMO_PASSWORD},
    )
    assert signed.status_code == 303, signed.status_code
    return client


def test_an_anonim_identity_reaches_no_channel_but_the_pelapor(
    app: Flask,
    factory: Any,
    smtp_server: SmtpServer,
    receiver: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
    every_logger_at_debug: None,
    staff_with_email: None,
    no_exports_left: None,
) -> None:
    caplog.set_level(logging.DEBUG)
    clock.set_clock(MONDAY)
    register_webhook(factory, receiver)
    client = app.test_client()
    api = Api(lambda: _same(client))

    filed = api.file(**ANONIM)
    tracking, secret = filed["tracking_id"], filed["secret"]
    uploaded = client.post(
        f"/api/v1/reports/{tracking}/attachments",
        data={
            "secret": secret,
            "file": (io.BytesIO(photo_naming_the_pelapor()), f"KTP {NAME}.jpg", "image/jpeg"),
        },
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    assert uploaded.get_json()["original_name"]  # the pelapor sees their own file name

    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    api.complete("sleman", tracking, {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"})
    # Overdue: the unit's task escalates to Sleman's admins, then to the province (34).
    for day in (20, 27):
        clock.set_clock(datetime(2026, 2, day, 2, 0, tzinfo=UTC))
        assert sweep(factory, scheduler="anon").fired >= 1
    task = api.task_for("sleman.pu", tracking)
    api.complete(
        "sleman.pu",
        tracking,
        {"tindak_lanjut": "Lubang jalan sudah ditambal oleh tim DPUPKP pada 19 Februari."},
    )
    settings = SmtpSettings(host=smtp_server.host, port=smtp_server.port)
    while deliver_due(factory, smtp=settings).sent:
        pass

    outputs: dict[str, str] = {}

    def answer(name: str, method: str, url: str, username: str | None = None) -> Any:
        token = api.login(username) if username else None
        response = api.call(method, url, token=token)
        assert response.status_code < 400, (name, response.status_code, response.get_data())
        outputs[name] = response.get_data(as_text=True)
        return response.get_json()

    for username in ("nasional", "sleman", "sleman.pu"):
        answer(f"task list ({username})", "GET", "/api/v1/tasks", username)
    detail = answer("task detail", "GET", f"/api/v1/tasks/{task['id']}", "sleman.pu")
    assert detail["report"]["tracking_id"] == tracking
    answer("supervision", "GET", f"/api/v1/reports/{tracking}/supervision", "anon.sup")
    alerts = answer("alerts", "GET", "/api/v1/alerts", "anon.sup")
    assert alerts["alerts"], "the escalation must have alerted the province supervisor"
    listed = answer("attachments", "GET", f"/api/v1/reports/{tracking}/attachments", "sleman.pu")
    assert listed and listed[0]["original_name"] is None
    download = api.call("GET", listed[0]["url"], token=api.login("sleman.pu"))
    assert download.status_code == 200
    outputs["attachment file"] = download.get_data().decode("latin-1")
    feed = answer("change feed", "GET", "/api/v1/changes", "sleman")  # apps' pull channel
    assert any(c["data"]["tracking_id"] == tracking for c in feed["changes"])
    answer("public report", "GET", f"/api/v1/reports/{tracking}")
    answer("public feed", "GET", "/api/v1/public/reports")
    answer("public feed item", "GET", f"/api/v1/public/reports/{tracking}")
    for fmt in FORMATS:  # Open311 GeoReport v2 (api/open311)
        answer(f"open311 requests ({fmt})", "GET", f"/open311/v2/requests.{fmt}")
        answer(f"open311 request ({fmt})", "GET", f"/open311/v2/requests/{tracking}.{fmt}")
        assert tracking in outputs[f"open311 requests ({fmt})"]

    for username in ("nasional", "sleman", "sleman.pu", "anon.sup"):  # exports (CSV, XLSX)
        for kind in ("csv", "xlsx"):
            text = exported_text(api, username, kind, app.config["LAPOR"].EXPORT_DIR, factory)
            assert tracking in text, (username, kind)
            outputs[f"export {kind} ({username})"] = text

    officer = page_session(app, "sleman.pu")
    supervisor = page_session(app, "anon.sup")
    for name, session, url in (
        ("task page", officer, f"/tugas/{task['id']}"),
        ("inbox page", officer, "/tugas"),
        ("supervisor report page", supervisor, f"/pengawasan/{tracking}"),
        ("overdue page", supervisor, "/pengawasan"),
        ("alerts page", supervisor, "/peringatan"),
        ("public page", client, f"/publik/{tracking}"),
        ("public feed page", client, "/publik"),
    ):
        page = session.get(url)
        assert page.status_code == 200, (name, page.status_code)
        outputs[name] = page.get_data(as_text=True)
    assert tracking in outputs["task page"] and tracking in outputs["public page"]

    mails = smtp_server.received()
    to_staff = [m for m in mails if EMAIL not in m["To"]]
    assert any("anon.sup@lapor.test" in m["To"] for m in to_staff), [m["To"] for m in mails]
    assert any(EMAIL in m["To"] for m in mails)  # the pelapor is still told, at their address
    for number, mail in enumerate(to_staff):
        outputs[f"email {number} to {mail['To']}"] = mail.as_string()
    assert receiver.requests, "the instansi's webhook must have been called"
    hooked = [json.loads(hook.body)["type"] for hook in receiver.requests]
    assert "report.followed_up" in hooked, hooked  # its changes too, not only alerts
    for number, hook in enumerate(receiver.requests):
        outputs[f"webhook {number}"] = hook.body.decode("utf-8")
    with factory() as s:
        rows = s.scalars(select(AuditEvent)).all()
        outputs["audit rows"] = json.dumps(
            [[r.actor, r.action, r.data] for r in rows], ensure_ascii=False, default=str
        )
    ours = [r for r in caplog.records if not r.name.startswith(TEST_SERVERS)]

    assert ours, "the scenario logs nothing: is capturing working?"
    outputs["log lines"] = "\n".join(f"{r.name} {r.getMessage()}" for r in ours)

    found = {name: leaks(text) for name, text in outputs.items() if leaks(text)}
    assert not found, f"the anonim pelapor's identity leaked: {found}"


def test_the_sentinel_search_does_find_an_identity_that_is_shown() -> None:
    """The control: `leaks` catches the name, the email and the phone in any spelling."""
    assert leaks(f"oleh {NAME.upper()}") == [NAME, NAME.split()[1]]
    assert leaks(f"<a href='mailto:{EMAIL}'>") == [EMAIL]
    assert leaks("hubungi 0813-5550-4242") == [PHONE]
    assert leaks("Laporan tentang jalan rusak") == []


def test_a_rahasia_report_is_never_listed_in_public(app: Flask) -> None:
    clock.set_clock(MONDAY)
    client = app.test_client()
    api = Api(lambda: _same(client))
    hidden = api.file(rahasia=True, title="Dugaan pungutan liar di kantor kecamatan")
    shown = api.file(title="Lampu jalan mati di Jalan Magelang")
    for tracking in (hidden["tracking_id"], shown["tracking_id"]):
        api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    feed = client.get("/api/v1/public/reports").get_data(as_text=True)
    page = client.get("/publik").get_data(as_text=True)
    search = client.get("/api/v1/public/reports", query_string={"q": "pungutan"})
    open311 = [client.get(f"/open311/v2/requests.{fmt}").get_data(as_text=True) for fmt in FORMATS]
    asked = {"service_request_id": f"{hidden['tracking_id']},{shown['tracking_id']}"}
    open311 += [
        client.get(f"/open311/v2/requests.{fmt}", query_string=asked).get_data(as_text=True)
        for fmt in FORMATS
    ]
    for text in (feed, page, search.get_data(as_text=True), *open311):
        assert hidden["tracking_id"] not in text and "pungutan liar" not in text
    assert shown["tracking_id"] in feed and shown["tracking_id"] in page
    assert client.get(f"/api/v1/public/reports/{hidden['tracking_id']}").status_code == 404
    assert client.get(f"/publik/{hidden['tracking_id']}").status_code == 404
    assert all(shown["tracking_id"] in text for text in open311)
    for fmt in FORMATS:
        url = f"/open311/v2/requests/{hidden['tracking_id']}.{fmt}"
        assert client.get(url).status_code == 404


class _same:
    """`Api` wants a context manager per call; here every call uses the one client."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def __enter__(self) -> FlaskClient:
        return self.client

    def __exit__(self, *exc: object) -> None:
        return None

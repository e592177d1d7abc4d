"""The pelapor sees all personal data held for their report and has their identity deleted
(UU 27/2022), through the REST API, with a real SMTP server for the emails sent to them: only
with the report's secret (anyone else gets 404), audited with ids only; the report stays,
anonymised, with its timeline; emails still waiting for them are cancelled."""

from __future__ import annotations

import io
import re
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select, text

from engine import clock
from engine.models import Attachment, AuditEvent, Report, TimelineEntry
from sla.mailer import SmtpSettings
from sla.models import OutboxMessage
from sla.outbox import deliver_due
from tests.helpers import REPORT, Api, problem_of
from tests.smtp_server import SmtpServer

T0 = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)  # Monday 09:00 WIB
GESI = {"gender": "perempuan", "vulnerable_group": "lansia", "gesi_consent": True}
REASON = "Lokasi belum jelas: sebutkan nama desa dan patokan terdekat."
INFO = "Desa Sardonoharjo, depan pasar, rumah Pak Sentinel."


@pytest.fixture()
def smtp(smtp_server: SmtpServer) -> SmtpServer:
    clock.set_clock(T0)
    return smtp_server


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    return tmp_path / "attachments"


@pytest.fixture()
def api(make_app: Any, database_url: str, folder: Path, smtp: SmtpServer) -> Api:
    client = make_app(database_url, ATTACHMENT_DIR=str(folder)).test_client()
    return Api(lambda: nullcontext(client))


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


def attach(api: Api, filed: dict[str, Any], name: str) -> None:
    with api.fresh() as client:
        response = client.post(
            f"/api/v1/reports/{filed['tracking_id']}/attachments",
            data={"secret": filed["secret"], "file": (io.BytesIO(png()), name, "image/png")},
            content_type="multipart/form-data",
        )
    assert response.status_code == 201, response.get_json()


def held(api: Api, tracking: str, secret: Any) -> Any:
    return api.call("GET", f"/api/v1/reports/{tracking}/personal-data", query={"secret": secret})


def delete_identity(api: Api, tracking: str, secret: Any) -> Any:
    return api.call("POST", f"/api/v1/reports/{tracking}/identity/delete", json={"secret": secret})


def deliver(factory: Any, smtp: SmtpServer) -> None:
    deliver_due(factory, smtp=SmtpSettings(host=smtp.host, port=smtp.port))


def a_report_with_everything(api: Api, factory: Any, smtp: SmtpServer) -> dict[str, Any]:
    """Filed with identity, GESI answers and a photo; put on tunda (a mail sent), answered,
    put on tunda again (a mail still waiting in the outbox)."""
    filed = api.file(target_instansi=None, **GESI)
    tracking = filed["tracking_id"]
    attach(api, filed, "KTP Sentinel Pelapor.png")
    api.complete("nasional", tracking, {"outcome": "tunda", "reason": REASON})
    deliver(factory, smtp)
    clock.set_clock(T0 + timedelta(hours=1))
    api.reply(tracking, filed["secret"], kind="info", text=INFO)
    api.complete("nasional", tracking, {"outcome": "tunda", "reason": "Sebutkan tanggalnya."})
    return filed


def test_the_pelapor_sees_everything_held_for_their_report(
    api: Api, factory: Any, smtp: SmtpServer
) -> None:
    filed = a_report_with_everything(api, factory, smtp)
    tracking = filed["tracking_id"]
    response = held(api, tracking, filed["secret"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    subject = f"Laporan {tracking} ditunda: informasi tambahan diperlukan"
    assert body == {
        "tracking_id": tracking,
        "created_at": "2026-02-02T02:00:00+00:00",
        "anonim": False,
        "rahasia": False,
        "identity": {
            "pelapor_name": REPORT["pelapor_name"],
            "pelapor_email": REPORT["pelapor_email"],
            "pelapor_phone": REPORT["pelapor_phone"],
        },
        "gesi": {"gender": "perempuan", "disability": None, "vulnerable_group": "lansia"},
        "attachments": [
            {
                "name": "KTP Sentinel Pelapor.png",
                "content_type": "image/png",
                "size": body["attachments"][0]["size"],
                "created_at": "2026-02-02T02:00:00+00:00",
            }
        ],
        "replies": [{"at": "2026-02-02T03:00:00+00:00", "kind": "info_supplied", "text": INFO}],
        "emails": [
            {
                "subject": subject,
                "queued_at": "2026-02-02T02:00:00+00:00",
                "sent_at": "2026-02-02T02:00:00+00:00",
                "status": "sent",
            },
            {
                "subject": subject,
                "queued_at": "2026-02-02T03:00:00+00:00",
                "sent_at": None,
                "status": "pending",
            },
        ],
    }
    assert body["attachments"][0]["size"] > 0
    with factory() as s:
        report_id = s.scalar(select(Report.id).where(Report.tracking_id == tracking))
        [event] = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "report.personal_data_requested")
        ).all()
    assert (event.actor, event.report_id, event.data) == ("pelapor", report_id, None)


def test_resent_link_mails_are_listed_too(api: Api, factory: Any, smtp: SmtpServer) -> None:
    filed = api.file()
    response = api.call(
        "POST", "/api/v1/reports/resend-link", json={"email": REPORT["pelapor_email"]}
    )
    assert response.status_code == 202
    with factory() as s:
        [mail] = s.scalars(select(OutboxMessage)).all()
    found = re.search(rf"/lapor/{filed['tracking_id']}\?secret=([A-Za-z0-9_-]+)", mail.body)
    assert found
    problem_of(held(api, filed["tracking_id"], filed["secret"]), 404)  # re-issued: old one gone
    body = held(api, filed["tracking_id"], found.group(1)).get_json()
    assert body["emails"] == [
        {
            "subject": "Tautan pelacakan laporan Anda di LAPOR!",
            "queued_at": "2026-02-02T02:00:00+00:00",
            "sent_at": None,
            "status": "pending",
        }
    ]
    problem_of(held(api, filed["tracking_id"], None), 422)  # the secret is required


def test_identity_deleted_report_kept_anonymised_pending_mail_cancelled(
    api: Api, factory: Any, smtp: SmtpServer, db_engine: Any, folder: Path
) -> None:
    filed = a_report_with_everything(api, factory, smtp)
    tracking, secret = filed["tracking_id"], filed["secret"]
    with factory() as s:
        before = s.scalars(
            select(TimelineEntry.kind)
            .join(Report, Report.id == TimelineEntry.report_id)
            .where(Report.tracking_id == tracking)
            .order_by(TimelineEntry.id)
        ).all()

    response = delete_identity(api, tracking, secret)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "tracking_id": tracking,
        "deleted": [
            "pelapor_name",
            "pelapor_email",
            "pelapor_phone",
            "gender",
            "vulnerable_group",
            "attachment_names",
        ],
        "anonim": True,
    }
    with db_engine.connect() as conn:
        raw = conn.execute(
            text(
                "SELECT pelapor_name, pelapor_email, pelapor_phone, pelapor_email_hmac, gender,"
                " disability, vulnerable_group, anonim, status FROM report WHERE tracking_id = :t"
            ),
            {"t": tracking},
        ).one()
    assert tuple(raw[:7]) == (None,) * 7 and bool(raw.anonim) and raw.status == "on_hold"
    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking))
        assert report is not None
        names = s.scalars(select(Attachment.original_name).where(Attachment.report_id == report.id))
        assert list(names) == ["lampiran-1.png"]
        kinds = s.scalars(
            select(TimelineEntry.kind)
            .where(TimelineEntry.report_id == report.id)
            .order_by(TimelineEntry.id)
        ).all()
        assert kinds == before  # the timeline stays whole
        outbox = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(m.status, m.recipient) for m in outbox] == [("sent", "(dihapus)")]
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "report.identity_deleted")
        ).all()
        assert [(e.actor, e.report_id, e.data) for e in events] == [("pelapor", report.id, None)]
    assert len(list(folder.iterdir())) == 1  # the photo itself stays with the report

    deliver(factory, smtp)
    assert len(smtp.received()) == 1  # the cancelled second notice never goes out

    shown = held(api, tracking, secret).get_json()  # the secret still works
    assert shown["anonim"] is True
    assert set(shown["identity"].values()) == {None} and set(shown["gesi"].values()) == {None}
    assert shown["attachments"][0]["name"] == "lampiran-1.png"
    assert shown["replies"][0]["text"] == INFO  # what they wrote stays with the report
    assert api.report(tracking, secret)["status"] == "on_hold"

    again = delete_identity(api, tracking, secret)
    assert again.status_code == 200 and again.get_json()["deleted"] == []
    with factory() as s:
        count = len(
            s.scalars(
                select(AuditEvent).where(AuditEvent.action == "report.identity_deleted")
            ).all()
        )
    assert count == 1  # nothing left, nothing written

    response = api.call(
        "POST", "/api/v1/reports/resend-link", json={"email": REPORT["pelapor_email"]}
    )
    assert response.status_code == 202
    with factory() as s:
        assert len(s.scalars(select(OutboxMessage)).all()) == 1  # the address is known no more


def test_another_secret_or_report_gets_404_and_nothing_changes(
    api: Api, factory: Any, smtp: SmtpServer
) -> None:
    mine = api.file(**GESI)
    other = api.file()
    for tracking, secret in (
        (mine["tracking_id"], other["secret"]),
        (other["tracking_id"], mine["secret"]),
        ("ZZZZZZZZZZ", mine["secret"]),
        (mine["tracking_id"], "x" * 20),
    ):
        problem_of(held(api, tracking, secret), 404)
        problem_of(delete_identity(api, tracking, secret), 404)
    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == mine["tracking_id"]))
        assert report is not None and report.pelapor_name == REPORT["pelapor_name"]
        assert report.gender == "perempuan" and not report.anonim
        assert not s.scalars(
            select(AuditEvent).where(
                AuditEvent.action.in_(["report.identity_deleted", "report.personal_data_requested"])
            )
        ).all()
    problem_of(delete_identity(api, mine["tracking_id"], None), 422)


def test_gesi_answers_need_explicit_consent(api: Api, factory: Any) -> None:
    before = held_count(factory)
    for consent in (None, False):
        data = {"gender": "perempuan"} | ({} if consent is None else {"gesi_consent": consent})
        body = problem_of(api.call("POST", "/api/v1/reports", json={**REPORT, **data}), 422)
        assert body["field"] == "gesi_consent"
    assert held_count(factory) == before
    assert api.file(gesi_consent=False)["tracking_id"]  # no answers: no consent needed
    filed = api.file(disability="fisik", gesi_consent=True)
    with factory() as s:
        assert (
            s.scalar(select(Report.disability).where(Report.tracking_id == filed["tracking_id"]))
            == "fisik"
        )


def held_count(factory: Any) -> int:
    with factory() as s:
        return len(s.scalars(select(Report.id)).all())

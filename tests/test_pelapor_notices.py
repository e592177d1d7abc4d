"""The pelapor's own emails, through the HTTP API and a real SMTP server: tunda, follow-up,
closed (also auto-closed), nothing without an address, nothing twice; and the re-sent link.

The clock is pinned (no test sleeps); each API call runs on a brand-new app.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import func, select

import sla
from engine import clock, events
from engine.models import AuditEvent, Report
from sla import pelapor_notices
from sla.mailer import SmtpSettings
from sla.models import OutboxMessage
from sla.outbox import DeliveryReport, deliver_due
from sla.sweep import sweep
from tests.helpers import REPORT, Api, problem_of
from tests.smtp_server import SmtpServer

T0 = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)  # Monday 09:00 WIB; no holidays nearby
EMAIL = REPORT["pelapor_email"]
BASE = "http://127.0.0.1:5000"
REASON = "Lokasi belum jelas: sebutkan nama desa dan patokan terdekat."
FOLLOW_UP = {"tindak_lanjut": "Perbaikan jalan sudah dijadwalkan minggu depan oleh DPUPKP."}
SECRET_LINK = re.compile(r"/lapor/([A-Z0-9]{10})\?secret=([A-Za-z0-9_-]+)")


@pytest.fixture()
def notices() -> Iterator[None]:
    """The subscriber for this test only; afterwards exactly what `sla.install()` wires."""
    pelapor_notices.install()
    pelapor_notices.install()  # idempotent
    yield
    events.unsubscribe(events.STATUS_CHANGED, pelapor_notices.on_status_changed)
    sla.install()


@pytest.fixture()
def smtp(smtp_server: SmtpServer) -> SmtpServer:
    clock.set_clock(T0)
    return smtp_server


@pytest.fixture()
def api(fresh_client: Any, database_url: str, notices: None, smtp: SmtpServer) -> Api:
    return Api(fresh_client)


def deliver(factory: Any, smtp: SmtpServer) -> list[EmailMessage]:
    """Deliver everything due; returns the mails received by now."""
    deliver_due(factory, smtp=SmtpSettings(host=smtp.host, port=smtp.port))
    return smtp.received()


def text_of(mail: EmailMessage) -> str:
    return str(mail.get_content()).replace("\r\n", "\n")


def outbox_rows(factory: Any) -> list[OutboxMessage]:
    with factory() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def forward_and_dispose(api: Api, tracking: str) -> None:
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    api.complete("sleman", tracking, {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"})


def resend(api: Api, email: Any) -> Any:
    return api.call("POST", "/api/v1/reports/resend-link", json={"email": email})


def test_tunda_mail_says_what_is_missing_and_where_to_answer(
    api: Api, factory: Any, smtp: SmtpServer
) -> None:
    filed = api.file(target_instansi=None)
    tracking = filed["tracking_id"]
    assert deliver(factory, smtp) == []  # filing and verification send the pelapor nothing
    api.complete("nasional", tracking, {"outcome": "tunda", "reason": REASON})

    [mail] = deliver(factory, smtp)
    assert mail["To"] == EMAIL
    assert mail["Subject"] == f"Laporan {tracking} ditunda: informasi tambahan diperlukan"
    body = text_of(mail)
    assert REASON in body
    assert f"{BASE}/lapor/{tracking}\n" in body
    assert "secret=" not in body and filed["secret"] not in body
    assert "Your report is on hold" in body
    with factory() as s:
        report_id = s.scalar(select(Report.id).where(Report.tracking_id == tracking))
    assert re.fullmatch(rf"<pelapor-{report_id}-on_hold-\d+@lapor-flow>", mail["Message-ID"])

    api.reply(tracking, filed["secret"], kind="info", text="Desa Sardonoharjo, depan pasar.")
    assert deliver(factory, smtp) == [mail]  # back to verification: no mail
    assert deliver_due(factory, smtp=SmtpSettings(host=smtp.host, port=smtp.port)) == (
        DeliveryReport()
    )


def test_follow_up_and_closed_mails_each_once(api: Api, factory: Any, smtp: SmtpServer) -> None:
    filed = api.file()
    tracking, secret = filed["tracking_id"], filed["secret"]
    forward_and_dispose(api, tracking)
    api.complete("sleman.pu", tracking, FOLLOW_UP)
    [follow_up] = deliver(factory, smtp)
    assert follow_up["Subject"] == f"Laporan {tracking} telah ditindaklanjuti"
    body = text_of(follow_up)
    assert FOLLOW_UP["tindak_lanjut"] in body
    assert "tidak puas" in body and "10 hari kerja" in body
    assert f"{BASE}/lapor/{tracking}" in body

    api.reply(tracking, secret, kind="rating", rating=5, satisfied=True)
    mails = deliver(factory, smtp)
    assert [m["Subject"] for m in mails] == [
        f"Laporan {tracking} telah ditindaklanjuti",
        f"Laporan {tracking} telah ditutup",
    ]
    closed = text_of(mails[1])
    assert "Terima kasih" in closed and f"{BASE}/lapor/{tracking}" in closed
    assert "otomatis" not in closed

    assert deliver(factory, smtp) == mails  # nothing is sent twice
    ids = smtp.message_ids()
    assert len(set(ids)) == len(ids) == 2
    assert [r.recipient for r in outbox_rows(factory)] == [EMAIL, EMAIL]


def test_every_follow_up_after_tidak_puas_gets_its_own_mail(
    api: Api, factory: Any, smtp: SmtpServer
) -> None:
    filed = api.file()
    tracking, secret = filed["tracking_id"], filed["secret"]
    forward_and_dispose(api, tracking)
    api.complete("sleman.pu", tracking, FOLLOW_UP)
    api.reply(tracking, secret, kind="rating", rating=1, satisfied=False, text="Belum ada.")
    second = "Perbaikan selesai hari ini, 12 m2."
    api.complete("sleman.pu", tracking, {"tindak_lanjut": second})
    mails = deliver(factory, smtp)
    assert len(mails) == 2 and mails[0]["Message-ID"] != mails[1]["Message-ID"]
    assert second in text_of(mails[1]) and second not in text_of(mails[0])


def test_auto_close_warning_then_closed_mail(api: Api, factory: Any, smtp: SmtpServer) -> None:
    tracking = api.file()["tracking_id"]
    forward_and_dispose(api, tracking)
    api.complete("sleman.pu", tracking, FOLLOW_UP)
    clock.set_clock(T0 + timedelta(days=21))  # past 10 working days, no answer
    sweep(factory, scheduler="test")
    mails = deliver(factory, smtp)
    assert [m["Subject"] for m in mails] == [
        f"Laporan {tracking} telah ditindaklanjuti",
        f"Laporan {tracking} akan ditutup otomatis",  # sla.escalation.warn_pelapor
        f"Laporan {tracking} telah ditutup",
    ]
    assert "ditutup otomatis" in text_of(mails[2]) and "10 hari kerja" in text_of(mails[2])
    assert {m["To"] for m in mails} == {EMAIL}


def test_no_mail_without_an_address(api: Api, factory: Any, smtp: SmtpServer) -> None:
    filed = api.file(target_instansi=None, pelapor_email=None)
    api.complete("nasional", filed["tracking_id"], {"outcome": "tunda", "reason": REASON})
    assert api.report(filed["tracking_id"])["status"] == "on_hold"
    assert outbox_rows(factory) == []
    assert deliver(factory, smtp) == []


def test_anonim_pelapor_gets_own_notices_and_nobody_else_any(
    api: Api, factory: Any, smtp: SmtpServer
) -> None:
    filed = api.file(anonim=True, rahasia=True)
    tracking = filed["tracking_id"]
    forward_and_dispose(api, tracking)
    api.complete("sleman.pu", tracking, FOLLOW_UP)
    api.reply(tracking, filed["secret"], kind="rating", rating=4, satisfied=True)
    mails = deliver(factory, smtp)
    assert len(mails) == 2
    assert smtp.envelopes == [[EMAIL], [EMAIL]]
    assert {row.recipient for row in outbox_rows(factory)} == {EMAIL}
    for mail in mails:  # the identity stays out even of the pelapor's own mail
        assert REPORT["pelapor_name"] not in text_of(mail)
        assert REPORT["pelapor_phone"] not in text_of(mail)


def test_running_the_subscriber_again_queues_nothing_new(api: Api, factory: Any) -> None:
    tracking = api.file(target_instansi=None)["tracking_id"]
    api.complete("nasional", tracking, {"outcome": "tunda", "reason": REASON})
    with factory() as s, s.begin():
        report_id = s.scalar(select(Report.id).where(Report.tracking_id == tracking))
        assert report_id is not None
        event = events.Event(
            events.STATUS_CHANGED,
            report_id,
            {"from": "pending_verification", "to": "on_hold", "kind": "on_hold", "text": REASON},
        )
        pelapor_notices.on_status_changed(s, event)
        pelapor_notices.on_status_changed(s, event)
    assert len(outbox_rows(factory)) == 1


def test_public_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAPOR_PUBLIC_URL", "https://lapor.go.id/")
    assert pelapor_notices.status_link("ABCDEFGHJK") == "https://lapor.go.id/lapor/ABCDEFGHJK"
    assert pelapor_notices.status_link("ABCDEFGHJK", "a-b_c") == (
        "https://lapor.go.id/lapor/ABCDEFGHJK?secret=a-b_c"
    )
    monkeypatch.setenv("LAPOR_PUBLIC_URL", "lapor.go.id")
    with pytest.raises(ValueError, match="LAPOR_PUBLIC_URL"):
        pelapor_notices.public_url()


def test_resend_link_answers_alike_and_issues_working_secrets(
    api: Api, factory: Any, smtp: SmtpServer
) -> None:
    public = api.file()
    rahasia = api.file(rahasia=True)
    other = api.file(pelapor_email="orang.lain@example.org")

    unknown = resend(api, "tidak.dikenal@example.org")
    known = resend(api, EMAIL.upper())  # addresses match case-insensitively
    assert unknown.status_code == known.status_code == 202
    assert unknown.get_json() == known.get_json()
    assert unknown.get_data() == known.get_data()

    [mail] = deliver(factory, smtp)
    assert mail["To"] == EMAIL and smtp.envelopes == [[EMAIL]]
    body = text_of(mail)
    assert "tidak berlaku lagi" in body and "no longer work" in body
    links = dict(SECRET_LINK.findall(body))
    assert set(links) == {public["tracking_id"], rahasia["tracking_id"]}
    assert other["tracking_id"] not in body
    assert body.count(f"{BASE}/lapor/") == 2

    tracking = rahasia["tracking_id"]
    assert api.report(tracking, links[tracking])["rahasia"] is True
    old = api.call("GET", f"/api/v1/reports/{tracking}", query={"secret": rahasia["secret"]})
    assert old.status_code == 404
    tracking = public["tracking_id"]
    api.reply(tracking, public["secret"], expect=404, kind="comment", text="Masih rusak.")
    api.reply(tracking, links[tracking], kind="comment", text="Masih rusak.")
    api.reply(other["tracking_id"], other["secret"], kind="comment", text="Secret tetap.")
    with factory() as s:
        reissued = s.scalar(
            select(func.count()).where(AuditEvent.action == "report.secret_reissued")
        )
        assert reissued == 2


def test_resend_link_is_rate_limited_per_address(api: Api, factory: Any, smtp: SmtpServer) -> None:
    api.file()
    answers = [resend(api, EMAIL) for _ in range(4)]
    assert [a.status_code for a in answers] == [202] * 4
    assert len({a.get_data() for a in answers}) == 1
    assert len(deliver(factory, smtp)) == 3  # the 4th in the hour sent nothing
    assert all(r.event_id.startswith("resend-") for r in outbox_rows(factory))

    clock.set_clock(T0 + timedelta(hours=1, seconds=1))
    assert resend(api, EMAIL).status_code == 202
    assert len(deliver(factory, smtp)) == 4


@pytest.mark.parametrize(
    "payload",
    [{"email": "bukan-email"}, {"email": "a@"}, {"email": None}, {"email": 7}, {}],
)
def test_resend_link_refuses_a_malformed_address(api: Api, payload: dict[str, Any]) -> None:
    response = api.call("POST", "/api/v1/reports/resend-link", json=payload)
    assert problem_of(response, 422)["field"] == "email"

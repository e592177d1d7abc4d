"""The delivery outbox against a real SMTP server and a real HTTP receiver.

Time only moves through `engine.clock.set_clock`: no test sleeps through a backoff.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import AuditEvent, Instansi
from sla import outbox
from sla.mailer import SmtpSettings
from sla.models import OutboxMessage, WebhookEndpoint
from sla.outbox import DeliveryReport, backoff, deliver_due, enqueue_email, enqueue_webhook
from sla.webhooks import sign, verify
from tests.smtp_server import SmtpServer
from tests.webhook_receiver import WebhookReceiver

T0 = datetime(2026, 3, 13, 3, 0, tzinfo=UTC)
SUBJECT = "Laporan Anda diteruskan — Kabupaten Sleman"
BODY = (
    "Yth. Bapak/Ibu Pelapor,\n\n"
    "Laporan Anda “Jalan rusak di Jalan Kaliurang km 10” telah diteruskan ke Dinas Pekerjaan "
    "Umum, Perumahan dan Kawasan Permukiman Kabupaten Sleman.\n"
    "Terima kasih atas partisipasi Anda — salam hormat, Tim LAPOR!\n"
)
SECRET = "rahasia-sleman-2026"


@pytest.fixture()
def smtp(smtp_server: SmtpServer) -> SmtpServer:
    clock.set_clock(T0)
    return smtp_server


@pytest.fixture()
def settings(smtp: SmtpServer) -> SmtpSettings:
    return SmtpSettings(host=smtp.host, port=smtp.port)


@pytest.fixture()
def receiver() -> Iterator[WebhookReceiver]:
    clock.set_clock(T0)
    with WebhookReceiver() as running:
        yield running


@pytest.fixture()
def endpoint(factory: Any, receiver: WebhookReceiver) -> WebhookEndpoint:
    with factory() as s, s.begin():
        instansi_id = s.scalar(select(Instansi.id).where(Instansi.code == "34.04"))
        assert instansi_id is not None
        row = WebhookEndpoint(
            instansi_id=instansi_id,
            url=f"{receiver.url}/lapor/hook",
            secret=SECRET,
            active=True,
            created_at=clock.now(),
        )
        s.add(row)
    return row


def queue_email(factory: Any, to: str = "warga@example.org", **kwargs: Any) -> OutboxMessage:
    with factory() as s, s.begin():
        return enqueue_email(s, to=to, subject=SUBJECT, body=BODY, **kwargs)


def load(factory: Any, message_id: int) -> OutboxMessage:
    with factory() as s:
        row = s.get(OutboxMessage, message_id)
        assert row is not None
        return row


def test_email_is_delivered_with_stable_message_id_and_utf8_body(
    factory: Any, smtp: SmtpServer, settings: SmtpSettings
) -> None:
    queued = queue_email(factory)
    assert deliver_due(factory, smtp=settings) == DeliveryReport(sent=1)

    [mail] = smtp.received()
    assert mail["Message-ID"] == f"<{queued.event_id}@lapor-flow>"
    assert mail["Subject"] == SUBJECT
    assert mail["From"] == "LAPOR! <no-reply@lapor.go.id>"
    assert mail["To"] == "warga@example.org"
    assert mail["Date"] == format_datetime(T0)
    assert mail.get_content_charset() == "utf-8"
    assert mail.get_content().replace("\r\n", "\n") == BODY  # SMTP carries CRLF line ends
    row = load(factory, queued.id)
    assert (row.status, row.sent_at, row.attempts, row.last_error) == ("sent", T0, 0, None)
    assert deliver_due(factory, smtp=settings) == DeliveryReport()


def test_mail_server_down_then_back_delivers_exactly_once(
    factory: Any, smtp: SmtpServer, settings: SmtpSettings
) -> None:
    smtp.stop()
    queued = queue_email(factory)
    assert deliver_due(factory, smtp=settings) == DeliveryReport(retried=1)
    row = load(factory, queued.id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error and "refused" in row.last_error.lower()
    assert row.next_attempt_at == T0 + timedelta(seconds=30) > clock.now()
    assert deliver_due(factory, smtp=settings) == DeliveryReport()  # not due yet

    smtp.start()
    assert smtp.port == settings.port
    clock.set_clock(T0 + timedelta(seconds=31))
    assert deliver_due(factory, smtp=settings) == DeliveryReport(sent=1)
    assert deliver_due(factory, smtp=settings) == DeliveryReport()
    assert len(smtp.received()) == 1
    assert set(smtp.message_ids()) == {f"<{queued.event_id}@lapor-flow>"}
    assert load(factory, queued.id).status == "sent"


def test_backoff_doubles_from_30_seconds_and_caps_at_an_hour() -> None:
    seconds = [backoff(n).total_seconds() for n in range(1, 11)]
    assert seconds == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert backoff(500) == timedelta(hours=1)
    with pytest.raises(ValueError):
        backoff(0)


def test_failures_back_off_then_go_dead_after_24_hours_and_resend_keeps_message_id(
    factory: Any, smtp: SmtpServer, settings: SmtpSettings
) -> None:
    smtp.stop()
    queued = queue_email(factory, report_id=None)
    waits: list[float] = []
    while True:
        report = deliver_due(factory, smtp=settings)
        row = load(factory, queued.id)
        if row.status == "dead":
            assert report == DeliveryReport(dead=1)
            break
        assert report == DeliveryReport(retried=1)
        waits.append((row.next_attempt_at - clock.now()).total_seconds())
        clock.set_clock(row.next_attempt_at)
    assert waits[:9] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert set(waits[7:]) == {3600}
    died_at = clock.now()
    assert died_at <= T0 + timedelta(hours=24) < died_at + timedelta(hours=1)
    assert row.attempts == len(waits) + 1
    assert row.last_error and "refused" in row.last_error.lower()
    with factory() as s:
        assert [m.id for m in outbox.list_messages(s, status="dead")] == [queued.id]
        assert outbox.list_messages(s, status="pending") == []

    smtp.start()
    clock.set_clock(T0 + timedelta(days=2))
    with factory() as s:
        again = outbox.resend(s, message_id=queued.id, actor="user:1")
    assert (again.status, again.attempts) == ("pending", row.attempts)
    assert deliver_due(factory, smtp=settings) == DeliveryReport(sent=1)
    assert smtp.message_ids() == [f"<{queued.event_id}@lapor-flow>"]
    with factory() as s:
        assert s.scalar(select(AuditEvent.actor).where(AuditEvent.action == "outbox.resent")) == (
            "user:1"
        )
    with factory() as s, pytest.raises(NotFound):
        outbox.resend(s, message_id=queued.id + 1000)


def test_resending_a_sent_email_repeats_the_message_id(
    factory: Any, smtp: SmtpServer, settings: SmtpSettings
) -> None:
    queued = queue_email(factory)
    deliver_due(factory, smtp=settings)
    with factory() as s:
        outbox.resend(s, message_id=queued.id)
    with factory() as s, pytest.raises(Conflict):
        outbox.resend(s, message_id=queued.id)
    assert deliver_due(factory, smtp=settings) == DeliveryReport(sent=1)
    assert smtp.message_ids() == [f"<{queued.event_id}@lapor-flow>"] * 2


def test_a_failing_message_does_not_block_the_others(
    factory: Any, smtp: SmtpServer, settings: SmtpSettings
) -> None:
    first = queue_email(factory, to="satu@example.org")
    refused = queue_email(factory, to="bounce@example.org")
    last = queue_email(factory, to="tiga@example.org")
    assert deliver_due(factory, smtp=settings) == DeliveryReport(sent=2, retried=1)
    assert sorted(m["To"] for m in smtp.received()) == ["satu@example.org", "tiga@example.org"]
    bounced = load(factory, refused.id)
    assert bounced.status == "pending" and bounced.last_error and "550" in bounced.last_error
    assert {load(factory, m.id).status for m in (first, last)} == {"sent"}

    def flaky(message: OutboxMessage) -> None:
        if message.recipient.startswith("bounce"):
            raise RuntimeError("boom")

    clock.set_clock(T0 + timedelta(minutes=1))
    queue_email(factory, to="empat@example.org")
    assert deliver_due(factory, sender=flaky) == DeliveryReport(sent=1, retried=1)
    assert load(factory, refused.id).last_error == "boom"


def test_crashed_worker_rows_come_back_after_the_lease(
    factory: Any, smtp: SmtpServer, settings: SmtpSettings
) -> None:
    class Crash(BaseException):
        pass

    def crash(message: OutboxMessage) -> None:
        raise Crash

    queued = queue_email(factory)
    with pytest.raises(Crash):
        deliver_due(factory, sender=crash)
    assert deliver_due(factory, smtp=settings) == DeliveryReport()  # still leased
    clock.set_clock(T0 + outbox.LEASE)
    assert deliver_due(factory, smtp=settings) == DeliveryReport(sent=1)
    assert smtp.message_ids() == [f"<{queued.event_id}@lapor-flow>"]


def test_webhook_is_signed_and_verifiable_by_the_receiver(
    factory: Any, receiver: WebhookReceiver, endpoint: WebhookEndpoint
) -> None:
    data = {"tracking_id": "LAPOR-2026-000123", "status": "diproses", "instansi": "34.04"}
    with factory() as s, s.begin():
        queued = enqueue_webhook(s, endpoint=endpoint, event="report.status_changed", data=data)
    assert deliver_due(factory) == DeliveryReport(sent=1)

    [request] = receiver.received()
    assert request.path == "/lapor/hook"
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Lapor-Event-Id"] == queued.event_id
    assert headers["X-Lapor-Timestamp"] == str(int(T0.timestamp()))
    assert headers["X-Lapor-Signature"].startswith("sha256=")
    assert verify(SECRET, headers["X-Lapor-Timestamp"], request.body, headers["X-Lapor-Signature"])
    assert json.loads(request.body) == {
        "id": queued.event_id,
        "type": "report.status_changed",
        "created_at": T0.isoformat(),
        "data": data,
    }


def test_webhook_retry_after_500_keeps_the_event_id(
    factory: Any, receiver: WebhookReceiver, endpoint: WebhookEndpoint
) -> None:
    receiver.fail_next(1)
    with factory() as s, s.begin():
        queued = enqueue_webhook(s, endpoint=endpoint, event="report.closed", data={"n": 1})
    assert deliver_due(factory) == DeliveryReport(retried=1)
    row = load(factory, queued.id)
    assert row.attempts == 1 and row.last_error and "HTTP 500" in row.last_error

    clock.set_clock(T0 + timedelta(seconds=30))
    assert deliver_due(factory) == DeliveryReport(sent=1)
    first, second = receiver.received()
    assert (first.status, second.status) == (500, 200)
    assert first.headers["X-Lapor-Event-Id"] == second.headers["X-Lapor-Event-Id"]
    assert first.headers["X-Lapor-Event-Id"] == queued.event_id
    assert first.body == second.body
    for request in (first, second):
        stamp = request.headers["X-Lapor-Timestamp"]
        assert verify(SECRET, stamp, request.body, request.headers["X-Lapor-Signature"])


def test_inactive_endpoint_goes_dead_at_once(
    factory: Any, receiver: WebhookReceiver, endpoint: WebhookEndpoint
) -> None:
    with factory() as s, s.begin():
        queued = enqueue_webhook(s, endpoint=endpoint, event="report.closed", data={})
        s.get_one(WebhookEndpoint, endpoint.id).active = False
    assert deliver_due(factory) == DeliveryReport(dead=1)
    assert load(factory, queued.id).last_error == f"webhook endpoint {endpoint.id} is inactive"
    assert receiver.received() == []


def test_verify_rejects_tampering_staleness_and_bad_headers() -> None:
    body = b'{"id":"abc","type":"report.closed","data":{}}'
    stamp = "1773370800"
    good = "sha256=" + sign(SECRET, stamp, body)
    now = 1773370800 + 10
    assert verify(SECRET, stamp, body, good, now=now)
    assert not verify(SECRET, stamp, body.replace(b"closed", b"opened"), good, now=now)
    assert not verify("another-secret", stamp, body, good, now=now)
    assert not verify(SECRET, stamp, body, good, now=now + 301)  # stale
    assert not verify(SECRET, stamp, body, good, now=now - 400)  # from the future
    assert not verify(SECRET, str(int(stamp) + 1), body, good, now=now)  # timestamp is signed
    assert not verify(SECRET, stamp, body, good.removeprefix("sha256="), now=now)
    assert not verify(SECRET, "soon", body, good, now=now)


def test_enqueue_in_a_rolled_back_transaction_leaves_nothing(
    factory: Any, endpoint: WebhookEndpoint
) -> None:
    with factory() as s, pytest.raises(RuntimeError), s.begin():
        enqueue_email(s, to="warga@example.org", subject=SUBJECT, body=BODY)
        enqueue_webhook(s, endpoint=endpoint, event="report.closed", data={})
        s.flush()
        raise RuntimeError("the change that caused it failed")
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_event_ids_must_be_header_safe(factory: Any) -> None:
    with factory() as s:
        with pytest.raises(InvalidInput):
            enqueue_email(s, to="w@example.org", subject="x", body="y", event_id="a>\r\nBcc: x")
        with pytest.raises(InvalidInput):
            enqueue_email(s, to=" ", subject="x", body="y")
        assert enqueue_email(s, to="w@example.org", subject="x", body="y", event_id="rem7-u3")
        s.rollback()


def test_list_messages_filters_by_status(factory: Any) -> None:
    clock.set_clock(T0)
    ids = [queue_email(factory, to=f"w{n}@example.org").id for n in range(3)]
    with factory() as s:
        assert [m.id for m in outbox.list_messages(s)] == ids[::-1]
        assert [m.id for m in outbox.list_messages(s, status="pending", limit=2)] == ids[:0:-1]
        assert outbox.list_messages(s, status="sent") == []
        with pytest.raises(InvalidInput):
            outbox.list_messages(s, status="lost")


def test_smtp_settings_from_env() -> None:
    assert SmtpSettings.from_env({}) == SmtpSettings(host="localhost", port=1025)
    env = {"LAPOR_SMTP_HOST": "mail.lapor.go.id", "LAPOR_SMTP_PORT": "587"}
    tls = SmtpSettings.from_env({**env, "LAPOR_SMTP_STARTTLS": "true", "LAPOR_SMTP_USER": "u"})
    assert (tls.host, tls.port, tls.starttls, tls.user) == ("mail.lapor.go.id", 587, True, "u")
    assert tls.sender == "LAPOR! <no-reply@lapor.go.id>"
    with pytest.raises(ValueError, match="LAPOR_SMTP_PORT"):
        SmtpSettings.from_env({"LAPOR_SMTP_PORT": "smtp"})
    with pytest.raises(ValueError, match="LAPOR_SMTP_STARTTLS"):
        SmtpSettings.from_env({"LAPOR_SMTP_STARTTLS": "maybe"})


@pytest.mark.postgresql_only
def test_two_workers_deliver_each_message_exactly_once(
    factory: Any, smtp: SmtpServer, settings: SmtpSettings
) -> None:
    with factory() as s, s.begin():
        queued = [
            enqueue_email(s, to=f"warga{n}@example.org", subject=SUBJECT, body=BODY)
            for n in range(200)
        ]
    barrier = threading.Barrier(2, timeout=30)
    totals: dict[str, int] = {}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            barrier.wait()
            sent = 0
            while True:
                report = deliver_due(factory, smtp=settings, limit=20, worker=name)
                if report == DeliveryReport():
                    break
                assert report.retried == report.dead == 0
                sent += report.sent
            totals[name] = sent
        except BaseException as exc:  # surfaced by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert sum(totals.values()) == 200
    ids = smtp.message_ids()
    assert len(ids) == 200
    assert sorted(ids) == sorted(f"<{m.event_id}@lapor-flow>" for m in queued)
    with factory() as s:
        assert s.scalar(select(func.count()).where(OutboxMessage.status == "sent")) == 200

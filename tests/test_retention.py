"""Retention per data class: identities and attachments of reports closed long ago, delivered
emails (their address and text first), dead ones, login counters and spent tokens go when their
time is up, and nothing earlier; one item that cannot be purged does not stop the rest; `lapor
privacy purge` does the same by hand. The test clock moves; nothing sleeps."""

from __future__ import annotations

import io
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import func, select

from api.cli import main
from engine import clock
from engine.errors import Conflict
from engine.models import Attachment, AuditEvent, AuthToken, Report, User
from engine.models.users import LoginThrottle, PasswordResetToken
from sla import outbox, retention
from sla.mailer import SmtpSettings
from sla.models import OutboxMessage
from sla.outbox import deliver_due
from tests.helpers import REPORT, Api
from tests.smtp_server import SmtpServer

T0 = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)  # Monday 09:00 WIB
DAY = timedelta(days=1)
FOLLOW_UP = {"tindak_lanjut": "Perbaikan jalan sudah dijadwalkan minggu depan oleh DPUPKP."}
GESI = {"gender": "perempuan", "gesi_consent": True}


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    return tmp_path / "attachments"


@pytest.fixture()
def policy(folder: Path) -> retention.Policy:
    return retention.Policy(
        identity_days=730,
        attachment_days=365,
        outbox_days=90,
        login_throttle_days=1,
        token_days=30,
        attachment_dir=str(folder),
    )


@pytest.fixture()
def api(make_app: Any, database_url: str, folder: Path) -> Api:
    clock.set_clock(T0)
    client = make_app(database_url, ATTACHMENT_DIR=str(folder)).test_client()
    return Api(lambda: nullcontext(client))


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 200, 10)).save(out, "PNG")
    return out.getvalue()


def closed_report(api: Api, **overrides: Any) -> dict[str, Any]:
    """Filed with identity, GESI answers and a photo, handled and rated: closed at the clock."""
    filed = api.file(**GESI, **overrides)
    tracking = filed["tracking_id"]
    with api.fresh() as client:
        response = client.post(
            f"/api/v1/reports/{tracking}/attachments",
            data={"secret": filed["secret"], "file": (io.BytesIO(png()), "Sentinel.png")},
            content_type="multipart/form-data",
        )
    assert response.status_code == 201, response.get_json()
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    api.complete("sleman", tracking, {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"})
    api.complete("sleman.pu", tracking, FOLLOW_UP)
    api.reply(tracking, filed["secret"], kind="rating", rating=5, satisfied=True)
    assert api.report(tracking)["status"] == "closed"
    return filed


def spent_tokens(factory: Any) -> None:
    """A login token and a reset token that expired an hour after T0, and ones still valid."""
    with factory() as s, s.begin():
        user_id = s.scalar(select(User.id).where(User.username == "nasional"))
        assert user_id is not None
        for n, expires in enumerate((T0 + timedelta(hours=1), T0 + 400 * DAY)):
            s.add(
                AuthToken(
                    token_hash=f"{n:064d}", user_id=user_id, created_at=T0, expires_at=expires
                )
            )
            s.add(
                PasswordResetToken(
                    token_hash=f"{n:064d}", user_id=user_id, created_at=T0, expires_at=expires
                )
            )


def identity_of(factory: Any, tracking: str) -> tuple[Any, ...]:
    with factory() as s:
        r = s.scalar(select(Report).where(Report.tracking_id == tracking))
        assert r is not None
        return (r.pelapor_name, r.pelapor_email, r.pelapor_phone, r.gender, r.anonim)


def counts(factory: Any) -> dict[str, int]:
    with factory() as s:
        return {
            name: s.scalar(select(func.count()).select_from(model)) or 0
            for name, model in (
                ("attachments", Attachment),
                ("outbox", OutboxMessage),
                ("login_throttle", LoginThrottle),
                ("auth_tokens", AuthToken),
                ("password_reset_tokens", PasswordResetToken),
            )
        }


def test_each_class_goes_when_its_time_is_up_and_not_before(
    api: Api, factory: Any, policy: retention.Policy, folder: Path, smtp_server: SmtpServer
) -> None:
    closed = closed_report(api)
    still_open = api.file(**GESI)
    deliver_due(factory, smtp=SmtpSettings(host=smtp_server.host, port=smtp_server.port))
    bad = api.call("POST", "/api/v1/auth/login", json={"username": "nasional", "password": "x"})
    assert bad.status_code == 401
    spent_tokens(factory)
    before = counts(factory)
    assert before["outbox"] == 2 and before["attachments"] == 1 and before["login_throttle"] >= 1
    full = (REPORT["pelapor_name"], REPORT["pelapor_email"], REPORT["pelapor_phone"], "perempuan")

    nothing_yet = retention.purge(factory, T0 + timedelta(hours=12), policy=policy)
    assert sum(nothing_yet.counts.values()) == 0 and nothing_yet.failed == 0

    day_two = retention.purge(factory, T0 + 2 * DAY, policy=policy)
    assert day_two.counts == {
        "identity": 0,
        "attachments": 0,
        "email_content": 0,
        "outbox": 0,
        "outbox_dead": 0,
        "login_throttle": before["login_throttle"],
        "auth_tokens": 0,
        "password_reset_tokens": 0,
    }

    later = T0 + 400 * DAY  # attachments (365), emails (90), tokens (30) are due; identity not
    dry = retention.purge(factory, later, policy=policy, dry_run=True)
    assert dry.counts == {
        "identity": 0,
        "attachments": 1,
        "email_content": 2,  # emptied first, then deleted: both classes count them
        "outbox": 2,
        "outbox_dead": 0,
        "login_throttle": 0,
        "auth_tokens": before["auth_tokens"]
        - 1,  # the handlers' logins, and ours; not the valid one
        "password_reset_tokens": 1,
    }
    assert counts(factory) == {**before, "login_throttle": 0}  # a dry run changes nothing
    assert retention.purge(factory, later, policy=policy).counts == dry.counts
    assert list(folder.iterdir()) == []  # the file went with its row
    assert identity_of(factory, closed["tracking_id"]) == (*full, False)

    clock.set_clock(T0 + 731 * DAY)
    run = retention.purge(factory, policy=policy)  # now from the clock
    assert run.counts["identity"] == 1 and run.failed == 0
    assert identity_of(factory, closed["tracking_id"]) == (None, None, None, None, True)
    assert identity_of(factory, still_open["tracking_id"]) == (*full, False)
    with factory() as s:
        report_id = s.scalar(select(Report.id).where(Report.tracking_id == closed["tracking_id"]))
        events = s.scalars(
            select(AuditEvent).where(
                AuditEvent.action.in_(["report.identity_expired", "attachment.expired"])
            )
        ).all()
    assert sorted((e.action, e.actor, e.report_id) for e in events) == [
        ("attachment.expired", "system", report_id),
        ("report.identity_expired", "system", report_id),
    ]
    assert api.report(closed["tracking_id"], closed["secret"])["status"] == "closed"

    again = retention.purge(factory, policy=policy)
    assert sum(again.counts.values()) == 0


def outbox_row(factory: Any, recipient: str) -> OutboxMessage:
    with factory() as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.recipient == recipient))
        assert row is not None
        return row


def test_delivered_emails_lose_address_and_text_early_and_dead_ones_go(
    api: Api,
    factory: Any,
    policy: retention.Policy,
    smtp_server: SmtpServer,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A re-sent tracking link mail carries the pelapor's new secret: once delivered, its
    address and text go after `email_content_days`; the row stays for the delivery log. A mail
    given up on (dead) goes after `outbox_days` from its last attempt."""
    smtp = SmtpSettings(host=smtp_server.host, port=smtp_server.port)
    bounced = "bounce.warga@example.org"  # the test server refuses it (550) every time
    for email in (REPORT["pelapor_email"], bounced):
        api.file(pelapor_email=email)
        response = api.call("POST", "/api/v1/reports/resend-link", json={"email": email})
        assert response.status_code == 202, response.get_json()
    assert deliver_due(factory, smtp=smtp).sent == 1
    [mail] = smtp_server.received()
    assert "?secret=" in str(mail.get_content())
    clock.set_clock(T0 + timedelta(hours=25))  # past the 24-hour retry window
    assert deliver_due(factory, smtp=smtp).dead == 1
    sent = outbox_row(factory, REPORT["pelapor_email"])
    dead = outbox_row(factory, bounced)
    assert (sent.status, dead.status) == ("sent", "dead") and "?secret=" in sent.body

    early = retention.purge(factory, T0 + 6 * DAY, policy=policy)
    assert early.counts["email_content"] == 0
    week = T0 + 8 * DAY
    dry = retention.purge(factory, week, policy=policy, dry_run=True)
    assert (dry.counts["email_content"], dry.counts["outbox"], dry.counts["outbox_dead"]) == (
        1,
        0,
        0,
    )
    assert retention.purge(factory, week, policy=policy).counts == dry.counts
    with factory() as s:
        kept = s.get_one(OutboxMessage, sent.id)
        still_dead = s.get_one(OutboxMessage, dead.id)
        with_secret = select(func.count()).where(
            OutboxMessage.status == "sent", OutboxMessage.body.contains("secret=")
        )
        assert s.scalar(with_secret) == 0
    assert (kept.recipient, kept.body) == ("", "")
    kept_fields = ("event_id", "channel", "subject", "status", "attempts", "created_at", "sent_at")
    assert all(getattr(kept, f) == getattr(sent, f) for f in kept_fields)
    assert still_dead.recipient == bounced  # a dead mail is not delivered: it goes whole, later
    assert retention.purge(factory, week, policy=policy).counts["email_content"] == 0
    with factory() as s, pytest.raises(Conflict) as refused:  # nothing left to re-send
        outbox.resend(s, message_id=sent.id)
    assert refused.value.code == "content_removed"
    answer = api.call("POST", f"/api/v1/admin/outbox/{sent.id}/resend", token=api.login("nasional"))
    assert (answer.status_code, answer.get_json()["code"]) == (409, "content_removed")

    monkeypatch.setenv("LAPOR_DATABASE_URL", database_url)
    clock.set_clock(T0 + timedelta(hours=25) + 91 * DAY)
    listed = CliRunner().invoke(main, ["privacy", "purge", "--dry-run"])
    assert listed.exit_code == 0, listed.output
    for line in ("email_content: 0", "outbox: 1", "outbox_dead: 1"):
        assert f"{line} would remove" in listed.stdout
    gone = retention.purge(factory, policy=policy)
    assert (gone.counts["outbox"], gone.counts["outbox_dead"]) == (1, 1)
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_one_item_that_cannot_be_purged_does_not_stop_the_rest(
    api: Api, factory: Any, policy: retention.Policy, folder: Path
) -> None:
    first = closed_report(api)
    second = closed_report(api, pelapor_email="orang.lain@example.org")
    with factory() as s:
        stored = s.scalars(select(Attachment.stored_name).order_by(Attachment.id)).all()
    (folder / stored[0]).unlink()
    (folder / stored[0]).mkdir()  # a folder where the file was: it cannot be unlinked

    run = retention.purge(factory, T0 + 800 * DAY, policy=policy, batch=1)
    assert run.failed == 1
    assert run.counts["attachments"] == 1 and run.counts["identity"] == 2
    with factory() as s:
        left = s.scalars(select(Attachment.stored_name)).all()
    assert left == [stored[0]]  # the failing one stays for the next run, the other is gone
    assert not (folder / stored[1]).exists()
    for filed in (first, second):
        assert identity_of(factory, filed["tracking_id"])[-1] is True


def test_lapor_privacy_purge(
    api: Api, factory: Any, database_url: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = closed_report(api)
    monkeypatch.setenv("LAPOR_DATABASE_URL", database_url)
    monkeypatch.setenv("LAPOR_ATTACHMENT_DIR", str(folder))
    monkeypatch.setenv("LAPOR_RETENTION_IDENTITY_DAYS", "30")
    clock.set_clock(T0 + 31 * DAY)
    runner = CliRunner()
    dry = runner.invoke(main, ["privacy", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "identity: 1 would remove" in dry.stdout and "attachments: 0 would remove" in dry.stdout
    assert identity_of(factory, closed["tracking_id"])[-1] is False

    done = runner.invoke(main, ["privacy", "purge"])
    assert done.exit_code == 0, done.output
    assert "identity: 1 removed" in done.stdout and "done in" in done.stderr
    assert identity_of(factory, closed["tracking_id"]) == (None, None, None, None, True)


def test_the_scheduler_purges_daily(factory: Any, policy: retention.Policy) -> None:
    from sla.scheduler import build_scheduler

    scheduler = build_scheduler(factory, audit_key=b"k" * 32, retention=policy)
    job = scheduler.get_job("retention")
    assert job is not None and job.trigger.interval == DAY
    assert build_scheduler(factory, audit_key=b"k" * 32).get_job("retention") is None

"""Emails to the pelapor about their own report: tunda, follow-up published, closed; and the
re-sent tracking link.

Every message goes only to the address the pelapor gave on the report (`pelapor_email`), anonim
or not, and to no one else. Status notices are enqueued by `on_status_changed`, an engine-event
subscriber running in the transaction that changed the status; their outbox event id is derived
from the timeline entry that caused them (`pelapor-{report}-{kind}-{entry}`), so each notice is
queued once however often the handler runs. The auto-close warning lives in
`sla.escalation.warn_pelapor`.

Addresses are stored encrypted: reports are found by the keyed blind index of the normalised
address (`engine.personal_data.email_index`), never by comparing the text in SQL.

Only a hash of the pelapor's secret is stored, so a status notice links to the status page by
tracking id alone. `resend_links` issues a NEW secret for every report of the address and mails
links carrying it (`?secret=`): earlier links and secrets stop working. At most
`RESEND_LIMIT` re-sends per address per `RESEND_WINDOW`, counted in the outbox.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import quote, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock, events, personal_data, status
from engine.models import Instansi, Report
from engine.services import audit
from engine.services.progress import latest_entry
from engine.services.reports import hash_secret
from sla import outbox, policies
from sla.models import OutboxMessage

DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
RESEND_PREFIX = "resend-"
RESEND_LIMIT = 3
RESEND_WINDOW = timedelta(hours=1)
RESEND_MAX_REPORTS = 50  # newest first; keeps the mail readable
SIGNATURE = "Salam,\nTim LAPOR!"
LOST_LINK_HINT = (
    "Kehilangan kode rahasia? Minta tautan baru ke alamat email ini melalui fitur kirim ulang "
    "tautan di situs LAPOR!\n"
    "Lost your secret? Ask LAPOR! to re-send the link to this address."
)


def public_url(environ: Mapping[str, str] | None = None) -> str:
    """The site's public base URL from `LAPOR_PUBLIC_URL` (no trailing slash).

    A value that is not an http(s) URL raises `ValueError` naming the variable.
    """
    env = os.environ if environ is None else environ
    raw = env.get("LAPOR_PUBLIC_URL", "").strip() or DEFAULT_PUBLIC_URL
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"LAPOR_PUBLIC_URL must be an http(s) URL, got {raw!r}")
    return raw.rstrip("/")


def status_link(tracking_id: str, secret: str | None = None) -> str:
    """The pelapor's status page; with `secret`, the secret link (sees a rahasia report)."""
    link = f"{public_url()}/lapor/{quote(tracking_id, safe='')}"
    return f"{link}?secret={quote(secret, safe='')}" if secret else link


def _tunda(report: Report, text: str | None) -> tuple[str, str]:
    missing = (text or "").strip() or "(tidak ada keterangan)"
    subject = f"Laporan {report.tracking_id} ditunda: informasi tambahan diperlukan"
    body = (
        f"Laporan Anda {report.tracking_id} (“{report.title}”) ditunda karena informasi "
        f"berikut belum lengkap:\n\n{missing}\n\n"
        "Lengkapi informasi tersebut melalui halaman status laporan, dengan kode rahasia yang "
        f"Anda terima saat melapor:\n{status_link(report.tracking_id)}\n\n"
        "Your report is on hold: please add the missing information above on its status page."
    )
    return subject, body


def _follow_up(report: Report, text: str | None, instansi: Instansi | None) -> tuple[str, str]:
    by = f" oleh {instansi.name}" if instansi is not None else ""
    answer = (text or "").strip() or "(tanpa teks)"
    days = policies.AUTO_CLOSE_WORKING_DAYS
    subject = f"Laporan {report.tracking_id} telah ditindaklanjuti"
    body = (
        f"Laporan Anda {report.tracking_id} (“{report.title}”) telah ditindaklanjuti{by}:"
        f"\n\n{answer}\n\n"
        "Beri penilaian atas tindak lanjut ini di halaman status laporan, dengan kode rahasia "
        f"yang Anda terima saat melapor:\n{status_link(report.tracking_id)}\n"
        "Jika Anda belum puas, pilih “tidak puas” dan tuliskan alasannya. Laporan akan ditutup "
        f"otomatis jika tidak ada tanggapan dalam {days} hari kerja.\n\n"
        "Your report has a follow-up: rate it on the status page, or answer “tidak puas” "
        "(not satisfied) with your reasons."
    )
    return subject, body


def _closed(report: Report, kind: str) -> tuple[str, str]:
    subject = f"Laporan {report.tracking_id} telah ditutup"
    if kind == "auto_closed":
        why = (
            "ditutup otomatis karena tindak lanjutnya tidak ditanggapi dalam "
            f"{policies.AUTO_CLOSE_WORKING_DAYS} hari kerja"
        )
    else:
        why = "telah ditutup"
    body = (
        f"Laporan Anda {report.tracking_id} (“{report.title}”) {why}. Terima kasih atas "
        "partisipasi Anda dalam memperbaiki pelayanan publik.\n\n"
        f"Riwayat lengkap laporan dapat dilihat di:\n{status_link(report.tracking_id)}\n\n"
        "Your report is closed. Thank you for helping to improve public services."
    )
    return subject, body


def _compose(session: Session, report: Report, event: events.Event) -> tuple[str, str] | None:
    new, kind, text = event.payload["to"], event.payload.get("kind"), event.payload.get("text")
    if new == status.ON_HOLD:
        return _tunda(report, text)
    if new == status.FOLLOWED_UP:
        instansi = (
            session.get(Instansi, report.current_instansi_id)
            if report.current_instansi_id
            else None
        )
        return _follow_up(report, text, instansi)
    if new == status.CLOSED:
        return _closed(report, str(kind))
    return None


def on_status_changed(session: Session, event: events.Event) -> None:
    """Queue the pelapor's notice for a status change, once per causing timeline entry."""
    report = session.get(Report, event.report_id)
    if report is None or not report.pelapor_email:
        return
    composed = _compose(session, report, event)
    if composed is None:
        return
    kind = str(event.payload.get("kind"))
    entry = latest_entry(session, report.id, kind)
    if entry is None:
        return
    event_id = f"pelapor-{report.id}-{kind}-{entry.id}"
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.event_id == event_id)):
        return
    subject, body = composed
    outbox.enqueue_email(
        session,
        to=report.pelapor_email,
        subject=subject,
        body=f"Yth. Pelapor,\n\n{body}\n\n{LOST_LINK_HINT}\n\n{SIGNATURE}\n",
        report_id=report.id,
        event_id=event_id,
    )


def resend_links(session: Session, *, email: str) -> bool:
    """Mail new secret links for every report filed with `email`; one transaction.

    Returns whether a mail was queued; callers must answer the same either way, so nobody learns
    whether an address is known. Each listed report gets a new secret (its old one, and every
    link carrying it, stops working). Over `RESEND_LIMIT` re-sends per `RESEND_WINDOW` to the
    address, nothing is sent.
    """
    address = email.strip().lower()
    with session.begin():
        reports = list(
            session.scalars(
                select(Report)
                .where(Report.pelapor_email_hmac == personal_data.email_index(address))
                .order_by(Report.created_at.desc(), Report.id.desc())
                .limit(RESEND_MAX_REPORTS)
                .with_for_update()  # serialises concurrent re-sends for the address
            )
        )
        if not reports:
            return False
        recent = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                func.lower(OutboxMessage.recipient) == address,
                OutboxMessage.event_id.startswith(RESEND_PREFIX),
                OutboxMessage.created_at > clock.now() - RESEND_WINDOW,
            )
        )
        if (recent or 0) >= RESEND_LIMIT:
            return False
        listed = []
        for report in reports:
            secret = secrets.token_urlsafe(24)
            report.secret_hash = hash_secret(secret)
            audit.record(
                session, actor="pelapor", action="report.secret_reissued", report_id=report.id
            )
            listed.append(
                f"- {report.tracking_id} (“{report.title}”)\n"
                f"  {status_link(report.tracking_id, secret)}"
            )
        outbox.enqueue_email(
            session,
            to=reports[0].pelapor_email or address,
            subject="Tautan pelacakan laporan Anda di LAPOR!",
            body=_resend_body(listed),
            event_id=f"{RESEND_PREFIX}{outbox.new_event_id()}",
        )
    return True


def _resend_body(listed: list[str]) -> str:
    return (
        "Yth. Pelapor,\n\n"
        "Kami menerima permintaan untuk mengirim ulang tautan pelacakan laporan yang dibuat "
        "dengan alamat email ini. Berikut tautan baru untuk setiap laporan Anda:\n\n"
        + "\n".join(listed)
        + "\n\nTautan dan kode rahasia sebelumnya tidak berlaku lagi. Tautan baru ini memuat "
        "kode rahasia Anda: simpan baik-baik dan jangan bagikan kepada orang lain.\n\n"
        "New tracking links for your reports are listed above; earlier links and secrets no "
        f"longer work. Keep these links private.\n\n{SIGNATURE}\n"
    )


def install() -> None:
    """Subscribe the pelapor's notices to engine events (idempotent)."""
    events.subscribe(events.STATUS_CHANGED, on_status_changed)

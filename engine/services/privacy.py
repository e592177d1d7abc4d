"""The pelapor's rights over their personal data (UU 27/2022): see everything held for their
report, and have their identity deleted while the report itself stays, anonymised.

Only the pelapor, known by the secret of their report, may do either; anyone else gets 404,
exactly like an unknown tracking id. Both are audited with the report's id only.

`erase` is the one anonymisation, used on request and by the retention purge
(sla.retention): it clears name, email, phone (and the email's blind index), the GESI answers and
the attachments' original file names, and marks the report anonim. The report, its timeline and
its process stay. Other packages hear of it through the IDENTITY_ERASED event (sla cancels the
emails still waiting to go to the pelapor), and add what they hold to a data request through
PERSONAL_DATA_REQUESTED (sla lists the emails sent to the pelapor).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import events
from engine.models import Attachment, Report, TimelineEntry
from engine.models.reports import GESI_CHOICES
from engine.services import audit, reports
from engine.services.attachments import EXTENSIONS

IDENTITY_FIELDS = ("pelapor_name", "pelapor_email", "pelapor_phone")
GESI_FIELDS = tuple(GESI_CHOICES)
ERASABLE = (*IDENTITY_FIELDS, *GESI_FIELDS, "attachment_names")
# what the pelapor wrote themselves: supplied information, comments, the text with a rating
OWN_KINDS = frozenset({*reports.PELAPOR_OWN_KINDS, "rated"})
NEUTRAL_NAME = re.compile(r"lampiran-\d+\.[a-z]+")


@dataclass(frozen=True)
class HeldData:
    """Everything held about the pelapor of one report."""

    tracking_id: str
    created_at: datetime
    anonim: bool
    rahasia: bool
    identity: dict[str, str | None]
    gesi: dict[str, str | None]
    attachments: list[dict[str, Any]]
    replies: list[dict[str, Any]]
    # sections other packages add (sla: "emails", the notifications sent to the pelapor)
    more: dict[str, Any] = field(default_factory=dict)


def held(session: Session, *, tracking_id: str, secret: str | None) -> HeldData:
    """All personal data held for the pelapor's report; one transaction (the request is
    audited)."""
    with session.begin():
        report = reports.find_owned(session, tracking_id=tracking_id, secret=secret)
        attachments = session.scalars(
            select(Attachment).where(Attachment.report_id == report.id).order_by(Attachment.id)
        )
        replies = session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.report_id == report.id, TimelineEntry.kind.in_(OWN_KINDS))
            .order_by(TimelineEntry.id)
        )
        data = HeldData(
            tracking_id=report.tracking_id,
            created_at=report.created_at,
            anonim=report.anonim,
            rahasia=report.rahasia,
            identity={name: getattr(report, name) for name in IDENTITY_FIELDS},
            gesi={name: getattr(report, name) for name in GESI_FIELDS},
            attachments=[
                {
                    "name": row.original_name,
                    "content_type": row.content_type,
                    "size": row.size,
                    "created_at": row.created_at,
                }
                for row in attachments
            ],
            replies=[
                {"at": entry.at, "kind": entry.kind, "text": entry.text}
                for entry in replies
                if entry.text
            ],
        )
        events.publish(
            session,
            events.Event(
                events.PERSONAL_DATA_REQUESTED,
                report.id,
                {"held": data.more, "email": report.pelapor_email},
            ),
        )
        audit.record(
            session, actor="pelapor", action="report.personal_data_requested", report_id=report.id
        )
    return data


def delete_identity(session: Session, *, tracking_id: str, secret: str | None) -> list[str]:
    """Erase the pelapor's identity from their report; one transaction. Returns what was
    erased (`ERASABLE` names; empty when nothing was left, and then nothing is written)."""
    with session.begin():
        report = reports.find_owned(session, tracking_id=tracking_id, secret=secret)
        return erase(session, report, actor="pelapor", action="report.identity_deleted")


def erase(session: Session, report: Report, *, actor: str, action: str) -> list[str]:
    """Anonymise `report` in the caller's transaction; audited as `action` by `actor`, with
    ids only, when anything was erased. Returns the names of what was erased."""
    erased = [
        name for name in (*IDENTITY_FIELDS, *GESI_FIELDS) if getattr(report, name) is not None
    ]
    email = report.pelapor_email
    for name in erased:
        setattr(report, name, None)
    renamed = 0
    rows = session.scalars(
        select(Attachment).where(Attachment.report_id == report.id).order_by(Attachment.id)
    )
    for number, row in enumerate(rows, start=1):
        neutral = f"lampiran-{number}.{EXTENSIONS.get(row.content_type, 'bin')}"
        if not NEUTRAL_NAME.fullmatch(row.original_name):
            row.original_name = neutral
            renamed += 1
    if renamed:
        erased.append("attachment_names")
    if not erased and report.anonim:
        return []
    report.anonim = True
    events.publish(session, events.Event(events.IDENTITY_ERASED, report.id, {"email": email}))
    audit.record(session, actor=actor, action=action, report_id=report.id)
    return erased

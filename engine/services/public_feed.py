"""The public feed: non-confidential reports and their follow-ups, with personal data masked.

What is published
  A report is public when it is not rahasia and has passed national verification: its status is
  one of `PUBLISHED` (forwarded, in progress, followed up, reopened, closed). Reports still
  pending verification or on hold (tunda) are not checked yet; archived ones (unclear, abusive,
  duplicate...) and rejected ones (no connected instansi has authority) were never taken up, so
  none of these appear. A report sent back for re-routing is pending again and leaves the feed
  until it is forwarded again.

  Of its timeline only `public` entries of the kinds in `PUBLIC_KINDS` are shown (internal notes,
  escalations, supervision, links between duplicates never are), with only the fields listed in
  `PublicEntry` (never an entry's raw `data`). The pelapor's name is shown only when the report
  is not anonim; their email and phone never are.

Masking (`mask`), applied to every free text shown: title, body, timeline texts, pelapor name
  - email addresses: first character of the local part and the top-level domain are kept,
    `sentinel@example.org` -> `s•••@•••.org`;
  - Indonesian phone numbers, mobile (`+62`, `62` or `0`, then `8` and 8-11 digits) and fixed
    lines with an area code (`(0274) 868405`, `021-555-1234`, `+62 21 5551234`), with spaces,
    dots or dashes between digits: the `+62`/`62`/`0` prefix, the separators and the last two
    digits are kept, every other digit becomes `•`: `+62 812 0000 1111` -> `+62 ••• •••• ••11`;
  - NIK (16 digits), plain or grouped 4-4-4-4, 6-6-4 or 2-2-2-6-4 by spaces, dots or dashes:
    every digit but the last two becomes `•`: `3404 0112 3456 0001` -> `•••• •••• •••• ••01`.
  Numbers glued to letters (tracking ids, codes), dates, times and money amounts (groups of
  three after `Rp`, or thousands separated by dots) are left alone. `mask` is idempotent.

Redactions
  Staff who can see a report (a task of it is visible to them: `tasks.visible_clause`, or they
  are national admins) add phrases with `redact`. They are stored, without any schema of their
  own, as non-public timeline entries of kind `REDACTION_KIND` with `data={"phrases": [...]}`,
  and audited (`report.redacted`, the count only: phrases may be personal data). Every public
  text is redacted first (each phrase, case-insensitively, any run of whitespace between its
  words, becomes `REDACTED`), then masked.

Search and pagination
  Filters run in SQL on indexed columns (status, current instansi, region, created_at), newest
  first, `per_page + 1` rows fetched to know whether a next page exists (no total is counted).
  `query` words must each appear in the title or body (SQL `LIKE`); because the stored text is
  unmasked, rows whose match lies only in a masked or redacted part are then dropped from the
  page, so that searching for a phone number or a redacted name cannot reveal which report holds
  it (such a page may be shorter than `per_page`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from engine import status
from engine.errors import InvalidInput, NotFound
from engine.models import HumanTask, Instansi, Region, Report, TimelineEntry
from engine.services import audit, tasks
from engine.services.auth import Principal
from engine.services.masking import REDACTION_KIND, Publisher, phrases_of
from engine.services.progress import add_timeline
from engine.services.reports import is_tracking_id
from engine.text import check_storable

PUBLISHED = (
    status.FORWARDED,
    status.IN_PROGRESS,
    status.FOLLOWED_UP,
    status.REOPENED,
    status.CLOSED,
)
PUBLIC_KINDS = frozenset(
    {
        "filed",
        "forwarded",
        "disposed",
        "returned",
        "on_hold",
        "follow_up",
        "rated",
        "reopened",
        "closed",
        "auto_closed",
    }
)
PER_PAGE, MAX_PER_PAGE, MAX_PAGE = 20, 50, 500
MAX_QUERY, MAX_WORDS = 100, 8
MAX_PHRASES, MIN_PHRASE, MAX_PHRASE = 20, 2, 200

# --- the public views ----------------------------------------------------------------------


@dataclass(frozen=True)
class PublicEntry:
    at: datetime
    kind: str
    status: str | None
    text: str | None
    instansi_name: str | None  # where a `forwarded` step sent it
    unit_name: str | None  # where a `disposed` step sent it
    rating: int | None
    satisfied: bool | None


@dataclass(frozen=True)
class PublicReport:
    tracking_id: str
    classification: str
    category: str
    title: str
    body: str
    status: str
    anonim: bool
    pelapor_name: str | None  # None when anonim (or no name was given)
    region_code: str
    region_name: str
    instansi_code: str | None
    instansi_name: str | None
    created_at: datetime
    closed_at: datetime | None
    last_activity_at: datetime
    timeline: list[PublicEntry]


@dataclass(frozen=True)
class FeedPage:
    items: list[PublicReport]
    page: int
    per_page: int
    has_next: bool


def _public_clause() -> Any:
    return and_(Report.rahasia.is_(False), Report.status.in_(PUBLISHED))


def _entry(row: TimelineEntry, publish: Publisher) -> PublicEntry:
    data = row.data or {}
    rating = data.get("rating") if row.kind == "rated" else None
    satisfied = data.get("satisfied") if row.kind == "rated" else None
    return PublicEntry(
        at=row.at,
        kind=row.kind,
        status=row.status,
        text=publish(row.text),
        instansi_name=data.get("instansi_name") if row.kind == "forwarded" else None,
        unit_name=data.get("unit_name") if row.kind == "disposed" else None,
        rating=rating if isinstance(rating, int) and not isinstance(rating, bool) else None,
        satisfied=satisfied if isinstance(satisfied, bool) else None,
    )


def _views(session: Session, rows: Sequence[Any]) -> list[PublicReport]:
    """Public views of (report, region name, instansi code, instansi name) rows."""
    ids = [r[0].id for r in rows]
    phrases = phrases_of(session, ids)
    entries: dict[int, list[TimelineEntry]] = defaultdict(list)
    if ids:
        for entry in session.scalars(
            select(TimelineEntry)
            .where(
                TimelineEntry.report_id.in_(ids),
                TimelineEntry.public.is_(True),
                TimelineEntry.kind.in_(PUBLIC_KINDS),
            )
            .order_by(TimelineEntry.report_id, TimelineEntry.id)
        ):
            entries[entry.report_id].append(entry)
    views = []
    for report, region_name, instansi_code, instansi_name in rows:
        publish = Publisher(phrases.get(report.id, ()))
        timeline = [_entry(e, publish) for e in entries.get(report.id, [])]
        views.append(
            PublicReport(
                tracking_id=report.tracking_id,
                classification=report.classification,
                category=report.category,
                title=publish(report.title) or "",
                body=publish(report.body) or "",
                status=report.status,
                anonim=report.anonim,
                pelapor_name=None if report.anonim else publish(report.pelapor_name),
                region_code=report.region_code,
                region_name=region_name or report.region_code,
                instansi_code=instansi_code,
                instansi_name=instansi_name,
                created_at=report.created_at,
                closed_at=report.closed_at,
                last_activity_at=timeline[-1].at if timeline else report.created_at,
                timeline=timeline,
            )
        )
    return views


def _base() -> Any:
    return (
        select(Report, Region.name, Instansi.code, Instansi.name)
        .join(Region, Region.code == Report.region_code)
        .outerjoin(Instansi, Instansi.id == Report.current_instansi_id)
        .where(_public_clause())
    )


def _words(query: str | None) -> list[str]:
    query = (query or "").strip()
    if len(query) > MAX_QUERY:
        raise InvalidInput(f"at most {MAX_QUERY} characters", field="q")
    check_storable(query, "q")
    return [w for w in query.lower().split() if w][:MAX_WORDS]


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def feed(
    session: Session,
    *,
    query: str | None = None,
    instansi_code: str | None = None,
    region_code: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> FeedPage:
    """One page of the public feed, newest first (module docstring: what, and how searched)."""
    if not 1 <= page <= MAX_PAGE:
        raise InvalidInput(f"a page from 1 to {MAX_PAGE}", field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"from 1 to {MAX_PER_PAGE} per page", field="per_page")
    words = _words(query)
    statement = _base()
    with session.begin():
        if instansi_code:
            found = session.scalar(select(Instansi.id).where(Instansi.code == instansi_code[:64]))
            if found is None:
                raise InvalidInput(f"unknown instansi '{instansi_code[:64]}'", field="instansi")
            statement = statement.where(Report.current_instansi_id == found)
        if region_code:
            if len(region_code) > 16 or session.get(Region, region_code) is None:
                raise InvalidInput(f"unknown region '{region_code[:16]}'", field="region")
            statement = statement.where(
                or_(Report.region_code == region_code, Report.region_code.like(f"{region_code}.%"))
            )
        for word in words:
            pattern = _like(word)
            statement = statement.where(
                or_(
                    func.lower(Report.title).like(pattern, escape="\\"),
                    func.lower(Report.body).like(pattern, escape="\\"),
                )
            )
        rows = session.execute(
            statement.order_by(Report.created_at.desc(), Report.id.desc())
            .limit(per_page + 1)
            .offset((page - 1) * per_page)
        ).all()
        has_next = len(rows) > per_page
        views = _views(session, rows[:per_page])
        session.expunge_all()
    if words:  # a match only inside masked or redacted text does not count (docstring)
        views = [v for v in views if all(w in f"{v.title}\n{v.body}".lower() for w in words)]
    return FeedPage(views, page, per_page, has_next)


def report(session: Session, *, tracking_id: str) -> PublicReport:
    """One public report; a rahasia or unpublished report is a NotFound like a missing one."""
    if not is_tracking_id(tracking_id):
        raise NotFound("no public report with this tracking id", field="tracking_id")
    with session.begin():
        rows = session.execute(_base().where(Report.tracking_id == tracking_id)).all()
        if not rows:
            raise NotFound("no public report with this tracking id", field="tracking_id")
        view = _views(session, rows)[0]
        session.expunge_all()
    return view


# --- officers' redactions ------------------------------------------------------------------


def _clean_phrases(phrases: Any) -> list[str]:
    if not isinstance(phrases, list) or not phrases:
        raise InvalidInput("a list of phrases to hide is required", field="phrases")
    if len(phrases) > MAX_PHRASES:
        raise InvalidInput(f"at most {MAX_PHRASES} phrases at once", field="phrases")
    cleaned: list[str] = []
    for index, phrase in enumerate(phrases):
        field = f"phrases.{index}"
        if not isinstance(phrase, str):
            raise InvalidInput("a phrase is text", field=field)
        check_storable(phrase, field)
        phrase = " ".join(phrase.split())
        if not MIN_PHRASE <= len(phrase) <= MAX_PHRASE:
            raise InvalidInput(f"from {MIN_PHRASE} to {MAX_PHRASE} characters", field=field)
        if phrase.lower() not in {c.lower() for c in cleaned}:
            cleaned.append(phrase)
    return cleaned


def _may_see(session: Session, principal: Principal, report_id: int) -> bool:
    if "admin_nasional" in principal.roles():
        return True
    return bool(
        session.scalar(
            select(
                exists().where(HumanTask.report_id == report_id, tasks.visible_clause(principal))
            )
        )
    )


def redact(session: Session, *, principal: Principal, tracking_id: str, phrases: Any) -> list[str]:
    """Hide `phrases` in every public view of the report; returns all its phrases so far.

    Only staff who can see the report (a visible task of it, or a national admin) may; for
    anyone else the report does not exist (NotFound, as for another instansi's task).
    """
    cleaned = _clean_phrases(phrases)
    if not is_tracking_id(tracking_id):
        raise NotFound("no report with this tracking id", field="tracking_id")
    with session.begin():
        found = session.scalar(select(Report).where(Report.tracking_id == tracking_id))
        if found is None or not _may_see(session, principal, found.id):
            raise NotFound("no report with this tracking id", field="tracking_id")
        add_timeline(session, found, REDACTION_KIND, public=False, data={"phrases": cleaned})
        audit.record(
            session,
            actor=principal.actor,
            action="report.redacted",
            report_id=found.id,
            data={"phrases": len(cleaned)},
        )
        session.flush()
        return phrases_of(session, [found.id])[found.id]

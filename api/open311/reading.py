"""Reports as Open311 service requests (GET `requests`, `requests/{id}`), as the public sees them.

Visibility is the public views' (`engine.services.public_feed`, `engine.services.reports`):

- a list (`requests`) holds only what the public feed publishes: not rahasia, verified and
  forwarded (`public_feed.PUBLISHED`), newest first;
- one report by its id (`requests/{id}`, or `requests?service_request_id=...`) answers for any
  non-rahasia report, as its public status page does to anyone who knows the tracking id, so
  that the app that filed it can follow it from the start; a rahasia report is never found.

Every text is redacted and masked (`masking.Publisher`); of the timeline only public entries of
the public kinds count. No field carries the pelapor's identity; `media_url` is left out of
anonim reports (a link may name its uploader). The location an Open311 client gave is kept on
a non-public timeline entry of kind `LOCATION_KIND` (see `filing`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import Session, load_only

from api.open311 import catalog, jurisdictions
from engine import clock, status
from engine.errors import InvalidInput, NotFound
from engine.models import HumanTask, Instansi, Region, Report, TimelineEntry
from engine.services.masking import Publisher, phrases_of
from engine.services.public_feed import PUBLIC_KINDS, PUBLISHED
from engine.services.reports import is_tracking_id

LOCATION_KIND = "open311"
SHOWN_COLUMNS = (
    Report.id,
    Report.tracking_id,
    Report.classification,
    Report.category,
    Report.title,
    Report.body,
    Report.region_code,
    Report.anonim,
    Report.status,
    Report.created_at,
    Report.closed_at,
)
MAX_DAYS = 90
MAX_DESCRIPTION = 4000
STATUS_NOTES = {
    status.PENDING_VERIFICATION: "Menunggu verifikasi admin nasional",
    status.ON_HOLD: "Ditunda: menunggu informasi dari pelapor",
    status.REJECTED: "Ditolak: bukan wewenang instansi yang terhubung",
    status.ARCHIVED: "Diarsipkan",
    status.FORWARDED: "Diteruskan ke instansi",
    status.IN_PROGRESS: "Sedang ditangani",
    status.FOLLOWED_UP: "Ditindaklanjuti",
    status.REOPENED: "Dibuka kembali",
    status.CLOSED: "Selesai",
}


@dataclass(frozen=True)
class RequestQuery:
    jurisdiction_id: str | None = None
    service_codes: Sequence[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: Sequence[str] | None = None
    page: int = 1
    page_size: int = 1000


def open311_status(report_status: str) -> str:
    return "closed" if report_status in status.FINAL else "open"


def w3(moment: datetime | None, zone: str | ZoneInfo) -> str | None:
    """`moment` in W3C format, in the local time of `zone` (an IANA name or a ZoneInfo)."""
    if moment is None:
        return None
    local = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return moment.astimezone(local).isoformat(timespec="seconds")


def _description(title: str, body: str) -> str:
    """The report's text: its body, led by its title unless the body already starts with it
    (reports filed over Open311 take their title from the description), cut to the spec's
    4,000 characters (the REST API takes longer bodies; clients may store no more)."""
    text = body if body.startswith(title) else f"{title}\n\n{body}"
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 3] + "..."


def _notes(report: Report, entries: list[TimelineEntry], publish: Publisher) -> str:
    notes = STATUS_NOTES.get(report.status, report.status)
    current = next((e for e in reversed(entries) if e.status == report.status), None)
    if current is None:
        return notes
    data = current.data or {}
    if current.kind == "forwarded" and data.get("instansi_name"):
        return f"Diteruskan ke {data['instansi_name']}"
    if current.kind == "disposed" and data.get("unit_name"):
        return f"{notes} oleh {data['unit_name']}"
    text = publish(current.text)
    return f"{notes}: {text}" if text else notes


def _coordinate(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _as_request(
    report: Report,
    service_name: str,
    region_name: str,
    zone_name: str,
    agency: str | None,
    entries: list[TimelineEntry],
    location: dict[str, Any],
    due: datetime | None,
    publish: Publisher,
) -> dict[str, Any]:
    zone = ZoneInfo(zone_name)
    closed = report.status in status.FINAL
    address = publish(location.get("address_string"))
    updated = report.closed_at if closed and report.closed_at else None
    if updated is None:
        updated = entries[-1].at if entries else report.created_at
    media = location.get("media_url") if not report.anonim else None
    return {
        "service_request_id": report.tracking_id,
        "status": open311_status(report.status),
        "status_notes": _notes(report, entries, publish),
        "service_name": service_name,
        "service_code": catalog.code_of(report.classification, report.category),
        "description": publish(_description(report.title, report.body)),
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": w3(report.created_at, zone),
        "updated_datetime": w3(updated, zone),
        "expected_datetime": None if closed else w3(due, zone),
        "address": f"{address}, {region_name}" if address else region_name,
        "address_id": report.region_code,
        "zipcode": None,
        "lat": _coordinate(location.get("lat")),
        "long": _coordinate(location.get("long")),
        "media_url": media if isinstance(media, str) else None,
    }


def _base() -> Any:
    """Reports with what an answer shows: the pelapor's identity is never even loaded."""
    return (
        select(Report, Region.name, Region.timezone, Instansi.name)
        .options(load_only(*SHOWN_COLUMNS, raiseload=True))
        .join(Region, Region.code == Report.region_code)
        .outerjoin(Instansi, Instansi.id == Report.current_instansi_id)
    )


def _views(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Service requests of (report, region name, zone, instansi name) rows, in their order."""
    ids = [row[0].id for row in rows]
    if not ids:
        return []
    phrases = phrases_of(session, ids)
    entries: dict[int, list[TimelineEntry]] = defaultdict(list)
    locations: dict[int, dict[str, Any]] = {}
    for entry in session.scalars(
        select(TimelineEntry)
        .where(
            TimelineEntry.report_id.in_(ids),
            or_(
                and_(TimelineEntry.public.is_(True), TimelineEntry.kind.in_(PUBLIC_KINDS)),
                TimelineEntry.kind == LOCATION_KIND,
            ),
        )
        .order_by(TimelineEntry.report_id, TimelineEntry.id)
    ):
        if entry.kind == LOCATION_KIND:
            locations[entry.report_id] = dict(entry.data or {})
        else:
            entries[entry.report_id].append(entry)
    name = catalog.service_namer()
    due: dict[int, datetime] = {}
    for report_id, due_at in session.execute(
        select(HumanTask.report_id, HumanTask.due_at)
        .where(HumanTask.report_id.in_(ids), HumanTask.status == "open")
        .order_by(HumanTask.id)
    ):
        if due_at is not None:
            due[report_id] = due_at  # the newest open task's
    return [
        _as_request(
            report,
            name(report.classification, report.category),
            region_name or report.region_code,
            zone or "Asia/Jakarta",
            agency,
            entries.get(report.id, []),
            locations.get(report.id, {}),
            due.get(report.id),
            Publisher(phrases.get(report.id, ())),
        )
        for report, region_name, zone, agency in rows
    ]


def _window(query: RequestQuery) -> tuple[datetime, datetime]:
    """The requested_datetime range: at most 90 days, the most recent 90 by default."""
    span = timedelta(days=MAX_DAYS)
    end = query.end or (query.start + span if query.start else clock.now())
    start = query.start or end - span
    if start > end:
        raise InvalidInput("start_date is after end_date", field="start_date")
    if end - start > span:
        raise InvalidInput(f"the range may not span more than {MAX_DAYS} days", field="end_date")
    return start, end


def _codes_clause(codes: Sequence[str]) -> Any:
    pairs = [parsed for parsed in (catalog.parse_code(c) for c in codes) if parsed is not None]
    return or_(
        *(and_(Report.classification == kind, Report.category == cat) for kind, cat in pairs),
        false(),
    )


def _status_clause(statuses: Sequence[str]) -> Any:
    wanted = set(statuses)
    if wanted >= {"open", "closed"}:
        return true()
    final = tuple(status.FINAL)
    return Report.status.in_(final) if "closed" in wanted else Report.status.not_in(final)


def list_requests(session: Session, *, query: RequestQuery) -> list[dict[str, Any]]:
    """Published, non-rahasia reports matching `query`, newest first (module docstring)."""
    start, end = _window(query)
    statement = _base().where(
        Report.rahasia.is_(False),
        Report.status.in_(PUBLISHED),
        Report.created_at >= start,
        Report.created_at <= end,
    )
    if query.service_codes:
        statement = statement.where(_codes_clause(query.service_codes))
    if query.statuses:
        statement = statement.where(_status_clause(query.statuses))
    statement = (
        statement.order_by(Report.created_at.desc(), Report.id.desc())
        .limit(query.page_size)
        .offset((query.page - 1) * query.page_size)
    )
    with session.begin():
        if query.jurisdiction_id:
            found = jurisdictions.resolve(session, query.jurisdiction_id)
            statement = statement.where(jurisdictions.reports_clause(found))
        return _views(session, session.execute(statement).all())


def requests_by_id(session: Session, *, tracking_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The non-rahasia reports among `tracking_ids`, in the order asked; others are left out."""
    wanted = list(dict.fromkeys(t for t in tracking_ids if is_tracking_id(t)))
    if not wanted:
        return []
    with session.begin():
        rows = session.execute(
            _base().where(Report.tracking_id.in_(wanted), Report.rahasia.is_(False))
        ).all()
        views = {view["service_request_id"]: view for view in _views(session, rows)}
    return [views[t] for t in wanted if t in views]


def request_by_id(session: Session, *, tracking_id: str) -> dict[str, Any]:
    found = requests_by_id(session, tracking_ids=[tracking_id])
    if not found:
        raise NotFound(f"no service request '{tracking_id[:32]}'", field="service_request_id")
    return found[0]


def exists(session: Session, *, tracking_id: str) -> bool:
    """Whether a report has this tracking id, rahasia or not (for tokens: the id only)."""
    with session.begin():
        found = session.scalar(select(Report.id).where(Report.tracking_id == tracking_id))
    return found is not None

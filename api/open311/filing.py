"""POST `requests`: an agency app files a report for a citizen, with the app's API key.

The key (`api_key` as a form or query parameter, as Open311 sends it; `X-API-Key` or
`Authorization: Bearer` as the rest of the API takes it) is checked by `engine.services.api_keys`
and needs `reports:write` (`KEY_PERMISSIONS`); its instansi must be allowed to file to the
jurisdiction (`jurisdictions.may_file`).

Field mapping:

- `service_code` -> classification and category (`catalog`); unknown: 404;
- `jurisdiction_id` -> target instansi and region; `address_id` is a region code (Kemendagri)
  that places the report when the jurisdiction is a central instansi, or more precisely inside a
  regional one. Without either, lat/long or an address string cannot be placed: 400 naming what
  is missing;
- `description` -> body; `attribute[judul]` -> title, else the description's first line;
- `first_name` + `last_name`, `email`, `phone` -> the pelapor's identity (sealed at rest, never
  shown when `attribute[anonim]=true`); `attribute[rahasia]=true` keeps the report unpublished;
- `lat`, `long`, `address_string`, `media_url` -> a non-public timeline entry of kind
  `reading.LOCATION_KIND` that officers see on the case file (its data feeds the Open311
  answers); `device_id` and `account_id` are not kept.

The report is filed by `engine.services.reports.create` in one transaction, with an audit event
naming the key (`report.filed_open311`, ids only); the answer is the tracking id at once
(`realtime`) and a token that resolves to it (`tokens`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.open311 import catalog, jurisdictions
from api.open311.errors import Open311Error
from api.open311.reading import LOCATION_KIND
from engine.errors import InvalidInput, NotFound
from engine.models import HumanTask, Region, Report
from engine.services import audit, reports
from engine.services.auth import Principal
from engine.services.progress import add_timeline

MAX_TITLE, MIN_TITLE = 200, 5
MISSING_PLACE = (
    "jurisdiction_id: missing. A location alone (lat/long, address_string) does not tell which "
    "instansi or region the report is for: send jurisdiction_id (an instansi or region code, "
    "e.g. 34.04 or KEMENKES) or address_id (a region code)"
)


@dataclass(frozen=True)
class Place:
    target_code: str | None
    region_code: str


@dataclass(frozen=True)
class Filed:
    tracking_id: str
    due_at: datetime | None  # the verification's due moment
    zone: str


def title_from(description: str, fallback: str) -> str:
    """The description's first line as a title (cut at a word near 200 characters), or
    `fallback` when that line is too short to be one."""
    first = " ".join(next((ln for ln in description.splitlines() if ln.strip()), "").split())
    if len(first) > MAX_TITLE:
        first = first[: MAX_TITLE - 3].rsplit(" ", 1)[0].rstrip(" ,.;:") + "..."
    return first if len(first) >= MIN_TITLE else fallback


def _region(session: Session, code: str) -> Region:
    found = session.get(Region, code)
    if found is None:
        raise InvalidInput(f"no region with code '{code}'", field="address_id")
    return found


def place(
    session: Session, *, instansi_id: int, jurisdiction_id: str | None, address_id: str | None
) -> Place:
    """Where the report goes, checked against the key's instansi (in the caller's
    transaction): the target instansi and the region (module docstring)."""
    if not jurisdiction_id:
        if not address_id:
            raise Open311Error(400, MISSING_PLACE)
        region = _region(session, address_id)
        jurisdiction = jurisdictions.Jurisdiction(region.code, None, region)
    else:
        jurisdiction = jurisdictions.resolve(session, jurisdiction_id)
    if not jurisdictions.may_file(session, instansi_id, jurisdiction):
        raise Open311Error(
            403, f"jurisdiction_id: this api_key may not file reports to '{jurisdiction.code}'"
        )
    outer = jurisdiction.region
    if address_id:
        region = _region(session, address_id)
        if outer is not None and not jurisdictions.within(region.code, outer.code):
            raise InvalidInput(
                f"region '{region.code}' is outside jurisdiction '{jurisdiction.code}'",
                field="address_id",
            )
    elif outer is not None:
        region = outer
    else:
        raise Open311Error(
            400,
            f"address_id: missing. '{jurisdiction.code}' is a central instansi: send the region "
            "of the report as address_id (a region code, e.g. 34.04)",
        )
    target = jurisdiction.instansi.code if jurisdiction.instansi is not None else None
    return Place(target, region.code)


def _location_text(fields: dict[str, Any]) -> str:
    parts = []
    if fields.get("address_string"):
        parts.append(f"Alamat: {fields['address_string']}")
    if fields.get("lat") is not None:
        parts.append(f"Koordinat: {fields['lat']}, {fields['long']}")
    if fields.get("media_url"):
        parts.append(f"Media: {fields['media_url']}")
    return "Dikirim melalui Open311. " + "; ".join(parts) if parts else "Dikirim melalui Open311."


def file(
    session: Session,
    *,
    principal: Principal,
    fields: dict[str, Any],
    attributes: dict[str, Any],
) -> Filed:
    """File the report of a loaded POST (`schemas.CreateRequestSchema`, `AttributesSchema`)."""
    service = catalog.find(fields["service_code"])
    if service is None:
        raise NotFound(f"no service '{fields['service_code']}'", field="service_code")
    instansi_id = next(m.instansi_id for m in principal.memberships if m.instansi_id)
    with session.begin():
        where = place(
            session,
            instansi_id=instansi_id,
            jurisdiction_id=fields.get("jurisdiction_id"),
            address_id=fields.get("address_id"),
        )
    name = " ".join(n for n in (fields.get("first_name"), fields.get("last_name")) if n)
    location = {
        key: fields[key]
        for key in ("lat", "long", "address_string", "media_url")
        if fields.get(key) is not None
    }

    def record_location(inner: Session, report: Report) -> None:
        add_timeline(
            inner,
            report,
            LOCATION_KIND,
            public=False,
            text=_location_text(location),
            data={**location, "service_code": service.code},
        )
        audit.record(
            inner,
            actor=principal.actor,
            action="report.filed_open311",
            report_id=report.id,
            data={"api_key_id": principal.api_key_id, "service_code": service.code},
        )

    filed = reports.create(
        session,
        data={
            "classification": service.classification,
            "category": service.category,
            "title": attributes.get("judul") or title_from(fields["description"], service.name),
            "body": fields["description"],
            "region_code": where.region_code,
            "target_instansi": where.target_code,
            "anonim": catalog.FLAG_VALUES[attributes["anonim"]],
            "rahasia": catalog.FLAG_VALUES[attributes["rahasia"]],
            "pelapor_name": name or None,
            "pelapor_email": fields.get("email"),
            "pelapor_phone": fields.get("phone"),
        },
        on_filed=record_location,
        channel=reports.Channel(principal.api_key_id) if principal.api_key_id else None,
    )
    with session.begin():
        due = session.scalar(
            select(HumanTask.due_at)
            .where(HumanTask.report_id == filed.report.id, HumanTask.status == "open")
            .order_by(HumanTask.id.desc())
            .limit(1)
        )
        region = session.get(Region, where.region_code)
        zone = region.timezone if region is not None else "Asia/Jakarta"
    return Filed(filed.report.tracking_id, due, zone)

"""Many plausible reports, fast: rows inserted with SQLAlchemy Core in batches, for the export
benchmark and the bounded-memory tests (`lapor dev generate` drives every report through the
engine: right for demo data, hours for 500,000 rows).

The rows are what exports read: a report with its status, handling instansi (and unit for some),
filing time, flags (20 % anonim, 10 % rahasia) and a pelapor identity sealed like real ones
(AES-GCM through the column type, the blind email index set). No tasks, timelines or process
instances are made. The same `seed` always gives the same rows.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import sessionmaker

from engine import status
from engine.models import Instansi, Report, Unit
from engine.personal_data import email_index
from engine.services.reports import TRACKING_ALPHABET, TRACKING_LENGTH

BATCH = 5000
START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
NAMES = ("Sri Wahyuni", "Budi Santoso", "Made Ayu Lestari", "Andi Pratama", "Nur Aini")
TITLES = (
    "Jalan berlubang di {place}",
    "Antrean panjang di puskesmas {place}",
    "Lampu jalan mati di {place}",
    "Sampah menumpuk di pasar {place}",
)
BODY = (
    "Warga {place} melaporkan masalah ini sejak {days} hari lalu. Mohon segera ditindaklanjuti "
    "karena membahayakan pengguna jalan, terutama anak sekolah dan lansia pada malam hari."
)


def tracking_id(number: int) -> str:
    """A unique tracking id for each number (base-31 digits of our alphabet, zero-padded)."""
    base = len(TRACKING_ALPHABET)
    digits = []
    for _ in range(TRACKING_LENGTH):
        number, digit = divmod(number, base)
        digits.append(TRACKING_ALPHABET[digit])
    return "".join(reversed(digits))


def report_row(
    *,
    number: int,
    instansi_id: int,
    region_code: str,
    filed: datetime,
    state: str = status.IN_PROGRESS,
    unit_id: int | None = None,
    anonim: bool = False,
    rahasia: bool = False,
    name: str | None = "Sri Wahyuni",
    email: str | None = None,
    phone: str | None = None,
    classification: str = "pengaduan",
    category: str = "infrastruktur",
    title: str = "Jalan berlubang",
    body: str = "Jalan berlubang di depan pasar sejak Januari, mohon segera diperbaiki.",
) -> dict[str, Any]:
    """One report row as `insert(Report.__table__)` takes it (its tracking id from `number`)."""
    return {
        "tracking_id": tracking_id(number),
        "secret_hash": "0" * 64,
        "classification": classification,
        "category": category,
        "title": title,
        "body": body,
        "region_code": region_code,
        "target_instansi_id": instansi_id,
        "current_instansi_id": instansi_id,
        "current_unit_id": unit_id,
        "anonim": anonim,
        "rahasia": rahasia,
        "pelapor_name": name,
        "pelapor_email": email,
        "pelapor_phone": phone,
        "pelapor_email_hmac": email_index(email) if email else None,
        "status": state,
        "reopen_count": 0,
        "created_at": filed,
        "updated_at": filed,
        "closed_at": filed + timedelta(days=7) if state in status.FINAL else None,
    }


def insert_reports(
    factory: sessionmaker,
    *,
    count: int,
    seed: int = 2026,
    instansi_codes: tuple[str, ...] | None = None,
    start: datetime = START,
    days: int = 90,
    first_number: int | None = None,
) -> int:
    """Insert `count` reports handled by `instansi_codes` (default: every regional instansi),
    filed over `days` from `start`; returns the number inserted."""
    rng = random.Random(seed)
    with factory() as s:
        stmt = select(Instansi.id, Instansi.region_code).where(Instansi.region_code.is_not(None))
        if instansi_codes:
            stmt = stmt.where(Instansi.code.in_(instansi_codes))
        targets = [(i, r) for i, r in s.execute(stmt.order_by(Instansi.id))]
        units: dict[int, list[int]] = {}
        for unit_id, instansi_id in s.execute(select(Unit.id, Unit.instansi_id)):
            units.setdefault(instansi_id, []).append(unit_id)
        number = (
            first_number
            if first_number is not None
            else (int(s.scalar(select(func.count(Report.id))) or 0) + 10_000_000)
        )
    assert targets, instansi_codes
    statuses = status.STATUSES
    table = Report.__table__
    done = 0
    while done < count:
        rows: list[dict[str, Any]] = []
        for _ in range(min(BATCH, count - done)):
            instansi_id, region = rng.choice(targets)
            filed = start + timedelta(seconds=rng.uniform(0, days * 86400))
            state = rng.choice(statuses)
            name = rng.choice(NAMES)
            email = f"{name.split()[0].lower()}.{number}@example.org"
            unit_id = rng.choice(units[instansi_id]) if instansi_id in units else None
            rows.append(
                report_row(
                    number=number,
                    instansi_id=instansi_id,
                    region_code=region,
                    filed=filed,
                    state=state,
                    unit_id=unit_id if state == status.IN_PROGRESS else None,
                    anonim=rng.random() < 0.2,
                    rahasia=rng.random() < 0.1,
                    name=name,
                    email=email,
                    phone=f"+62 812 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                    classification=rng.choice(("pengaduan", "aspirasi", "permintaan_informasi")),
                    category=rng.choice(("infrastruktur", "kesehatan", "lingkungan")),
                    title=rng.choice(TITLES).format(place=region),
                    body=BODY.format(place=region, days=rng.randint(2, 90)),
                )
            )
            number += 1
        with factory() as s, s.begin():
            s.execute(insert(table), rows)
        done += len(rows)
    return done

"""Realistic demo and benchmark reports, driven through the real services and engine.

Each report is filed at a moment in the past (the clock is set per step) and then taken along
one of the SOP's paths to a random stopping point, so statuses, timelines, tasks and instances are
what the product would have produced.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import clock
from engine.models import HumanTask, Instansi, Unit, User
from engine.services import auth, reports, tasks

CATEGORIES = {
    "pengaduan": ["infrastruktur", "kesehatan", "pendidikan", "kependudukan", "perizinan"],
    "aspirasi": ["lingkungan", "transportasi", "pelayanan publik"],
    "permintaan_informasi": ["anggaran", "bantuan sosial", "perizinan"],
}
TOPICS = [
    (
        "Jalan berlubang di {place}",
        "Jalan utama di {place} rusak dan berlubang sejak dua bulan, "
        "membahayakan pengendara motor terutama saat hujan.",
    ),
    (
        "Antrean panjang di puskesmas {place}",
        "Pelayanan di puskesmas {place} sangat lambat, "
        "antrean bisa sampai empat jam dan loket hanya buka satu.",
    ),
    (
        "KTP elektronik belum jadi",
        "Saya merekam data KTP elektronik di {place} enam bulan lalu "
        "namun sampai sekarang belum dicetak tanpa kejelasan.",
    ),
    (
        "Lampu jalan mati di {place}",
        "Sebagian besar lampu penerangan jalan di {place} mati sejak "
        "bulan lalu sehingga rawan kecelakaan dan kejahatan.",
    ),
    (
        "Informasi bantuan sosial",
        "Mohon informasi syarat dan jadwal penyaluran bantuan sosial "
        "untuk warga {place} yang belum terdaftar.",
    ),
]


GENERATOR = "lapor-devdata"


def _generator_user(factory: sessionmaker) -> int:
    """The (disabled, password-less) account that generated steps are recorded against."""
    with factory() as s, s.begin():
        user_id = s.scalar(select(User.id).where(User.username == GENERATOR))
        if user_id is None:
            user = auth.create_user(
                s,
                username=GENERATOR,
                full_name="Demo data generator",
                password=secrets.token_urlsafe(32),
            )
            user.active = False
            user_id = user.id
    return user_id


def _principal(user_id: int, *members: auth.Membership) -> auth.Principal:
    return auth.Principal(user_id, GENERATOR, members)


def generate(
    factory: sessionmaker,
    *,
    count: int,
    seed: int = 2026,
    start: datetime | None = None,
    days: int = 180,
    progress: Callable[[int], None] | None = None,
) -> int:
    """File `count` reports over `days` before `start` and drive each partway; returns count."""
    rng = random.Random(seed)
    end = start or clock.now()
    with factory() as s:
        targets = [
            (i.id, i.code, i.region_code or "31")
            for i in s.scalars(select(Instansi).where(Instansi.region_code.is_not(None)))
        ]
        units: dict[int, list[str]] = {}
        for unit in s.scalars(select(Unit)):
            units.setdefault(unit.instansi_id, []).append(unit.code)
    with_units = [t for t in targets if t[0] in units] or targets
    user_id = _generator_user(factory)
    try:
        for n in range(count):
            filed_at = end - timedelta(days=rng.uniform(0, days))
            target = rng.choice(with_units if rng.random() < 0.6 else targets)
            _one(factory, rng, user_id, filed_at, target, units.get(target[0], []))
            if progress:
                progress(n + 1)
    finally:
        clock.set_clock()
    return count


def _open_task(session: Session, report_id: int) -> int | None:
    return session.scalar(
        select(HumanTask.id).where(HumanTask.report_id == report_id, HumanTask.status == "open")
    )


def _one(
    factory: sessionmaker,
    rng: random.Random,
    user_id: int,
    at: datetime,
    target: tuple[int, str, str],
    unit_codes: list[str],
) -> None:
    instansi_id, code, region = target
    classification = rng.choice(list(CATEGORIES))
    title, body = rng.choice(TOPICS)
    place = region
    clock.set_clock(at)
    filed = reports.create(
        factory(),
        data={
            "classification": classification,
            "category": rng.choice(CATEGORIES[classification]),
            "title": title.format(place=place),
            "body": body.format(place=place),
            "region_code": region,
            "target_instansi": code,
            "anonim": rng.random() < 0.2,
            "rahasia": rng.random() < 0.1,
            "pelapor_name": None,
        },
    )
    report_id, tracking, secret = filed.report.id, filed.report.tracking_id, filed.secret
    step = rng.random()
    if step < 0.15:
        return  # still waiting for verification
    at += timedelta(hours=rng.uniform(2, 70))
    clock.set_clock(at)
    with factory() as s:
        task_id = _open_task(s, report_id)
    outcome = "forward" if step < 0.8 or not unit_codes else rng.choice(["tunda", "arsipkan"])
    data = (
        {"outcome": outcome, "target_instansi": code}
        if outcome == "forward"
        else {
            "outcome": outcome,
            "reason": "Laporan kurang jelas, mohon lengkapi lokasi dan waktu.",
        }
    )
    assert task_id is not None
    national = _principal(user_id, auth.Membership("admin_nasional", None, None))
    tasks.complete(factory(), principal=national, task_id=task_id, data=data)
    if outcome != "forward" or not unit_codes or step < 0.3:
        return
    at += timedelta(hours=rng.uniform(2, 70))
    clock.set_clock(at)
    with factory() as s:
        task_id = _open_task(s, report_id)
        unit_id = s.scalar(
            select(Unit.id).where(Unit.code == (unit_code := rng.choice(unit_codes)))
        )
    assert task_id is not None
    tasks.complete(
        factory(),
        principal=_principal(user_id, auth.Membership("admin_instansi", instansi_id, None)),
        task_id=task_id,
        data={"outcome": "disposisi", "target_unit": unit_code},
    )
    if step < 0.45:
        return
    at += timedelta(hours=rng.uniform(4, 120))
    clock.set_clock(at)
    with factory() as s:
        task_id = _open_task(s, report_id)
    assert task_id is not None
    tasks.complete(
        factory(),
        principal=_principal(user_id, auth.Membership("pejabat_penghubung", instansi_id, unit_id)),
        task_id=task_id,
        data={
            "tindak_lanjut": "Laporan telah kami tindak lanjuti: petugas sudah "
            "turun ke lokasi dan perbaikan dijadwalkan."
        },
    )
    if step < 0.6:
        return
    at += timedelta(hours=rng.uniform(4, 120))
    clock.set_clock(at)
    reports.reply(
        factory(),
        tracking_id=tracking,
        secret=secret,
        data={"kind": "rating", "rating": rng.randint(3, 5), "satisfied": True, "text": None},
    )

"""The public feed: masking of phone numbers, emails and NIK (and what must stay readable), only
published non-rahasia reports, anonim identity never shown, filters and pagination, officers'
redactions (their instansi only), and every bad input refused with the field named."""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine import clock
from engine.models import AuditEvent, Report
from engine.services.masking import mask
from tests.helpers import Api, problem_of

FORWARD_SLEMAN = {"outcome": "forward", "target_instansi": "34.04"}
FORWARD_BADUNG = {"outcome": "forward", "target_instansi": "51.03"}
DISPOSE = {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"}
SENTINELS = ("Sentinel Pelapor", "sentinel@example.org", "+62 812 0000 1111", "0000 1111")
NAMED = {"pelapor_name": "Budi Warga", "pelapor_email": "budi@example.org", "pelapor_phone": None}
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # a Monday, 09:00 WIB
FEED = "/api/v1/public/reports"


@pytest.fixture()
def api(app: Flask) -> Api:
    clock.set_clock(START)
    client = app.test_client()
    return Api(lambda: nullcontext(client))


def file_at(api: Api, minutes: int, **overrides: Any) -> str:
    """File a report `minutes` after START (so that newest-first order is fixed)."""
    clock.set_clock(START + timedelta(minutes=minutes))
    tracking = str(api.file(**overrides)["tracking_id"])
    clock.set_clock(START + timedelta(minutes=minutes, seconds=30))
    return tracking


def feed(api: Api, expect: int = 200, **query: Any) -> dict[str, Any]:
    response = api.call("GET", FEED, query=query)
    assert response.status_code == expect, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def trackings(body: dict[str, Any]) -> list[str]:
    return [item["tracking_id"] for item in body["items"]]


# --- masking ---------------------------------------------------------------------------------

MASKED = [
    ("Hubungi 0812-3456-7890 segera", "Hubungi 0•••-••••-••90 segera"),
    ("HP: 081234567890.", "HP: 0•••••••••90."),
    ("0812 3456 7890", "0••• •••• ••90"),
    ("0812.3456.789", "0•••.••••.•89"),
    ("+62 812 0000 1111", "+62 ••• •••• ••11"),
    ("+62-812-3456-7890", "+62-•••-••••-••90"),
    ("+6281234567890", "+62•••••••••90"),
    ("62 812 3456 7890", "62 ••• •••• ••90"),
    ("6281234567890", "62•••••••••90"),
    ("(wa) 0857 1234 5678", "(wa) 0••• •••• ••78"),
    ("0812345678", "0•••••••78"),
    ("kantor (0274) 868405", "kantor (0•••) ••••05"),
    ("telp 021-555-1234", "telp 0••-•••-••34"),
    ("+62 21 5551234", "+62 •• •••••34"),
    ("sentinel@example.org", "s•••@•••.org"),
    ("surat ke budi.santoso+lapor@mail.go.id.", "surat ke b•••@•••.id."),
    ("<Warga_01@desa-maju.id>", "<W•••@•••.id>"),
    ("NIK 3404011234560001", "NIK ••••••••••••••01"),
    ("NIK: 3404 0112 3456 0001", "NIK: •••• •••• •••• ••01"),
    ("3404-0112-3456-0001", "••••-••••-••••-••01"),
    ("340401 120390 0001", "•••••• •••••• ••01"),
    ("34.04.01.120390.0001", "••.••.••.••••••.••01"),
    (
        "Saya (NIK 3404011234560001, HP 0812-3456-7890, a@b.co) melapor",
        "Saya (NIK ••••••••••••••01, HP 0•••-••••-••90, a•••@•••.co) melapor",
    ),
]

UNCHANGED = [
    "tanggal 15-01-2024 pukul 08.30",
    "2024-01-15 s.d. 2024-02-01",
    "15/01/2024 dan 01.02.2024",
    "jam 07.30-09.00 WIB",
    "Rp 1.500.000",
    "Rp1.250.000.000",
    "Rp 62.500.000.000",
    "62.500.000.000 rupiah",
    "628.000.000",
    "IDR 812.345.678.900",
    "Rp 1.000.000.000.000.000",
    "laporan AB3CD45EFG dan XY9Z8W7V6U",
    "RT 02/RW 08 km 10",
    "nomor surat 0812/ABC/2024",
    "12345678901234567",  # 17 digits: neither NIK nor a phone
    "kode pos 55581",
    "tahun 2023 dan 2024",
    "tidak ada @ di sini",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_mask_hides_phones_emails_and_nik(text: str, expected: str) -> None:
    assert mask(text) == expected
    assert mask(expected) == expected  # idempotent


@pytest.mark.parametrize("text", UNCHANGED)
def test_mask_leaves_dates_money_and_codes_alone(text: str) -> None:
    assert mask(text) == text


# --- what is published -----------------------------------------------------------------------


def test_only_verified_non_rahasia_reports_are_published(api: Api) -> None:
    pending = file_at(api, 1, **NAMED)
    rahasia = file_at(api, 2, rahasia=True, **NAMED)
    archived = file_at(api, 3, **NAMED)
    forwarded = file_at(api, 4, **NAMED)
    for tracking in (rahasia, forwarded):
        api.complete("nasional", tracking, FORWARD_SLEMAN)
    api.complete("nasional", archived, {"outcome": "arsipkan", "reason": "Laporan duplikat."})

    body = feed(api)
    assert trackings(body) == [forwarded]
    assert body["page"] == 1 and body["has_next"] is False
    item = body["items"][0]
    assert item["instansi_code"] == "34.04" and item["instansi_name"]
    assert item["region_code"] == "34.04" and item["region_name"]
    assert item["pelapor_name"] == "Budi Warga" and item["status"] == "forwarded"
    assert [e["kind"] for e in item["timeline"]] == ["filed", "forwarded"]
    assert "budi@example.org" not in json.dumps(body)

    assert api.call("GET", f"{FEED}/{forwarded}").get_json() == item
    for hidden in (pending, rahasia, archived, "ABCDEFGHJK", "not-an-id"):
        problem_of(api.call("GET", f"{FEED}/{hidden}"), 404)


def test_anonim_identity_never_reaches_the_feed(api: Api) -> None:
    body_text = (
        "Petugas meminta pungutan liar. Hubungi saya di sentinel@example.org atau "
        "+62 812 0000 1111, NIK 3404011234560001."
    )
    tracking = file_at(api, 1, anonim=True, body=body_text)
    api.complete("nasional", tracking, FORWARD_SLEMAN)
    api.complete("sleman", tracking, DISPOSE)
    api.complete("sleman.pu", tracking, {"tindak_lanjut": "Sudah kami hubungi di 0812 0000 1111."})

    listed = api.call("GET", FEED)
    one = api.call("GET", f"{FEED}/{tracking}")
    searched = api.call("GET", FEED, query={"q": "sentinel"})
    for response in (listed, one, searched):
        text = response.get_data(as_text=True)
        assert response.status_code == 200
        for sentinel in SENTINELS:
            assert sentinel not in text, (sentinel, response.request.url)
    item = one.get_json()
    assert item["anonim"] is True and item["pelapor_name"] is None
    assert "s•••@•••.org" in item["body"] and "+62 ••• •••• ••11" in item["body"]
    assert "NIK ••••••••••••••01" in item["body"]
    follow_up = [e for e in item["timeline"] if e["kind"] == "follow_up"]
    assert follow_up[0]["text"] == "Sudah kami hubungi di 0••• •••• ••11."
    assert searched.get_json()["items"] == []  # found only in masked text: not a match


def test_internal_entries_stay_out_of_the_public_timeline(api: Api, factory: Any) -> None:
    from engine.services.progress import add_timeline

    tracking = file_at(api, 1, **NAMED)
    api.complete("nasional", tracking, FORWARD_SLEMAN)
    with factory() as s, s.begin():
        report = s.scalar(select(Report).where(Report.tracking_id == tracking))
        add_timeline(s, report, "officer_note", public=False, text="Catatan internal rahasia")
        add_timeline(s, report, "new_public_kind", text="Jenis baru yang belum ditinjau")
    item = api.call("GET", f"{FEED}/{tracking}").get_json()
    assert [e["kind"] for e in item["timeline"]] == ["filed", "forwarded"]
    assert "Catatan internal" not in json.dumps(item) and "Jenis baru" not in json.dumps(item)


# --- filters and pagination ------------------------------------------------------------------


def published(api: Api) -> dict[str, str]:
    """Three published reports: two in Sleman (DIY), one in Badung (Bali); newest last."""
    made = {
        "jalan": file_at(api, 1, title="Jalan rusak di Jalan Kaliurang", **NAMED),
        "sampah": file_at(
            api,
            2,
            title="Sampah menumpuk di Pasar Gentan",
            body="Sampah tidak diangkut selama dua minggu dan baunya mengganggu warga.",
            **NAMED,
        ),
        "bali": file_at(
            api,
            3,
            title="Lampu jalan mati di Kuta",
            region_code="51.03",
            target_instansi="51.03",
            **NAMED,
        ),
    }
    api.complete("nasional", made["jalan"], FORWARD_SLEMAN)
    api.complete("nasional", made["sampah"], FORWARD_SLEMAN)
    api.complete("nasional", made["bali"], FORWARD_BADUNG)
    return made


def test_filters_search_and_pages(api: Api) -> None:
    made = published(api)
    newest_first = [made["bali"], made["sampah"], made["jalan"]]
    assert trackings(feed(api)) == newest_first
    assert trackings(feed(api, instansi="34.04")) == [made["sampah"], made["jalan"]]
    assert trackings(feed(api, instansi="51.03")) == [made["bali"]]
    assert trackings(feed(api, region="34")) == [made["sampah"], made["jalan"]]  # province
    assert trackings(feed(api, region="34.04")) == [made["sampah"], made["jalan"]]
    assert trackings(feed(api, region="51")) == [made["bali"]]
    assert trackings(feed(api, region="34.71")) == []
    assert trackings(feed(api, q="PASAR gentan")) == [made["sampah"]]
    assert trackings(feed(api, q="diangkut")) == [made["sampah"]]  # in the body
    assert trackings(feed(api, q="jalan", region="51")) == [made["bali"]]
    assert trackings(feed(api, q="100%_")) == []  # LIKE wildcards are plain characters
    assert trackings(feed(api, q="", instansi="", region="")) == newest_first

    first = feed(api, per_page=2)
    assert trackings(first) == newest_first[:2] and first["has_next"] is True
    second = feed(api, per_page=2, page=2)
    assert trackings(second) == newest_first[2:] and second["has_next"] is False
    assert feed(api, per_page=2, page=3) == {
        "items": [],
        "page": 3,
        "per_page": 2,
        "has_next": False,
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": "501"}, "page"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "51"}, "per_page"),
        ({"q": "x" * 101}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"instansi": "TIDAK-ADA"}, "instansi"),
        ({"instansi": "x" * 33}, "instansi"),
        ({"region": "99.99"}, "region"),
        ({"region": "3" * 17}, "region"),
    ],
)
def test_feed_bad_query_names_the_field(api: Api, query: dict[str, str], field: str) -> None:
    assert problem_of(api.call("GET", FEED, query=query), 422)["field"] == field


# --- redactions ------------------------------------------------------------------------------


def redact(api: Api, username: str | None, tracking: str, body: Any) -> Any:
    token = api.login(username) if username else None
    return api.call("POST", f"/api/v1/reports/{tracking}/redactions", token=token, json=body)


def test_an_officer_of_the_instansi_redacts_phrases_everywhere_public(
    api: Api, factory: Any
) -> None:
    tracking = file_at(
        api,
        1,
        title="Pungli oleh Pak Joko di Kantor Desa",
        body="Pak  joko meminta uang Rp 50.000 untuk surat pengantar di kantor desa.",
        **NAMED,
    )
    api.complete("nasional", tracking, FORWARD_SLEMAN)
    api.complete("sleman", tracking, DISPOSE)
    api.complete("sleman.pu", tracking, {"tindak_lanjut": "PAK JOKO sudah diberi sanksi."})

    response = redact(api, "sleman.pu", tracking, {"phrases": ["pak joko", "Budi"]})
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"tracking_id": tracking, "phrases": ["pak joko", "Budi"]}
    again = redact(api, "nasional", tracking, {"phrases": ["  surat   pengantar "]})
    assert again.get_json()["phrases"] == ["pak joko", "Budi", "surat pengantar"]

    item = api.call("GET", f"{FEED}/{tracking}").get_json()
    assert item["title"] == "Pungli oleh [disamarkan] di Kantor Desa"
    assert item["body"] == (
        "[disamarkan] meminta uang Rp 50.000 untuk [disamarkan] di kantor desa."
    )
    assert item["pelapor_name"] == "[disamarkan] Warga"
    follow_up = [e for e in item["timeline"] if e["kind"] == "follow_up"]
    assert follow_up[0]["text"] == "[disamarkan] sudah diberi sanksi."
    assert "redaction" not in [e["kind"] for e in item["timeline"]]
    listed = feed(api)
    assert listed["items"] == [item]
    assert "joko" not in json.dumps(listed).lower()
    assert feed(api, q="joko")["items"] == []  # a redacted word finds nothing
    assert trackings(feed(api, q="pungli")) == [tracking]
    citizen_view = api.report(tracking)  # the status page does not list the redaction either
    assert "redaction" not in [e["kind"] for e in citizen_view["timeline"]]

    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking))
        events = s.scalars(
            select(AuditEvent).where(
                AuditEvent.report_id == report.id, AuditEvent.action == "report.redacted"
            )
        ).all()
        assert [(e.actor.startswith("user:"), e.data) for e in events] == [
            (True, {"phrases": 2}),
            (True, {"phrases": 1}),
        ]


def test_another_instansis_officer_cannot_redact(api: Api) -> None:
    tracking = file_at(api, 1, **NAMED)
    api.complete("nasional", tracking, FORWARD_SLEMAN)
    body = {"phrases": ["Jalan"]}
    assert problem_of(redact(api, "badung", tracking, body), 404)["field"] == "tracking_id"
    assert problem_of(redact(api, "designer", tracking, body), 404)["field"] == "tracking_id"
    assert problem_of(redact(api, "badung", "ABCDEFGHJK", body), 404)["field"] == "tracking_id"
    assert problem_of(redact(api, None, tracking, body), 401)["field"] == "Authorization"
    assert "[disamarkan]" not in json.dumps(feed(api))
    assert redact(api, "sleman", tracking, body).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "phrases"),
        ({"phrases": []}, "phrases"),
        ({"phrases": "Joko"}, "phrases"),
        ({"phrases": ["x"]}, "phrases.0"),
        ({"phrases": ["ok", 5]}, "phrases.1"),
        ({"phrases": ["ok", "x" * 201]}, "phrases.1"),
        ({"phrases": ["a\x00b"]}, "phrases.0"),
        ({"phrases": ["ok"] * 21}, "phrases"),
        ({"phrases": ["ok"], "other": 1}, "other"),
    ],
)
def test_bad_redactions_name_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    tracking = file_at(api, 1, **NAMED)
    api.complete("nasional", tracking, FORWARD_SLEMAN)
    assert problem_of(redact(api, "sleman", tracking, body), 422)["field"] == field


def test_the_status_view_masks_for_visitors_without_the_secret(api: Api) -> None:
    """The feed shows tracking ids, so the status view of a tracking id must not give back what
    the feed masks or redacts; the pelapor with the secret still reads their own words."""
    body = "Jalan rusak di depan rumah Pak Harjo, hubungi 0812-3456-7890 atau harjo@contoh.id."
    filed = api.file(body=body)
    tracking, secret = filed["tracking_id"], filed["secret"]
    api.complete("nasional", tracking, FORWARD_SLEMAN)

    stranger = api.call("GET", f"/api/v1/reports/{tracking}").get_json()
    assert "0812-3456-7890" not in stranger["body"] and "harjo@contoh.id" not in stranger["body"]
    assert "0•••-••••-••90" in stranger["body"] and "h•••@•••.id" in stranger["body"]
    assert api.report(tracking, secret)["body"] == body

    redacted = api.call(
        "POST",
        f"/api/v1/reports/{tracking}/redactions",
        token=api.login("sleman"),
        json={"phrases": ["Pak Harjo"]},
    )
    assert redacted.status_code == 201, redacted.get_json()
    after = api.call("GET", f"/api/v1/reports/{tracking}").get_json()
    assert "Harjo" not in after["body"].replace("h•••@", "") and "[disamarkan]" in after["body"]
    assert api.report(tracking, secret)["body"] == body
    with api.fresh() as client:
        page = client.get(f"/lapor/{tracking}").get_data(as_text=True)
    assert "0812-3456-7890" not in page and "Pak Harjo" not in page

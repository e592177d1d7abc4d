"""The whole story in Chromium, as the people in it would play it, with a screenshot of each page
at phone (360 px) and desktop (1280 px) width under `tests-output/screenshots/story/`:

1. a citizen files a report in Bahasa Indonesia on `/lapor` on a phone and keeps the secret link;
2. the national admin (`nasional`) verifies it and forwards it to Kabupaten Sleman on
   `/verifikasi`, and forwards a second report with the batch form of the queue;
3. Sleman's admin (`sleman`) disposes the first to its public-works unit on `/tugas`;
4. the unit's liaison officer (`sleman.pu`) claims it and publishes the follow-up;
5. the citizen rates the follow-up on the status page, which closes the report;
6. the second report is left at Sleman until its deadline passes (the clock moves on and the
   SLA sweep runs), so it escalates to the DI Yogyakarta province: its supervisor (`diy`) sees
   the alert badge in the header and reassigns the report to Kota Yogyakarta on `/pengawasan`.

The clock starts next Monday 09:00 WIB, later than the real time, so that the browser keeps
the session cookies it is given (their expiry follows the app's clock); it only moves forward.
"""

from __future__ import annotations

import re
from contextlib import nullcontext
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from engine import clock
from engine.models import HumanTask, Instansi, Report
from engine.seed.loader import DEMO_PASSWORD
from sla.sweep import sweep
from tests.browser.conftest import LiveServer, sign_in
from tests.helpers import Api

SHOTS = Path(__file__).resolve().parents[2] / "tests-output" / "screenshots" / "story"
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}
TITLE = "Lampu penerangan jalan mati di Jalan Magelang km 8"
BODY = "Sudah dua minggu lampu jalan mati, jalan gelap dan rawan kecelakaan pada malam hari."
FOLLOW_UP = "Lampu sudah diganti oleh petugas DPUPKP pada hari Selasa."


def next_monday_morning() -> datetime:
    """09:00 WIB next Monday: later than the real time, the same working-day position."""
    today = clock.wall().date()
    return datetime.combine(today + timedelta(days=7 - today.weekday()), time(2), tzinfo=UTC)


def shoot(page: Any, name: str) -> None:
    """A full-page screenshot of the current page at phone and desktop width."""
    size = page.viewport_size
    for width in (PHONE["width"], DESKTOP["width"]):
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(size)


def sign_in_as(page: Any, username: str) -> None:
    sign_in(page, username, DEMO_PASSWORD)
    expect(page.get_by_role("button", name="Keluar")).to_be_visible()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Keluar").click()
    expect(page.get_by_role("button", name="Keluar")).to_have_count(0)


def card(page: Any, tracking: str) -> Any:
    return page.locator(".task-card", has_text=tracking)


def citizen_files(page: Any) -> tuple[str, str]:
    page.set_viewport_size(PHONE)
    page.goto("/lapor")
    page.get_by_label("Pengaduan").check()
    page.get_by_label("Kategori").select_option("infrastruktur")
    page.get_by_label("Judul laporan").fill(TITLE)
    page.get_by_label("Isi laporan").fill(BODY)
    page.get_by_label("Provinsi").select_option("34")
    page.locator("#regency option[value='34.04']").wait_for(state="attached")
    page.get_by_label("Kabupaten/kota").select_option("34.04")
    page.get_by_label("Saya tidak tahu").check()
    page.get_by_label("Alamat email").fill("warga.story@example.org")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "01-citizen-files")
    page.get_by_role("button", name="Kirim laporan").click()
    page.wait_for_url(re.compile(r"/terkirim\?secret="))
    tracking = page.locator("#tracking-number").inner_text()
    link = page.get_by_label("Tautan rahasia untuk melihat status dan membalas").input_value()
    shoot(page, "02-citizen-filed")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    shoot(page, "03-citizen-status-filed")
    return tracking, link


def national_admin_verifies(page: Any, tracking: str, second: str) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in_as(page, "nasional")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Verifikasi").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Antrean verifikasi")
    shoot(page, "04-national-queue")
    card(page, tracking).get_by_role("link", name="Verifikasi laporan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Verifikasi laporan {tracking}")
    page.get_by_label("Cari instansi (nama, daerah, atau kode)").fill("sleman")
    page.get_by_role("button", name="Cari", exact=True).click()
    page.get_by_role("radio", name=re.compile("Kabupaten Sleman")).check()
    shoot(page, "05-national-verify")
    page.get_by_role("button", name="Teruskan", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(f"Laporan {tracking} sudah diverifikasi.")

    # the second report with the batch form: search the instansi first, then tick and forward
    page.get_by_label("Cari instansi (nama, daerah, atau kode)").fill("kabupaten sleman")
    page.get_by_role("button", name="Cari", exact=True).click()
    page.get_by_role("checkbox", name=f"Pilih {second} untuk diteruskan").check()
    page.get_by_role("button", name="Teruskan laporan yang dicentang").click()
    results = page.get_by_role("status").filter(has_text="Hasil penerusan")
    expect(results).to_contain_text("1 dari 1 laporan diteruskan.")
    expect(results).to_contain_text(f"{second}: Diteruskan.")
    shoot(page, "06-national-batch-forwarded")
    sign_out(page)


def instansi_admin_disposes(page: Any, tracking: str) -> None:
    sign_in_as(page, "sleman")
    page.goto("/tugas")
    shoot(page, "07-sleman-inbox")
    card(page, tracking).get_by_role("link", name="Telaah dan disposisi").click()
    expect(page.locator(".report")).to_contain_text(tracking)
    page.get_by_role("radio", name="Disposisi ke unit kerja").check()
    page.get_by_label("Unit tujuan").select_option("34.04-DPUPKP")
    shoot(page, "08-sleman-disposes")
    page.get_by_role("button", name="Selesaikan tugas").click()
    expect(page.get_by_role("status")).to_have_text(f"Tugas untuk laporan {tracking} selesai.")
    sign_out(page)


def unit_officer_follows_up(page: Any, tracking: str) -> None:
    sign_in_as(page, "sleman.pu")
    page.goto("/tugas")
    page.get_by_role("button", name=f"Ambil {tracking}").click()
    expect(card(page, tracking)).to_contain_text("Diambil oleh Anda")
    card(page, tracking).get_by_role("link", name="Tindak lanjut").click()
    page.get_by_role("textbox", name=re.compile("Tindak lanjut")).fill(FOLLOW_UP)
    shoot(page, "09-unit-follow-up")
    page.get_by_role("button", name="Selesaikan tugas").click()
    expect(page.get_by_role("status")).to_have_text(f"Tugas untuk laporan {tracking} selesai.")
    shoot(page, "10-unit-inbox-done")
    sign_out(page)


def citizen_rates(page: Any, link: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto(link)
    assert page.get_by_text(FOLLOW_UP).first.is_visible()
    page.get_by_label("Puas: laporan selesai").check()
    page.get_by_label("5", exact=True).check()
    page.get_by_label("Alasan atau komentar").fill("Terima kasih, sekarang jalan terang.")
    shoot(page, "11-citizen-rates")
    page.get_by_role("button", name="Kirim penilaian").click()
    page.wait_for_url(re.compile(r"done=rating"))
    expect(page.get_by_role("status")).to_have_text("Terima kasih atas penilaian Anda.")
    assert "Laporan selesai" in page.locator("ol.history").inner_text()
    shoot(page, "12-citizen-closed")


def deadline_passes(factory: Any, tracking: str) -> None:
    """Move the clock just past the open Sleman task's deadline and run the SLA sweep."""
    with factory() as s:
        due = s.scalar(
            select(HumanTask.due_at)
            .join(Report, Report.id == HumanTask.report_id)
            .where(Report.tracking_id == tracking, HumanTask.status == "open")
        )
    assert due is not None
    clock.set_clock(due + timedelta(seconds=1))
    sweep(factory, scheduler="story")
    clock.set_clock(due + timedelta(hours=9))  # that morning: before the next escalation


def supervisor_reassigns(page: Any, tracking: str) -> None:
    page.set_viewport_size(PHONE)
    sign_in_as(page, "diy")
    header = page.get_by_role("navigation", name="Menu")
    alerts = header.get_by_role("link", name=re.compile(r"^Kotak peringatan"))
    expect(alerts.locator(".badge")).to_have_text("1")
    alerts.click()
    page.wait_for_url("**/peringatan")
    shoot(page, "13-supervisor-alerts")
    header.get_by_role("link", name="Pengawasan").click()
    expect(page.locator("main")).to_contain_text(tracking)
    shoot(page, "14-supervisor-overdue")
    page.goto("/peringatan")
    page.get_by_role("button", name=f"Buka laporan {tracking}").click()
    page.wait_for_url(f"**/pengawasan/{tracking}")
    expect(header.locator(".badge")).to_have_count(0)  # opened: read
    page.get_by_label("Tujuan").select_option("instansi:34.71")
    page.get_by_label("Alasan").first.fill("Lokasi berada di wilayah Kota Yogyakarta.")
    shoot(page, "15-supervisor-report")
    page.get_by_role("button", name="Alihkan laporan").click()
    page.wait_for_url(f"**/pengawasan/{tracking}?selesai=alihkan")
    expect(page.get_by_role("status")).to_have_text("Laporan sudah dialihkan.")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "16-supervisor-reassigned")


def test_the_whole_story_in_a_browser(page: Any, live_server: LiveServer, factory: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    clock.set_clock(next_monday_morning())  # clean_slate sets it back after the test
    client = live_server.app.test_client()
    api = Api(lambda: nullcontext(client))

    tracking, link = citizen_files(page)
    second = api.file(title="Saluran air tersumbat di Jalan Kaliurang")["tracking_id"]
    national_admin_verifies(page, tracking, second)
    instansi_admin_disposes(page, tracking)
    unit_officer_follows_up(page, tracking)
    citizen_rates(page, link)
    deadline_passes(factory, second)
    supervisor_reassigns(page, second)

    with factory() as s:
        rows = dict(s.execute(select(Report.tracking_id, Report.status)).all())
    assert rows[tracking] == "closed"
    with factory() as s:
        moved_to = s.scalar(
            select(Instansi.code)
            .join(Report, Report.current_instansi_id == Instansi.id)
            .where(Report.tracking_id == second)
        )
    assert moved_to == "34.71"  # Kota Yogyakarta
    assert len(list(SHOTS.glob("*.png"))) >= 32

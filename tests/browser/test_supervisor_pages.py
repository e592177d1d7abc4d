"""Supervisor pages: the alert inbox with its header badge, the overdue list of the supervised
tree, and the four interventions as forms (errors next to the fields, in Indonesian and
English), then one journey in Chromium at phone width.

The set-up follows tests/test_supervision.py: a report filed Monday 2 February 2026 and
forwarded to Kabupaten Sleman (34.04) on Tuesday is due Thursday; the sweep just after
midnight on Friday escalates it to the DI Yogyakarta province (34), whose supervisor is the demo
user `diy`. National admins (`nasional`) see everything; a supervisor of Bali (51) nothing.
"""

from __future__ import annotations

import re
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine import clock
from engine.models import AuditEvent, Report, TimelineEntry, User
from engine.seed.loader import DEMO_PASSWORD
from sla.models import Alert
from sla.sweep import sweep
from tests.browser.conftest import sign_in
from tests.helpers import Api, ensure_user

SCREENSHOTS = Path(__file__).resolve().parents[2] / "tests-output" / "screenshots"
HEADER_BADGE = re.compile(r'<span class="badge" aria-label="([^"]+)">(\d+)</span>')


def at(text: str) -> None:
    clock.set_clock(datetime.fromisoformat(text))


@pytest.fixture()
def api(app: Flask) -> Api:
    return Api(lambda: nullcontext(app.test_client()))


def forwarded(api: Api, day: str = "03", **report: Any) -> str:
    at("2026-02-02T09:00:00+07:00")  # Monday
    tracking: str = api.file(**report)["tracking_id"]
    at(f"2026-02-{day}T10:00:00+07:00")
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    return tracking


def escalated(api: Api, factory: Any, **report: Any) -> str:
    """A Sleman disposition task escalated to the province; the clock then on Friday 09:00."""
    tracking = forwarded(api, **report)
    at("2026-02-06T00:00:01+07:00")
    sweep(factory, scheduler="t")
    at("2026-02-06T09:00:00+07:00")
    return tracking


def sign_in_client(client: FlaskClient, username: str) -> None:
    client.get("/login")
    token = client.get_cookie("lapor_login_csrf").value
    data = {"csrf_token": token, "username": username, "password": DEMO_PASSWORD}
    assert client.post("/login", data=data).status_code == 303


def html_of(response: Any, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return str(response.get_data(as_text=True))


def csrf(client: FlaskClient) -> str:
    found = re.search(
        r'<meta name="csrf-token" content="([^"]+)">', html_of(client.get("/peringatan"))
    )
    assert found
    return found.group(1)


def badge(html: str) -> tuple[str, str] | None:
    found = HEADER_BADGE.search(html)
    return (found.group(1), found.group(2)) if found else None


def supervision_actions(factory: Any, tracking: str) -> list[str]:
    with factory() as s:
        report_id = s.scalar(select(Report.id).where(Report.tracking_id == tracking))
        audited = s.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.report_id == report_id, AuditEvent.action.like("supervision.%"))
            .order_by(AuditEvent.id)
        ).all()
        shown = s.scalars(
            select(TimelineEntry.data)
            .where(TimelineEntry.report_id == report_id, TimelineEntry.kind == "supervision")
            .order_by(TimelineEntry.id)
        ).all()
    assert [f"supervision.{d['action']}" for d in shown] == list(audited)
    return [a.removeprefix("supervision.") for a in audited]


def test_badge_counts_unread_alerts_and_the_inbox_marks_them_read(
    api: Api, app: Flask, factory: Any
) -> None:
    first = escalated(api, factory)
    second = forwarded(api, day="04")
    at("2026-02-07T00:00:01+07:00")  # Saturday: the second one escalates too
    sweep(factory, scheduler="t")
    client = app.test_client()
    sign_in_client(client, "diy")
    html = html_of(client.get("/peringatan"))
    assert badge(html) == ("2 belum dibaca", "2")
    assert html.count("Belum dibaca</strong>") == 2
    assert html.index(second) < html.index(first)  # newest first
    assert f"Laporan {first} terlambat: eskalasi tingkat 1" in html
    assert f">Buka laporan {first}</button>" in html and f">Buka laporan {second}<" in html
    with factory() as s:
        diy = s.scalar(select(User.id).where(User.username == "diy"))
        mine = s.scalars(select(Alert.id).where(Alert.user_id == diy).order_by(Alert.id)).all()
    assert len(mine) == 2
    token = csrf(client)

    # opening an alert marks it read and goes to its report
    opened = client.post(f"/peringatan/{mine[0]}/buka", data={"csrf_token": token})
    assert opened.status_code == 303 and opened.location == f"/pengawasan/{first}"
    html = html_of(client.get("/peringatan?lang=en"))
    assert badge(html) == ("1 unread", "1") and "Sudah" not in html
    assert html.count("Unread</strong>") == 1 and ">Read</span>" in html

    assert client.post("/peringatan/999999/dibaca", data={"csrf_token": token}).status_code == 404
    done = client.post(f"/peringatan/{mine[1]}/dibaca", data={"csrf_token": token})
    assert done.status_code == 303 and done.location == "/peringatan"
    html = html_of(client.get("/peringatan?lang=id"))
    assert badge(html) is None and "0 belum dibaca" in html

    # any staff member has the inbox; another user's alert looks missing
    officer = app.test_client()
    sign_in_client(officer, "sleman.pu")
    html = html_of(officer.get("/peringatan"))
    assert 'href="/peringatan"' in html and 'href="/pengawasan"' not in html
    stolen = officer.post(f"/peringatan/{mine[0]}/dibaca", data={"csrf_token": csrf(officer)})
    assert stolen.status_code == 404


def test_mark_all_read_and_csrf_refusal(api: Api, app: Flask, factory: Any) -> None:
    tracking = escalated(api, factory)
    client = app.test_client()
    sign_in_client(client, "diy")
    with factory() as s:
        alert_id = s.scalar(select(Alert.id).where(Alert.read_at.is_(None)).limit(1))
    for url in (f"/peringatan/{alert_id}/dibaca", "/peringatan/semua-dibaca"):
        refused = client.post(url, data={"csrf_token": "forged"})
        assert refused.status_code == 400 and "Permintaan ditolak" in html_of(refused, 400)
    assert badge(html_of(client.get("/peringatan"))) == ("1 belum dibaca", "1")
    refused = client.post(f"/pengawasan/{tracking}/ambil-alih", data={"reason": "Diambil alih."})
    assert refused.status_code == 400
    assert supervision_actions(factory, tracking) == []

    done = client.post("/peringatan/semua-dibaca", data={"csrf_token": csrf(client)})
    assert done.status_code == 303
    assert badge(html_of(client.get("/peringatan"))) is None
    assert client.post("/peringatan/semua-dibaca").status_code == 400  # no token at all
    anonymous = app.test_client().post("/peringatan/semua-dibaca")
    assert anonymous.status_code == 302 and anonymous.location.startswith("/login")


def test_overdue_list_covers_the_supervised_tree_only(api: Api, app: Flask, factory: Any) -> None:
    hidden = escalated(api, factory, anonim=True)
    late = forwarded(api, day="04", anonim=False)  # due Friday: overdue, not yet escalated
    at("2026-02-07T10:00:00+07:00")
    client = app.test_client()
    sign_in_client(client, "diy")
    html = html_of(client.get("/pengawasan"))
    assert hidden in html and late in html
    assert "Tingkat 1" in html and "Belum dieskalasi" in html
    assert "Kabupaten Sleman" in html
    assert html.index(hidden) < html.index(late)  # longest overdue first
    only = html_of(client.get("/pengawasan?keadaan=escalated"))
    assert hidden in only and late not in only
    only = html_of(client.get("/pengawasan?keadaan=overdue"))
    assert late in only and hidden not in only
    assert hidden not in html_of(client.get("/pengawasan?tingkat=2"))
    assert hidden in html_of(client.get("/pengawasan?tingkat=" + "9" * 5000 + "&halaman=x"))
    assert hidden in html_of(client.get("/pengawasan?instansi=sleman"))
    assert hidden not in html_of(client.get("/pengawasan?instansi=Badung"))
    english = html_of(client.get("/pengawasan?lang=en"))
    assert "Overdue and escalated reports" in english and "Level 1" in english

    # the anonymous pelapor's identity is nowhere on the report page
    page = html_of(client.get(f"/pengawasan/{hidden}?lang=id"))
    assert "Anonim (identitas dirahasiakan)" in page
    for secret in ("Sentinel Pelapor", "sentinel@example.org", "0000 1111"):
        assert secret not in page
    assert "Riwayat eskalasi" in page and "Daerah Istimewa Yogyakarta" in page
    assert 'action="/pengawasan/' + hidden + '/alihkan"' in page
    named = html_of(client.get(f"/pengawasan/{late}"))
    assert "Sentinel Pelapor" in named and "/alihkan" not in named  # not escalated: no forms
    assert "Tindakan pengawas tersedia setelah" in named

    national = app.test_client()
    sign_in_client(national, "nasional")
    html = html_of(national.get("/pengawasan"))
    assert hidden in html and late in html

    ensure_user(factory, "sv.bali.pages", [("supervisor", "51", None)])
    bali = app.test_client()
    sign_in_client(bali, "sv.bali.pages")
    html = html_of(bali.get("/pengawasan"))
    assert hidden not in html and "Tidak ada tugas terlambat" in html
    html_of(bali.get(f"/pengawasan/{hidden}"), 404)
    token = csrf(bali)
    refused = bali.post(
        f"/pengawasan/{hidden}/ambil-alih", data={"csrf_token": token, "reason": "x"}
    )
    html_of(refused, 404)

    officer = app.test_client()
    sign_in_client(officer, "sleman.pu")
    assert "Akses ditolak" in html_of(officer.get("/pengawasan"), 403)
    html_of(officer.get(f"/pengawasan/{hidden}"), 403)
    anonymous = app.test_client().get("/pengawasan")
    assert anonymous.status_code == 302 and anonymous.location == "/login?next=/pengawasan"
    assert supervision_actions(factory, hidden) == []


def test_intervene_forms_show_errors_next_to_fields_in_both_languages(
    api: Api, app: Flask, factory: Any
) -> None:
    tracking = escalated(api, factory)
    client = app.test_client()
    sign_in_client(client, "diy")
    token = csrf(client)
    url = f"/pengawasan/{tracking}"

    form = {"csrf_token": token, "working_days": "99", "reason": "  "}
    html = html_of(client.post(f"{url}/tenggat", data=form), 422)
    assert 'id="err-reason-tenggat">Isi alasan, paling banyak 2000 karakter.' in html
    assert 'id="err-working_days-tenggat">Isi jumlah hari kerja dari 1 sampai 60.' in html
    assert 'value="99" required aria-invalid="true"' in html

    huge = {"csrf_token": token, "working_days": "9" * 5000, "reason": "x"}
    assert "err-working_days-tenggat" in html_of(client.post(f"{url}/tenggat", data=huge), 422)
    form = {"csrf_token": token, "working_days": "abc", "reason": "Survei lapangan."}
    html = html_of(client.post(f"{url}/tenggat?lang=en", data=form), 422)
    assert "Enter a number of working days from 1 to 60." in html
    assert ">Survei lapangan.</textarea>" in html and "err-reason-tenggat" not in html

    form = {"csrf_token": token, "target": "instansi:51.03", "reason": "Salah <alamat>."}
    html = html_of(client.post(f"{url}/alihkan", data=form), 403)
    assert 'id="err-target-alihkan">That agency is outside your supervision.' in html
    assert ">Salah &lt;alamat&gt;.</textarea>" in html

    form = {"csrf_token": token, "target": "unit:34.04-DINKES", "reason": "Dinas."}
    html = html_of(client.post(f"{url}/alihkan?lang=id", data=form), 409)
    assert 'id="err-target-alihkan">Tugas ini tidak dapat dipindah ke tujuan itu.' in html

    form = {"csrf_token": token, "target": "", "reason": ""}
    html = html_of(client.post(f"{url}/alihkan", data=form), 422)
    assert "err-target-alihkan" in html and "err-reason-alihkan" in html

    html = html_of(
        client.post(f"{url}/ingatkan", data={"csrf_token": token, "message": "x" * 2001}), 422
    )
    assert 'id="err-message-ingatkan">Pesan paling banyak 2000 karakter.' in html
    html = html_of(client.post(f"{url}/ambil-alih", data={"csrf_token": token}), 422)
    assert 'id="err-reason-ambil-alih">Isi alasan' in html
    assert supervision_actions(factory, tracking) == []


def test_interventions_are_audited_and_shown_on_the_timeline(
    api: Api, app: Flask, factory: Any
) -> None:
    tracking = escalated(api, factory)
    client = app.test_client()
    sign_in_client(client, "diy")
    token = csrf(client)
    url = f"/pengawasan/{tracking}"

    sent = client.post(f"{url}/ingatkan", data={"csrf_token": token, "message": "Mohon segera."})
    assert sent.status_code == 303 and sent.location == f"{url}?selesai=ingatkan"
    html = html_of(client.get(sent.location))
    assert "Pengingat sudah dikirim." in html and "Mohon segera." in html

    form = {"csrf_token": token, "working_days": "3", "reason": "Perlu survei."}
    assert client.post(f"{url}/tenggat", data=form).status_code == 303
    html = html_of(client.get(url))
    assert "11-02-2026 23:59 WIB" in html  # Mon, Tue, Wed after Friday
    assert "Batas waktu baru" in html and "Perlu survei." in html

    form = {"csrf_token": token, "reason": "Kabupaten tidak merespons."}
    assert client.post(f"{url}/ambil-alih", data=form).status_code == 303
    html = html_of(client.get(f"{url}?selesai=ambil-alih&lang=en"))
    assert "You have taken over the task." in html and "Supervisor DI Yogyakarta" in html
    assert supervision_actions(factory, tracking) == ["remind", "deadline", "take_over"]
    public = api.report(tracking)["timeline"]
    assert "supervision" not in {entry["kind"] for entry in public}


def test_a_supervisor_reassigns_an_overdue_report_at_phone_width(
    page: Any, live_server: Any, factory: Any
) -> None:
    with live_server.app.app_context():
        api = Api(lambda: nullcontext(live_server.app.test_client()))
        tracking = escalated(api, factory)
    clock.set_clock()  # back to the wall: the browser drops a session cookie expiring in 2026
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 360, "height": 780})
    sign_in(page, "diy", DEMO_PASSWORD)
    page.get_by_role("button", name="Keluar").wait_for()  # signed in
    header = page.get_by_role("navigation", name="Menu")
    alerts = header.get_by_role("link", name=re.compile(r"^Kotak peringatan"))
    assert alerts.locator(".badge").inner_text() == "1"
    alerts.click()
    page.wait_for_url("**/peringatan")
    assert page.get_by_text("Belum dibaca", exact=True).is_visible()
    page.screenshot(path=str(SCREENSHOTS / "supervisor-alerts-360.png"), full_page=True)

    page.get_by_role("button", name=f"Buka laporan {tracking}").click()
    page.wait_for_url(f"**/pengawasan/{tracking}")
    assert page.get_by_role("heading", name=f"Laporan {tracking}").is_visible()
    assert header.locator(".badge").count() == 0  # opened: read
    page.get_by_role("button", name="Alihkan laporan").click()  # nothing chosen yet
    assert page.locator("#err-target-alihkan").is_visible()
    page.get_by_label("Tujuan").select_option("instansi:34.71")
    page.get_by_label("Alasan").first.fill("Lokasi di Kota Yogyakarta.")
    page.get_by_role("button", name="Alihkan laporan").click()
    page.wait_for_url(f"**/pengawasan/{tracking}?selesai=alihkan")
    assert page.get_by_role("status").inner_text() == "Laporan sudah dialihkan."
    timeline = page.get_by_role("region", name="Linimasa")
    assert timeline.get_by_text("Lokasi di Kota Yogyakarta.").is_visible()
    # the new instansi's task was not escalated: no more forms, and a word why
    assert page.get_by_role("button", name="Alihkan laporan").count() == 0
    assert page.get_by_text("Tindakan pengawas tersedia setelah").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(SCREENSHOTS / "supervisor-report-360.png"), full_page=True)
    assert supervision_actions(factory, tracking) == ["reassign"]

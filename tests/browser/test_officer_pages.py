"""Officers' pages: the task inbox (order, SLA badges, filters, claim), the task page (report
without an anonymous pelapor's identity, timeline, form from the task's JSON Schema, errors
next to fields in Indonesian and English, internal notes), the national verification queue,
CSRF refusals and 404 for another instansi's task; then one journey in a real browser."""

from __future__ import annotations

import re
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from playwright.sync_api import expect
from sqlalchemy import select, update

from engine import clock
from engine.models import HumanTask, Report
from engine.seed.loader import DEMO_PASSWORD
from tests.browser.conftest import LiveServer, sign_in
from tests.browser.test_login_pages import csrf_of, sign_in_client
from tests.helpers import Api

WIB = timezone(timedelta(hours=7))
MONDAY = datetime(2026, 2, 2, 9, 0, tzinfo=WIB)  # a working Monday, no holiday that week
FORWARD = {"outcome": "forward", "target_instansi": "34.04"}
DISPOSE = {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"}


@pytest.fixture()
def api(app: Flask) -> Api:
    client = app.test_client()
    return Api(lambda: nullcontext(client))


def html_of(response: Any) -> str:
    return str(response.get_data(as_text=True))


def task_id(api: Api, username: str, tracking_id: str) -> int:
    return int(api.task_for(username, tracking_id)["id"])


def set_due(factory: Any, task: int, due: datetime) -> None:
    with factory() as s, s.begin():
        s.execute(update(HumanTask).where(HumanTask.id == task).values(due_at=due))


def follow_up_task(api: Api) -> tuple[str, int]:
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, FORWARD)
    api.complete("sleman", tracking, DISPOSE)
    return tracking, task_id(api, "sleman.pu", tracking)


def field_block(html: str, name: str) -> str:
    """The `<div class="field">` around the control named `name`."""
    for block in html.split('<div class="field')[1:]:
        if f'name="{name}"' in block:
            return block.split("</div>")[0]
    raise AssertionError(f"no field {name}")


# ---- inbox -----------------------------------------------------------------------------------


def test_inbox_sorts_by_due_time_with_sla_badges_and_filters(
    client: FlaskClient, api: Api, factory: Any
) -> None:
    clock.set_clock(MONDAY)
    on_time, overdue, due_soon = (api.file()["tracking_id"] for _ in range(3))
    ids = {t: task_id(api, "nasional", t) for t in (on_time, overdue, due_soon)}
    set_due(factory, ids[overdue], MONDAY - timedelta(hours=1))
    set_due(factory, ids[due_soon], MONDAY.replace(hour=20))

    sign_in_client(client, "nasional")
    html = html_of(client.get("/tugas"))
    assert html.index(overdue) < html.index(due_soon) < html.index(on_time)
    cards = {t: html[html.index(t) : html.index(t) + 1500] for t in ids}
    assert 'class="sla sla-overdue">Terlambat</span>' in cards[overdue]
    assert "lewat" in cards[overdue] and "hari kerja" in cards[overdue]
    assert 'class="sla sla-due_soon">Segera jatuh tempo</span>' in cards[due_soon]
    assert 'class="sla sla-on_time">Tepat waktu</span>' in cards[on_time]
    assert "sisa 3,6 hari kerja" in cards[on_time]  # Mon 09:00 to Thu 23:59 WIB
    assert f'href="/verifikasi/{ids[on_time]}"' in html  # verification opens the queue page
    assert '<a href="/tugas" aria-current="page">Kotak tugas' in html  # header link

    overdue_only = html_of(client.get("/tugas?state=overdue"))
    assert overdue in overdue_only and due_soon not in overdue_only and on_time not in overdue_only
    assert html_of(client.get("/tugas?milestone=disposition")).count("task-card") == 0
    assert "Tidak ada tugas yang cocok." in html_of(client.get("/tugas?milestone=disposition"))

    claimed = client.post(
        f"/tugas/{ids[due_soon]}/ambil", data={"csrf_token": csrf_of(client), "back": "inbox"}
    )
    assert claimed.status_code == 303 and claimed.location == "/tugas"
    mine = html_of(client.get("/tugas?who=mine"))
    assert due_soon in mine and overdue not in mine and "Diambil oleh Anda" in mine
    unclaimed = html_of(client.get("/tugas?who=unclaimed&state=bogus"))
    assert overdue in unclaimed and on_time in unclaimed and due_soon not in unclaimed

    english = html_of(client.get("/tugas?lang=en"))
    assert "Overdue" in english and "working days over" in english and "My tasks" in english
    assert '<a href="/tugas" aria-current="page">' in english


def test_officer_pages_need_an_officer_and_the_queue_a_national_admin(
    client: FlaskClient,
) -> None:
    assert client.get("/tugas").location == "/login?next=/tugas"
    sign_in_client(client, "sleman")
    assert client.get("/tugas").status_code == 200
    refused = client.get("/verifikasi")
    assert refused.status_code == 403 and "Akses ditolak" in html_of(refused)
    assert "/verifikasi" not in html_of(client.get("/tugas"))  # no header link either


# ---- form rendering --------------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {
        "outcome": {"title": "Keputusan", "type": "string", "enum": ["disposisi", "x"]},
        "grade": {"type": "string", "enum": ["a", "b", "c", "d", "e"]},
        "code": {"title": "Kode", "type": "string", "maxLength": 32},
        "story": {"title": "Uraian", "description": "Tulis lengkap.", "type": "string"},
        "count": {"title": "Jumlah", "type": "integer", "minimum": 1},
        "ratio": {"title": "Rasio", "type": "number"},
        "urgent": {"title": "Mendesak", "type": "boolean"},
    },
    "required": ["outcome", "story"],
    "additionalProperties": False,
}
MACRO = (
    '{% import "officer/macros.html" as m with context %}'
    "{% for f in fields %}{{ m.field_input(f) }}{% endfor %}"
)


def test_form_is_rendered_from_the_json_schema(app: Flask) -> None:
    from api.web.task_forms import form_fields

    with app.test_request_context("/tugas/1"):
        fields = form_fields(SCHEMA, {"count": "3", "urgent": True}, {"story": "Wajib diisi."})
        assert [(f.name, f.kind) for f in fields] == [
            ("outcome", "radios"),
            ("grade", "select"),
            ("code", "text"),
            ("story", "textarea"),
            ("count", "integer"),
            ("ratio", "number"),
            ("urgent", "checkbox"),
        ]
        html = render_template_string(MACRO, fields=fields)
    assert '<legend>Keputusan <span class="req">(wajib)</span></legend>' in html
    assert 'type="radio" name="outcome" value="disposisi" required> Disposisi ke unit kerja' in html
    assert '<select id="f-grade" name="grade"' in html and '<option value="e">e</option>' in html
    assert '<label for="f-grade">grade</label>' in html  # no title: the property name
    assert 'name="code" type="text" value="" maxlength="32"' in html
    story = field_block(html, "story")
    assert "<textarea" in story and "(wajib)" in story and 'aria-invalid="true"' in story
    assert '<p class="help" id="f-story-help">Tulis lengkap.</p>' in story
    assert '<p class="field-error" id="f-story-error">Wajib diisi.</p>' in story
    assert 'aria-describedby="f-story-help f-story-error"' in story
    assert 'type="number" step="1" value="3" min="1"' in field_block(html, "count")
    assert 'step="any"' in field_block(html, "ratio")
    assert 'type="checkbox" id="f-urgent" name="urgent" value="1" checked' in html


# ---- task page: errors, identity, notes, CSRF, 404 -------------------------------------------


def test_follow_up_errors_are_shown_next_to_fields_in_indonesian_and_english(
    client: FlaskClient, api: Api, factory: Any
) -> None:
    tracking, task = follow_up_task(api)
    sign_in_client(client, "sleman.pu")
    csrf = csrf_of(client, f"/tugas/{task}")
    page = html_of(client.get(f"/tugas/{task}"))
    assert "Tindak lanjut" in page and "Dinas Pekerjaan Umum" in page  # timeline: disposed

    empty = client.post(f"/tugas/{task}", data={"csrf_token": csrf, "tindak_lanjut": ""})
    assert empty.status_code == 422
    assert "Wajib diisi." in field_block(html_of(empty), "tindak_lanjut")

    short = client.post(f"/tugas/{task}", data={"csrf_token": csrf, "tindak_lanjut": "Sudah."})
    block = field_block(html_of(short), "tindak_lanjut")
    assert short.status_code == 422
    assert "Paling sedikit 10 karakter." in block and ">Sudah.</textarea>" in block

    english = client.post(
        f"/tugas/{task}?lang=en", data={"csrf_token": csrf, "tindak_lanjut": "Sudah."}
    )
    block = field_block(html_of(english), "tindak_lanjut")
    assert "At least 10 characters." in block and ">Sudah.</textarea>" in block
    assert "Description of the follow-up on the report." in block  # BPMN help text in English
    client.get("/tugas?lang=id")

    done = client.post(
        f"/tugas/{task}",
        data={"csrf_token": csrf, "tindak_lanjut": "Jalan sudah ditambal pada 3 Februari."},
    )
    assert done.status_code == 303 and done.location == f"/tugas?selesai={tracking}"
    assert f"Tugas untuk laporan {tracking} selesai." in html_of(client.get(done.location))
    with factory() as s:
        assert s.scalar(select(Report.status).where(Report.tracking_id == tracking)) == (
            "followed_up"
        )
    assert "Tugas ini sudah selesai." in html_of(client.get(f"/tugas/{task}"))


def test_disposition_offers_the_units_of_the_instansi_and_maps_service_errors(
    client: FlaskClient, api: Api
) -> None:
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, FORWARD)
    task = task_id(api, "sleman", tracking)
    sign_in_client(client, "sleman")
    html = html_of(client.get(f"/tugas/{task}"))
    assert '<option value="34.04-DPUPKP">' in field_block(html, "target_unit")
    csrf = csrf_of(client, f"/tugas/{task}")
    wrong = client.post(
        f"/tugas/{task}",
        data={"csrf_token": csrf, "outcome": "disposisi", "target_unit": "51.03-X"},
    )
    assert wrong.status_code == 422
    assert "Pilih unit kerja dari instansi ini." in field_block(html_of(wrong), "target_unit")
    assert 'value="disposisi" checked' in html_of(wrong)  # kept


def test_anonim_pelapor_identity_is_never_shown_to_officers(client: FlaskClient, api: Api) -> None:
    hidden = api.file(anonim=True)["tracking_id"]
    shown = api.file()["tracking_id"]
    verified = task_id(api, "nasional", hidden)
    api.complete("nasional", hidden, FORWARD)
    sign_in_client(client, "sleman")
    html = html_of(client.get(f"/tugas/{task_id(api, 'sleman', hidden)}"))
    assert "Anonim: identitas pelapor tidak ditampilkan." in html
    assert "Sentinel" not in html and "sentinel@example.org" not in html and "1111" not in html
    client.post("/logout", data={"csrf_token": csrf_of(client, "/tugas")})
    sign_in_client(client, "nasional")
    assert "Sentinel" not in html_of(client.get(f"/tugas/{verified}"))  # completed, still hidden
    visible = html_of(client.get(f"/verifikasi/{task_id(api, 'nasional', shown)}"))
    assert "Sentinel Pelapor" in visible  # a named pelapor's contact helps the officers


def test_internal_note_lands_on_the_timeline(client: FlaskClient, api: Api) -> None:
    tracking = api.file()["tracking_id"]
    task = task_id(api, "nasional", tracking)
    sign_in_client(client, "nasional")
    csrf = csrf_of(client, f"/tugas/{task}")
    empty = client.post(f"/tugas/{task}/catatan", data={"csrf_token": csrf, "text": "  "})
    assert empty.status_code == 422 and "Tulis catatan terlebih dahulu." in html_of(empty)
    saved = client.post(
        f"/tugas/{task}/catatan", data={"csrf_token": csrf, "text": "Cek foto lokasi dulu."}
    )
    assert saved.status_code == 303
    html = html_of(client.get(saved.location))
    assert "Catatan tersimpan." in html and "Catatan internal petugas" in html
    assert "Cek foto lokasi dulu." in html and "(nasional)" in html
    assert "Cek foto lokasi dulu." not in str(api.report(tracking))  # not public


def test_posts_without_the_form_token_are_refused(
    client: FlaskClient, api: Api, factory: Any
) -> None:
    tracking = api.file()["tracking_id"]
    task = task_id(api, "nasional", tracking)
    sign_in_client(client, "nasional")
    for path, data in (
        (f"/tugas/{task}/ambil", {}),
        (f"/tugas/{task}", {"outcome": "arsipkan", "reason": "duplikat"}),
        (f"/tugas/{task}/catatan", {"text": "catatan"}),
        (f"/verifikasi/{task}", {"outcome": "arsipkan", "reason": "duplikat"}),
    ):
        refused = client.post(path, data={**data, "csrf_token": "forged"})
        assert refused.status_code == 400, path
        assert "Token keamanan formulir tidak cocok" in html_of(refused)
    with factory() as s:
        row = s.get(HumanTask, task)
        assert row is not None and row.status == "open" and row.assignee_id is None
        assert [t.kind for t in s.scalar(select(Report)).timeline] == ["filed"]


def test_another_instansis_task_is_a_404_page(client: FlaskClient, api: Api) -> None:
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, FORWARD)
    task = task_id(api, "sleman", tracking)
    sign_in_client(client, "badung")
    csrf = csrf_of(client, "/tugas")
    assert tracking not in html_of(client.get("/tugas"))
    for response in (
        client.get(f"/tugas/{task}"),
        client.get("/tugas/99999999"),
        client.post(f"/tugas/{task}/ambil", data={"csrf_token": csrf}),
        client.post(f"/tugas/{task}", data={"csrf_token": csrf, "outcome": "disposisi"}),
        client.post(f"/tugas/{task}/catatan", data={"csrf_token": csrf, "text": "x"}),
    ):
        assert response.status_code == 404
        assert "Tugas tidak ditemukan" in html_of(response) and tracking not in html_of(response)


# ---- the verification queue ------------------------------------------------------------------


def test_verification_outcomes_with_errors_next_to_their_fields(
    client: FlaskClient, api: Api, factory: Any
) -> None:
    held, archived = api.file(target_instansi=None)["tracking_id"], api.file()["tracking_id"]
    sign_in_client(client, "nasional")
    queue = html_of(client.get("/verifikasi"))
    assert held in queue and archived in queue and "Antrean verifikasi" in queue
    task = task_id(api, "nasional", held)
    csrf = csrf_of(client, f"/verifikasi/{task}")

    page = html_of(client.get(f"/verifikasi/{task}"))
    assert "Cari instansi terlebih dahulu" in page  # the pelapor chose no instansi
    found = html_of(client.get(f"/verifikasi/{task}?q=sleman"))
    assert 'name="target_instansi" value="34.04"' in found and "Kabupaten Sleman" in found
    nothing = html_of(client.get(f"/verifikasi/{task}?q=tidakadaxyz"))
    assert "Tidak ada instansi yang cocok." in nothing

    forward = client.post(f"/verifikasi/{task}", data={"csrf_token": csrf, "outcome": "forward"})
    assert forward.status_code == 422
    assert 'id="target-error">Pilih instansi tujuan yang terdaftar.' in html_of(forward)
    tunda = client.post(
        f"/verifikasi/{task}?lang=en", data={"csrf_token": csrf, "outcome": "tunda"}
    )
    assert 'id="tunda-error">A reason is required for this decision.' in html_of(tunda)
    assert 'id="arsipkan-error"' not in html_of(tunda)
    client.get("/tugas?lang=id")

    ok = client.post(
        f"/verifikasi/{task}",
        data={"csrf_token": csrf, "outcome": "tunda", "reason": "Mohon lampirkan foto lokasi."},
    )
    assert ok.status_code == 303 and ok.location == f"/verifikasi?selesai={held}"
    after = html_of(client.get(ok.location))
    assert f"Laporan {held} sudah diverifikasi." in after and f"{held}</span>" not in after
    other = task_id(api, "nasional", archived)
    done = client.post(
        f"/verifikasi/{other}",
        data={"csrf_token": csrf, "outcome": "arsipkan", "reason": "Duplikat laporan lain."},
    )
    assert done.status_code == 303
    with factory() as s:
        statuses = dict(s.execute(select(Report.tracking_id, Report.status)).all())
    assert statuses == {held: "on_hold", archived: "archived"}


# ---- the whole officer story in a real browser -----------------------------------------------


def sign_in_to(tab: Any, username: str, path: str) -> None:
    sign_in(tab, username, DEMO_PASSWORD)
    tab.goto(path)


def test_officers_verify_dispose_and_follow_up_in_a_browser(
    page: Any, live_server: LiveServer, factory: Any
) -> None:
    client = live_server.app.test_client()
    tracking = Api(lambda: nullcontext(client)).file(target_instansi=None)["tracking_id"]
    page.set_viewport_size({"width": 1280, "height": 900})

    sign_in_to(page, "nasional", "/verifikasi")
    page.get_by_role("link", name="Verifikasi laporan").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Verifikasi laporan {tracking}")
    page.get_by_label("Cari instansi (nama, daerah, atau kode)").fill("sleman")
    page.get_by_role("button", name="Cari", exact=True).click()
    page.get_by_role("radio", name=re.compile("Kabupaten Sleman")).check()
    page.get_by_role("button", name="Teruskan", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(f"Laporan {tracking} sudah diverifikasi.")
    page.get_by_role("button", name="Keluar").click()

    sign_in_to(page, "sleman", "/tugas")
    page.get_by_role("link", name="Telaah dan disposisi").click()
    expect(page.locator(".report")).to_contain_text(tracking)
    page.get_by_role("radio", name="Disposisi ke unit kerja").check()
    page.get_by_label("Unit tujuan").select_option("34.04-DPUPKP")
    page.get_by_role("button", name="Selesaikan tugas").click()
    expect(page.get_by_role("status")).to_have_text(f"Tugas untuk laporan {tracking} selesai.")
    page.get_by_role("button", name="Keluar").click()

    sign_in_to(page, "sleman.pu", "/tugas")
    page.get_by_role("button", name=f"Ambil {tracking}").click()
    expect(page.locator(".task-card")).to_contain_text("Diambil oleh Anda")
    page.get_by_role("link", name="Tindak lanjut").click()
    page.get_by_role("textbox", name=re.compile("Tindak lanjut")).fill(
        "Lubang jalan sudah ditambal hari ini."
    )
    page.get_by_role("button", name="Selesaikan tugas").click()
    expect(page.get_by_role("status")).to_have_text(f"Tugas untuk laporan {tracking} selesai.")
    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking))
        assert report is not None and report.status == "followed_up"
        assert [t.kind for t in report.timeline] == ["filed", "forwarded", "disposed", "follow_up"]

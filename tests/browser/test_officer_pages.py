"""Officers' pages: the task inbox (order, SLA badges, filters, claim), the task page (report
without an anonymous pelapor's identity, timeline, form from the task's JSON Schema, errors
next to fields in Indonesian and English, internal notes, attachments, redactions of the public
text), times in the officer's own time zone, the national verification queue, CSRF refusals and
404 for another instansi's task; then journeys in a real browser."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from PIL import Image
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
TO_BADUNG = {"outcome": "forward", "target_instansi": "51.03"}  # Bali: WITA
SECRET_NAME = "Budi Santoso"


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


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def attach(client: FlaskClient, filed: dict[str, Any], name: str) -> int:
    """The pelapor attaches a PNG named `name`; its id."""
    response = client.post(
        f"/api/v1/reports/{filed['tracking_id']}/attachments",
        data={"secret": filed["secret"], "file": (io.BytesIO(png()), name, "image/png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


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
        (f"/tugas/{task}/samarkan", {"phrase": "Sentinel"}),
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
        client.post(f"/tugas/{task}/samarkan", data={"csrf_token": csrf, "phrase": "Jalan"}),
    ):
        assert response.status_code == 404
        assert "Tugas tidak ditemukan" in html_of(response) and tracking not in html_of(response)


# ---- times in the officer's time zone --------------------------------------------------------


def test_times_are_shown_in_the_time_zone_of_the_officers_instansi(
    client: FlaskClient, api: Api
) -> None:
    clock.set_clock(MONDAY)  # 09:00 WIB is 10:00 WITA in Bali
    tracking = api.file(region_code="51.03", target_instansi="51.03")["tracking_id"]
    verified = task_id(api, "nasional", tracking)
    api.complete("nasional", tracking, TO_BADUNG)
    task = task_id(api, "badung", tracking)

    sign_in_client(client, "badung")
    inbox = html_of(client.get("/tugas"))
    card = inbox[inbox.index(tracking) : inbox.index(tracking) + 1500]
    assert re.search(r"Tenggat: <time datetime=\"[^\"]+\">\d+ \w+ 2026 23:59 WITA</time>", card)
    assert "WIB" not in inbox
    page = html_of(client.get(f"/tugas/{task}"))
    assert "<dd>2 Feb 2026 10:00 WITA</dd>" in page  # received: the report's filing
    assert "WIB" not in page
    assert "2 Feb 2026 10:00 WITA" in html_of(client.get(f"/tugas/{task}?lang=en"))
    client.get("/tugas?lang=id")

    client.post("/logout", data={"csrf_token": csrf_of(client, "/tugas")})
    sign_in_client(client, "nasional")  # a national admin reads the same moment in WIB
    assert "<dd>2 Feb 2026 09:00 WIB</dd>" in html_of(client.get(f"/tugas/{verified}"))


# ---- attachments and redactions on the task page ---------------------------------------------


def test_task_page_lists_attachments_with_safe_download_links(
    make_app: Callable[..., Flask], database_url: str, tmp_path: Path
) -> None:
    app = make_app(database_url, ATTACHMENT_DIR=str(tmp_path / "lampiran"))
    pelapor, client = app.test_client(), app.test_client()
    api = Api(lambda: nullcontext(pelapor))
    named, hidden = api.file(), api.file(anonim=True)
    photo = attach(pelapor, named, "foto-jalan.png")
    secret_name = attach(pelapor, hidden, "ktp-budi.png")
    bare = api.file()
    for filed in (named, hidden, bare):
        api.complete("nasional", filed["tracking_id"], FORWARD)

    sign_in_client(client, "sleman")
    page = html_of(client.get(f"/tugas/{task_id(api, 'sleman', named['tracking_id'])}"))
    files = page[page.index('id="files-title"') : page.index('id="timeline-title"')]
    assert f'<a href="/api/v1/attachments/{photo}" download>foto-jalan.png' in files
    assert re.search(r'<span class="meta">PNG · \d+ B</span>', files)
    assert "Berkas selalu diunduh, tidak dibuka di peramban." in files
    download = client.get(f"/api/v1/attachments/{photo}")
    assert download.status_code == 200 and download.mimetype == "image/png"
    assert download.headers["Content-Disposition"] == f'attachment; filename="lampiran-{photo}.png"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.data.startswith(b"\x89PNG")

    anonim = html_of(client.get(f"/tugas/{task_id(api, 'sleman', hidden['tracking_id'])}"))
    assert f'href="/api/v1/attachments/{secret_name}" download>Berkas 1<' in anonim
    assert "ktp-budi" not in anonim and "nama asli berkas tidak ditampilkan" in anonim
    english = html_of(client.get(f"/tugas/{task_id(api, 'sleman', bare['tracking_id'])}?lang=en"))
    assert "This report has no attachments." in english and "Attachments of the report" in english
    client.get("/tugas?lang=id")

    client.post("/logout", data={"csrf_token": csrf_of(client, "/tugas")})
    sign_in_client(client, "badung")  # another instansi: no page, no file
    assert client.get(f"/api/v1/attachments/{photo}").status_code == 404


def test_redacting_a_phrase_hides_it_in_public_with_errors_next_to_the_field(
    client: FlaskClient, api: Api, factory: Any
) -> None:
    body = f"Jalan berlubang di depan rumah {SECRET_NAME}, RT 03, sejak Januari."
    tracking = api.file(body=body)["tracking_id"]
    api.complete("nasional", tracking, FORWARD)  # verified: published in the feed
    task = task_id(api, "sleman", tracking)
    sign_in_client(client, "sleman")
    csrf = csrf_of(client, f"/tugas/{task}")
    page = html_of(client.get(f"/tugas/{task}"))
    assert 'id="redact-title">Samarkan teks publik' in page and SECRET_NAME in page

    empty = client.post(f"/tugas/{task}/samarkan", data={"csrf_token": csrf, "phrase": "  "})
    assert empty.status_code == 422
    block = field_block(html_of(empty), "phrase")
    assert 'id="phrase-error">Tulis kata atau frasa yang akan disamarkan.' in block
    assert 'aria-describedby="phrase-help phrase-error" aria-invalid="true"' in block
    short = client.post(f"/tugas/{task}/samarkan", data={"csrf_token": csrf, "phrase": "B"})
    block = field_block(html_of(short), "phrase")
    assert short.status_code == 422
    assert "Frasa harus 2 sampai 200 karakter." in block and 'value="B"' in block
    english = client.post(
        f"/tugas/{task}/samarkan?lang=en", data={"csrf_token": csrf, "phrase": "x" * 201}
    )
    assert "A phrase has 2 to 200 characters." in field_block(html_of(english), "phrase")
    client.get("/tugas?lang=id")
    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking))
        assert report is not None
        assert "redaction" not in [t.kind for t in report.timeline]  # nothing stored if refused

    done = client.post(
        f"/tugas/{task}/samarkan", data={"csrf_token": csrf, "phrase": "  budi   SANTOSO "}
    )
    assert done.status_code == 303 and done.location == f"/tugas/{task}?ok=samar#samarkan"
    after = html_of(client.get(done.location))
    assert "Frasa disamarkan di semua tampilan publik." in after
    assert "<li>budi SANTOSO</li>" in after
    preview = after[after.index('class="report-body public-body"') :]
    preview = preview[: preview.index("</div>")]
    assert "rumah [disamarkan], RT 03" in preview and SECRET_NAME not in preview
    assert "Frasa disamarkan dari tampilan publik" in after  # on the timeline, internal
    public = client.get(f"/api/v1/public/reports/{tracking}").get_json()
    assert "rumah [disamarkan], RT 03" in public["body"] and SECRET_NAME not in str(public)


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


def test_officer_downloads_an_attachment_and_redacts_a_phrase_in_a_browser(
    page: Any, live_server: LiveServer
) -> None:
    client = live_server.app.test_client()
    api = Api(lambda: nullcontext(client))
    filed = api.file(body=f"Jalan berlubang di depan rumah {SECRET_NAME} sejak Januari.")
    photo = attach(client, filed, "foto-jalan.png")
    api.complete("nasional", filed["tracking_id"], FORWARD)
    task = task_id(api, "sleman", filed["tracking_id"])
    page.set_viewport_size({"width": 1280, "height": 900})

    sign_in_to(page, "sleman", f"/tugas/{task}")
    files = page.locator("#lampiran")
    expect(files).to_contain_text("foto-jalan.png")
    expect(files).to_contain_text("PNG")
    with page.expect_download() as waiting:
        files.get_by_role("link", name=re.compile("foto-jalan.png")).click()
    assert waiting.value.suggested_filename == f"lampiran-{photo}.png"

    phrase = page.get_by_label("Kata atau frasa yang disamarkan")
    page.get_by_role("button", name="Samarkan", exact=True).click()
    expect(page.locator("#phrase-error")).to_have_text(
        "Tulis kata atau frasa yang akan disamarkan."
    )
    expect(phrase).to_have_attribute("aria-invalid", "true")
    phrase.fill(SECRET_NAME)
    page.get_by_role("button", name="Samarkan", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Frasa disamarkan di semua tampilan publik.")
    expect(page.locator(".public-body")).to_contain_text("rumah [disamarkan] sejak")
    expect(page.locator(".public-body")).not_to_contain_text(SECRET_NAME)
    expect(page.locator(".phrases")).to_have_text(SECRET_NAME)

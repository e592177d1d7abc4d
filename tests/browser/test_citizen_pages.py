"""Citizen (pelapor) pages: filing with field errors in both languages and nothing lost, the
no-JavaScript region and instansi steps, CSRF refusal, the status page (rahasia needs the secret,
unknown numbers get a 404 page), replying on tunda, rating, re-sending links, the pelapor
deleting their GESI answers (nobody else can); then the whole story in a real browser on a
360 px phone."""

from __future__ import annotations

import io
import re
from contextlib import nullcontext
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect
from sqlalchemy import func, select

from engine.models import Report
from sla.models import OutboxMessage
from tests.browser.conftest import LiveServer
from tests.helpers import REPORT, Api

FORWARD = {"outcome": "forward", "target_instansi": "34.04"}
DISPOSE = {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"}
FOLLOW_UP = {"tindak_lanjut": "Lubang sudah ditambal pada hari Kamis."}
GOOD = {
    "classification": "pengaduan",
    "category": "infrastruktur",
    "title": "Jalan berlubang di depan Pasar Gentan",
    "body": "Lubang besar di tengah jalan sejak bulan lalu, sudah dua pengendara jatuh.",
    "province": "34",
    "regency": "34.04",
    "target_instansi": "34.04",
    "pelapor_email": "warga@example.org",
    "action": "kirim",
}


@pytest.fixture()
def api(app: Flask) -> Api:
    client = app.test_client()
    return Api(lambda: nullcontext(client))


def csrf(client: FlaskClient, path: str = "/lapor") -> str:
    """GET a citizen form: its hidden token (the double-submit cookie is now set)."""
    response = client.get(path)
    assert response.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert found
    return found.group(1)


def error_next_to(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]+)</p>', html)
    assert found, f"no error shown for {field}"
    return found.group(1)


def count_reports(factory: Any) -> int:
    with factory() as s:
        return int(s.scalar(select(func.count()).select_from(Report)) or 0)


def file_via_form(client: FlaskClient, **overrides: str) -> tuple[str, str]:
    data = {**GOOD, "csrf_token": csrf(client), **overrides}
    response = client.post("/lapor", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    found = re.fullmatch(r"/lapor/([A-Z0-9]{10})/terkirim\?secret=(.+)", response.location)
    assert found, response.location
    return found.group(1), found.group(2)


def test_home_and_form_in_indonesian(client: FlaskClient) -> None:
    home = client.get("/").get_data(as_text=True)
    assert '<html lang="id">' in home and "Buat laporan" in home and 'href="/lacak"' in home
    response = client.get("/lapor")
    html = response.get_data(as_text=True)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Saran atau usulan untuk memperbaiki pelayanan publik." in html
    assert "Saya tidak tahu: biarkan admin nasional yang meneruskan" in html
    assert '<option value="34">Daerah Istimewa Yogyakarta</option>' in html
    assert "Laporan tidak dipublikasikan." in html and "<script" in html
    assert re.search(r"<script[^>]*>\s*</script>", html)  # no inline script (CSP)
    assert 'href="/lapor" aria-current="page"' in html  # header nav link


def test_field_errors_next_to_fields_and_nothing_lost(client: FlaskClient, factory: Any) -> None:
    token = csrf(client)
    data = {
        **GOOD,
        "csrf_token": token,
        "classification": "",
        "title": "Jal",
        "pelapor_email": "bukan-email",
        "pelapor_phone": "abc",
        "anonim": "on",
    }
    response = client.post("/lapor", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error_next_to(html, "classification") == "Wajib diisi."
    assert error_next_to(html, "title") == "Terlalu pendek: paling sedikit 5 karakter."
    assert error_next_to(html, "pelapor_email") == "Alamat email tidak valid."
    assert error_next_to(html, "pelapor_phone").startswith("Nomor telepon tidak valid")
    assert 'aria-describedby="title-hint title-error" aria-invalid="true"' in html
    # nothing typed is lost
    assert 'value="Jal"' in html and GOOD["body"] in html and 'value="bukan-email"' in html
    assert 'id="anonim" name="anonim" aria-describedby="anonim-hint" checked' in html
    assert '<option value="34.04" selected>Kabupaten Sleman</option>' in html
    assert 'value="34.04" checked>' in html  # the chosen instansi stays chosen
    assert count_reports(factory) == 0


def test_field_errors_in_english(client: FlaskClient) -> None:
    token = csrf(client, "/lapor?lang=en")
    body = "x" * 20001
    data = {**GOOD, "csrf_token": token, "category": "", "body": body, "province": ""}
    html = client.post("/lapor", data=data).get_data(as_text=True)
    assert '<html lang="en">' in html and "File a report" in html
    assert error_next_to(html, "category") == "Required."
    assert error_next_to(html, "body") == "Too long: at most 20000 characters."
    assert error_next_to(html, "province") == "Required."
    assert "Check the fields marked below." in html


def test_a_post_without_the_form_token_is_refused(client: FlaskClient, factory: Any) -> None:
    csrf(client)
    response = client.post("/lapor", data={**GOOD, "csrf_token": "forged" * 8})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Formulir sudah kedaluwarsa" in html and f'value="{GOOD["title"]}"' in html
    fresh = client.application.test_client()  # no cookie at all
    assert fresh.post("/lapor", data={**GOOD, "csrf_token": "x" * 43}).status_code == 400
    assert count_reports(factory) == 0


def test_regencies_and_instansi_search_work_without_javascript(client: FlaskClient) -> None:
    token = csrf(client)
    step = {
        "csrf_token": token,
        "province": "34",
        "title": "Judul tetap",
        "action": "pilih_wilayah",
    }
    html = client.post("/lapor", data=step).get_data(as_text=True)
    assert '<option value="34.04">Kabupaten Sleman</option>' in html
    assert 'value="Judul tetap"' in html and "field-error" not in html
    search = {**step, "regency": "34.04", "instansi_q": "sleman", "action": "cari_instansi"}
    html = client.post("/lapor", data=search).get_data(as_text=True)
    assert re.search(r'value="34.04">\s*<label for="target-1">Kabupaten Sleman<', html)
    none = client.post("/lapor", data={**search, "instansi_q": "zzzz tidak ada"})
    assert "Tidak ada instansi yang cocok" in none.get_data(as_text=True)


def test_filed_page_shows_number_and_secret_link(client: FlaskClient, factory: Any) -> None:
    tracking, secret = file_via_form(client, rahasia="on")
    html = client.get(f"/lapor/{tracking}/terkirim?secret={secret}").get_data(as_text=True)
    assert f'id="tracking-number">{tracking}<' in html
    assert f"http://localhost/lapor/{tracking}?secret={secret}" in html
    assert "Salin tautan" in html
    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking))
        assert report is not None and report.rahasia and not report.anonim
        assert report.region_code == "34.04" and report.pelapor_email == "warga@example.org"
    assert client.get(f"/lapor/{tracking}/terkirim").status_code == 404
    assert client.get(f"/lapor/{tracking}/terkirim?secret=salah123").status_code == 404


def test_rahasia_status_page_needs_the_secret(client: FlaskClient) -> None:
    tracking, secret = file_via_form(client, rahasia="on")
    hidden = client.get(f"/lapor/{tracking}")
    assert hidden.status_code == 404 and GOOD["title"] not in hidden.get_data(as_text=True)
    assert "Laporan tidak ditemukan" in hidden.get_data(as_text=True)
    tracked = client.get(f"/lacak?tracking_id={tracking.lower()}")
    assert tracked.status_code == 404
    assert "Laporan rahasia hanya terbuka" in error_next_to(
        tracked.get_data(as_text=True), "tracking_id"
    )
    opened = client.get(f"/lapor/{tracking}?secret={secret}")
    html = opened.get_data(as_text=True)
    assert opened.status_code == 200 and GOOD["title"] in html and "Laporan diterima" in html
    assert "Menunggu" not in html and "Kabupaten Sleman" in html
    with_secret = client.get(f"/lacak?tracking_id={tracking}&secret={secret}")
    assert with_secret.status_code == 303
    assert with_secret.location == f"/lapor/{tracking}?secret={secret}"


def test_unknown_tracking_numbers_get_a_404_page(client: FlaskClient) -> None:
    response = client.get("/lapor/ABCDEFGHJK")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "Laporan tidak ditemukan" in response.get_data(as_text=True)
    assert client.get("/lapor/x%00y").status_code == 404
    short = client.get("/lacak?tracking_id=abc").get_data(as_text=True)
    assert "10 huruf dan angka" in error_next_to(short, "tracking_id")
    english = client.get("/lapor/ABCDEFGHJK?lang=en").get_data(as_text=True)
    assert "Report not found" in english


def test_reply_on_tunda_from_the_status_page(client: FlaskClient, api: Api) -> None:
    filed = api.file(target_instansi=None)
    tracking, secret = filed["tracking_id"], filed["secret"]
    api.complete("nasional", tracking, {"outcome": "tunda", "reason": "Di kecamatan mana?"})
    public = client.get(f"/lapor/{tracking}").get_data(as_text=True)
    assert "Di kecamatan mana?" in public and "Kirim informasi" not in public
    page = client.get(f"/lapor/{tracking}?secret={secret}").get_data(as_text=True)
    assert "Petugas meminta informasi tambahan" in page and "Kirim informasi" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"csrf_token": token, "secret": secret, "kind": "info", "text": " "}
    empty = client.post(f"/lapor/{tracking}/balas", data=form)
    assert empty.status_code == 422
    assert error_next_to(empty.get_data(as_text=True), "text") == "Wajib diisi."
    forged = client.post(f"/lapor/{tracking}/balas", data={**form, "csrf_token": "no"})
    assert forged.status_code == 400
    wrong = {**form, "secret": "bukan-rahasia", "text": "Ngaglik"}
    assert client.post(f"/lapor/{tracking}/balas", data=wrong).status_code == 404
    sent = client.post(f"/lapor/{tracking}/balas", data={**form, "text": "Kecamatan Ngaglik."})
    assert sent.status_code == 303 and sent.location.endswith("&done=info")
    html = client.get(sent.location).get_data(as_text=True)
    assert "Informasi tambahan Anda sudah terkirim." in html
    assert "Anda mengirim informasi tambahan" in html and "Kecamatan Ngaglik." in html
    assert api.report(tracking)["status"] == "pending_verification"


def test_tidak_puas_needs_a_reason_and_reopens_once(client: FlaskClient, api: Api) -> None:
    filed = api.file(**{**REPORT, "anonim": True})
    tracking, secret = filed["tracking_id"], filed["secret"]
    for user, data in (("nasional", FORWARD), ("sleman", DISPOSE), ("sleman.pu", FOLLOW_UP)):
        api.complete(user, tracking, data)
    token = csrf(client)
    form = {"csrf_token": token, "secret": secret, "kind": "rating", "satisfied": "tidak_puas"}
    response = client.post(f"/lapor/{tracking}/balas", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error_next_to(html, "text") == "Tuliskan alasan Anda tidak puas."
    assert error_next_to(html, "rating") == "Pilih nilai 1 sampai 5."
    assert 'value="tidak_puas" checked' in html
    assert "dibuka kembali untuk ditindaklanjuti lagi (hanya satu kali)" in html
    reason = {**form, "rating": "2", "text": "Masih berlubang."}
    assert client.post(f"/lapor/{tracking}/balas", data=reason).status_code == 303
    assert api.report(tracking)["status"] == "reopened"
    html = client.get(f"/lapor/{tracking}?secret={secret}").get_data(as_text=True)
    assert "Dibuka kembali karena pelapor tidak puas" in html and "Nilai tindak lanjut" not in html
    assert REPORT["pelapor_name"] not in html  # anonim: no identity on the page


def test_resend_links_answers_the_same_and_checks_the_address(
    client: FlaskClient, factory: Any
) -> None:
    file_via_form(client)
    token = csrf(client, "/lacak/kirim-ulang")
    bad = client.post("/lacak/kirim-ulang", data={"csrf_token": token, "email": "warga@"})
    assert bad.status_code == 422
    assert error_next_to(bad.get_data(as_text=True), "email") == "Alamat email tidak valid."
    assert 'value="warga@"' in bad.get_data(as_text=True)
    for email in ("warga@example.org", "orang.lain@example.org"):
        sent = client.post("/lacak/kirim-ulang", data={"csrf_token": token, "email": email})
        assert sent.status_code == 200
        assert "Jika alamat ini tercatat pada laporan" in sent.get_data(as_text=True)
    with factory() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.event_id.startswith("resend-")))
        assert [row.recipient for row in rows] == ["warga@example.org"]


@pytest.fixture()
def live_api(live_server: LiveServer) -> Api:
    client = live_server.app.test_client()
    return Api(lambda: nullcontext(client))


def test_citizen_files_tracks_and_rates_on_a_phone(page: Any, live_api: Api) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/")
    page.get_by_role("link", name="Buat laporan").click()
    page.get_by_label("Pengaduan").check()
    page.get_by_label("Kategori").select_option("infrastruktur")
    page.get_by_label("Judul laporan").fill(GOOD["title"])
    page.get_by_label("Isi laporan").fill(GOOD["body"])
    page.get_by_label("Provinsi").select_option("34")  # regencies arrive without a reload
    page.locator("#regency option[value='34.04']").wait_for(state="attached")
    page.get_by_label("Kabupaten/kota").select_option("34.04")
    page.get_by_label("Cari instansi").fill("sleman")
    page.get_by_role("button", name="Cari instansi").click()
    page.get_by_label("Kabupaten Sleman", exact=True).check()
    page.get_by_label("Anonim").check()
    page.get_by_label("Alamat email").fill("warga@example.org")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    page.get_by_role("button", name="Kirim laporan").click()

    page.wait_for_url(re.compile(r"/terkirim\?secret="))
    tracking = page.locator("#tracking-number").inner_text()
    copy = page.get_by_role("button", name="Salin tautan")
    assert copy.is_visible()
    copy.click()
    expect(page.get_by_role("status")).to_have_text("Tautan disalin.")
    link = page.get_by_label("Tautan rahasia untuk melihat status dan membalas").input_value()
    assert page.evaluate("navigator.clipboard.readText()") == link

    live_api.complete("nasional", tracking, FORWARD)
    live_api.complete("sleman", tracking, DISPOSE)
    live_api.complete("sleman.pu", tracking, FOLLOW_UP)

    page.goto(link)
    steps = page.locator("ol.steps li")
    assert steps.count() == 5
    assert "Diverifikasi" in steps.nth(1).inner_text() and "WIB" in steps.nth(1).inner_text()
    assert page.locator("ol.steps li[aria-current=step]").inner_text().startswith("Selesai")
    assert page.get_by_text(FOLLOW_UP["tindak_lanjut"]).first.is_visible()
    assert page.get_by_text("Diteruskan ke Dinas Pekerjaan Umum").is_visible()
    page.get_by_label("Puas: laporan selesai").check()
    page.get_by_label("5", exact=True).check()
    page.get_by_label("Alasan atau komentar").fill("Terima kasih, cepat sekali.")
    page.get_by_role("button", name="Kirim penilaian").click()
    page.wait_for_url(re.compile(r"done=rating"))
    expect(page.get_by_role("status")).to_have_text("Terima kasih atas penilaian Anda.")
    assert page.get_by_text("Penilaian pelapor: puas (5 dari 5)").is_visible()
    assert "Laporan selesai" in page.locator("ol.history").inner_text()
    assert live_api.report(tracking)["status"] == "closed"


# --- attachments and the optional GESI questions (no JavaScript needed) ----------------------


@pytest.fixture()
def files_client(make_app: Any, database_url: str, tmp_path: Any) -> FlaskClient:
    """A client of an app whose attachments go to a temporary folder."""
    app = make_app(database_url, ATTACHMENT_DIR=str(tmp_path / "attachments"))
    client: FlaskClient = app.test_client()
    return client


def photo_with_gps() -> bytes:
    from PIL import ExifTags, Image

    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] = "S"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = (7.0, 43.0, 12.5)
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "gray").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_form_asks_gesi_as_optional_and_takes_attachments(client: FlaskClient) -> None:
    html = client.get("/lapor").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert re.search(r'<input id="lampiran" name="lampiran" type="file" multiple', html)
    assert "Lokasi GPS dan data lain yang tersimpan di dalam foto dihapus otomatis." in html
    assert "Tentang Anda (tidak wajib)" in html and "hanya dipakai untuk statistik" in html
    for name, question in (
        ("gender", "Jenis kelamin"),
        ("disability", "Disabilitas"),
        ("vulnerable_group", "Kelompok rentan"),
    ):
        assert f'<label for="{name}">{question} (tidak wajib)</label>' in html
    english = client.get("/lapor?lang=en").get_data(as_text=True)
    assert "About you (optional)" in english and "Prefer not to say" in english


def test_filing_with_attachments_and_gesi(files_client: FlaskClient, factory: Any) -> None:
    from PIL import Image

    from engine.models import Attachment

    data = {
        **GOOD,
        "csrf_token": csrf(files_client),
        "gender": "perempuan",
        "vulnerable_group": "lansia",
        "gesi_consent": "on",
        "lampiran": [
            (io.BytesIO(photo_with_gps()), "jalan.jpg", "image/jpeg"),
            (io.BytesIO(PDF), "surat.pdf", "application/pdf"),
            (io.BytesIO(b""), "", "application/octet-stream"),  # an empty file input
        ],
    }
    response = files_client.post("/lapor", data=data, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    found = re.fullmatch(r"/lapor/([A-Z0-9]{10})/terkirim\?secret=(.+)", response.location)
    assert found
    tracking, secret = found.groups()
    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking))
        assert report is not None
        assert (report.gender, report.disability, report.vulnerable_group) == (
            "perempuan",
            None,
            "lansia",
        )
        names = s.scalars(select(Attachment.original_name).where(Attachment.report_id == report.id))
        assert sorted(names) == ["jalan.jpg", "surat.pdf"]

    status = files_client.get(f"/lapor/{tracking}?secret={secret}").get_data(as_text=True)
    assert "perempuan" not in status and "lansia" not in status
    links = re.findall(
        r'<a href="(/api/v1/attachments/\d+\?secret=[^"]+)" download>([^<]+)</a>', status
    )
    assert [name for _link, name in links] == ["jalan.jpg", "surat.pdf"]
    photo = files_client.get(links[0][0].replace("&amp;", "&"))
    assert photo.status_code == 200 and photo.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(photo.data)) as image:
        assert not image.getexif().get_ifd(0x8825) and "exif" not in image.info
    public = files_client.get(f"/lapor/{tracking}").get_data(as_text=True)
    assert "/api/v1/attachments/" not in public  # the list is for the pelapor only


def test_refused_attachment_shown_next_to_the_field_nothing_filed(
    files_client: FlaskClient, factory: Any
) -> None:
    before = count_reports(factory)
    data = {
        **GOOD,
        "csrf_token": csrf(files_client),
        "disability": "fisik",
        "gesi_consent": "on",
        "lampiran": [(io.BytesIO(b"<html><script>x</script>"), "foto.jpg", "image/jpeg")],
    }
    response = files_client.post("/lapor", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_next_to(html, "lampiran") == (
        "foto.jpg tidak diterima: hanya foto JPG, PNG, WebP atau PDF tanpa skrip."
    )
    assert "pilih lagi sebelum mengirim" in html
    assert '<option value="fisik" selected>' in html and GOOD["title"] in html  # nothing lost
    assert count_reports(factory) == before


def test_gesi_values_checked_against_the_choices(client: FlaskClient, factory: Any) -> None:
    before = count_reports(factory)
    data = {**GOOD, "csrf_token": csrf(client), "gender": "robot"}
    response = client.post("/lapor", data=data)
    assert response.status_code == 422
    assert error_next_to(response.get_data(as_text=True), "gender") == "Pilih salah satu pilihan."
    assert count_reports(factory) == before


# --- the pelapor deletes their GESI answers --------------------------------------------------

GESI = {"gender": "perempuan", "vulnerable_group": "lansia"}


def gesi_of(factory: Any, tracking_id: str) -> tuple[str | None, ...]:
    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking_id))
        assert report is not None
        return (report.gender, report.disability, report.vulnerable_group)


def test_only_the_pelapor_deletes_gesi_answers_from_the_status_page(
    client: FlaskClient, api: Api, factory: Any
) -> None:
    filed = api.file(**GESI, gesi_consent=True)
    tracking, secret = filed["tracking_id"], filed["secret"]
    action = f'action="/lapor/{tracking}/hapus-data-diri"'
    public = client.get(f"/lapor/{tracking}").get_data(as_text=True)
    assert "Jawaban Anda tentang diri Anda" not in public and action not in public
    assert "Lanjut usia" not in public
    owner = client.get(f"/lapor/{tracking}?secret={secret}").get_data(as_text=True)
    assert "Jawaban Anda tentang diri Anda" in owner and action in owner
    assert "<dt>Jenis kelamin</dt><dd>Perempuan</dd>" in owner
    assert "<dt>Kelompok rentan</dt><dd>Lanjut usia</dd>" in owner and "Disabilitas" not in owner

    token = csrf(client)
    form = {"csrf_token": token, "secret": secret}
    url = f"/lapor/{tracking}/hapus-data-diri"
    forged = client.post(url, data={**form, "csrf_token": "palsu" * 9})
    assert forged.status_code == 400 and "Formulir sudah kedaluwarsa" in forged.get_data(True)
    other = api.file()
    for secret_tried in (other["secret"], "bukan-rahasia", ""):
        refused = client.post(url, data={**form, "secret": secret_tried})
        assert refused.status_code == 404
        assert "Laporan tidak ditemukan" in refused.get_data(as_text=True)
    assert (
        client.post(f"/lapor/{other['tracking_id']}/hapus-data-diri", data=form).status_code == 404
    )
    assert gesi_of(factory, tracking) == ("perempuan", None, "lansia")

    deleted = client.post(f"{url}?lang=en", data=form)
    assert deleted.status_code == 303
    assert deleted.location == f"/lapor/{tracking}?secret={secret}&done=gesi"
    html = client.get(deleted.location).get_data(as_text=True)
    assert "Your answers about yourself have been deleted from this report." in html
    assert "Your answers about yourself</h2>" not in html and action not in html
    assert gesi_of(factory, tracking) == (None, None, None)


def test_the_pelapor_downloads_their_data_and_deletes_their_identity_from_the_status_page(
    client: FlaskClient, api: Api, factory: Any
) -> None:
    filed = api.file(**GESI, gesi_consent=True)
    tracking, secret = filed["tracking_id"], filed["secret"]
    action = f'action="/lapor/{tracking}/hapus-identitas"'
    public = client.get(f"/lapor/{tracking}").get_data(as_text=True)
    assert "Data pribadi Anda" not in public and action not in public
    owner = client.get(f"/lapor/{tracking}?secret={secret}").get_data(as_text=True)
    assert "Data pribadi Anda" in owner and action in owner
    link = re.search(r'<a href="(/api/v1/reports/[^"]+/personal-data\?secret=[^"]+)"', owner)
    assert link
    data = client.get(link.group(1).replace("&amp;", "&")).get_json()
    assert data["identity"]["pelapor_email"] == "sentinel@example.org"
    assert data["gesi"]["gender"] == "perempuan"

    form = {"csrf_token": csrf(client), "secret": secret}
    url = f"/lapor/{tracking}/hapus-identitas"
    forged = client.post(url, data={**form, "csrf_token": "palsu" * 9})
    assert forged.status_code == 400
    other = api.file()
    for secret_tried in (other["secret"], "bukan-rahasia", ""):
        refused = client.post(url, data={**form, "secret": secret_tried})
        assert refused.status_code == 404
    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking))
        assert report is not None and report.pelapor_name and not report.anonim

    deleted = client.post(f"{url}?lang=en", data=form)
    assert deleted.status_code == 303
    assert deleted.location == f"/lapor/{tracking}?secret={secret}&done=identity"
    html = client.get(deleted.location).get_data(as_text=True)
    assert "Your identity has been deleted; this report is now anonymous." in html
    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking))
        assert report is not None and report.anonim
        assert (report.pelapor_name, report.pelapor_email, report.gender) == (None, None, None)


def test_gesi_answers_without_consent_are_refused_next_to_the_checkbox(
    client: FlaskClient, factory: Any
) -> None:
    before = count_reports(factory)
    data = {**GOOD, "csrf_token": csrf(client), "gender": "perempuan"}
    response = client.post("/lapor", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_next_to(html, "gesi_consent") == (
        "Centang persetujuan ini agar jawaban Anda disimpan, atau kosongkan jawabannya."
    )
    assert '<option value="perempuan" selected>' in html  # nothing lost
    assert count_reports(factory) == before
    tracking, _secret = file_via_form(client, gender="perempuan", gesi_consent="on")
    with factory() as s:
        gender = s.scalar(select(Report.gender).where(Report.tracking_id == tracking))
    assert gender == "perempuan"


def test_pelapor_deletes_gesi_answers_in_a_browser(page: Any, live_api: Api, factory: Any) -> None:
    filed = live_api.file(**GESI, gesi_consent=True)
    tracking, secret = filed["tracking_id"], filed["secret"]
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"/lapor/{tracking}?secret={secret}")
    answers = page.get_by_role("region", name="Jawaban Anda tentang diri Anda")
    expect(answers).to_contain_text("Lanjut usia")
    answers.get_by_role("button", name="Hapus jawaban ini").click()
    page.wait_for_url(re.compile(r"done=gesi"))
    expect(page.get_by_role("status")).to_have_text(
        "Jawaban Anda tentang diri Anda sudah dihapus dari laporan ini."
    )
    expect(page.get_by_role("region", name="Jawaban Anda tentang diri Anda")).to_have_count(0)
    assert gesi_of(factory, tracking) == (None, None, None)

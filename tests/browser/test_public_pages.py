"""The public feed pages: only published reports, masked text, anonim names never shown, the
no-JavaScript filters (province then regency, instansi by code or name) with errors next to
their field, one report with its follow-up, 404 for rahasia; then a 360 px phone in Chromium."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer
from tests.helpers import Api

FORWARD = {"outcome": "forward", "target_instansi": "34.04"}
DISPOSE = {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"}
FOLLOW_UP = {"tindak_lanjut": "Lubang sudah ditambal. Info: humas@slemankab.go.id"}
SENTINELS = ("Sentinel Pelapor", "sentinel@example.org", "+62 812 0000 1111")


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def api(client: FlaskClient) -> Api:
    return Api(lambda: nullcontext(client))


def published(api: Api, **overrides: Any) -> str:
    tracking = str(api.file(**overrides)["tracking_id"])
    api.complete("nasional", tracking, FORWARD)
    return tracking


def followed_up(api: Api, **overrides: Any) -> str:
    tracking = published(api, **overrides)
    api.complete("sleman", tracking, DISPOSE)
    api.complete("sleman.pu", tracking, FOLLOW_UP)
    return tracking


def html(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.status_code
    return response.get_data(as_text=True)


def test_feed_lists_published_reports_masked_without_anonim_identity(
    client: FlaskClient, api: Api
) -> None:
    anonim = followed_up(
        api,
        anonim=True,
        title="Pungutan liar di loket KTP",
        body="Petugas loket meminta uang. Saya bisa dihubungi di 0812-3456-7890 kapan saja.",
    )
    pending = str(api.file(title="Laporan yang belum diverifikasi")["tracking_id"])
    rahasia = published(api, rahasia=True, title="Laporan rahasia tentang kepala dinas")

    page = html(client, "/publik")
    assert "Pungutan liar di loket KTP" in page
    assert "0•••-••••-••90" in page and "0812-3456-7890" not in page
    assert "belum diverifikasi" not in page and "kepala dinas" not in page
    assert "Lubang sudah ditambal" in page and "h•••@•••.id" in page
    for sentinel in SENTINELS:
        assert sentinel not in page
    assert 'href="/publik"' in page  # the header link, for everyone

    one = html(client, f"/publik/{anonim}")
    assert "Anonim" in one and "Tindak lanjut dari instansi" in one
    for sentinel in SENTINELS:
        assert sentinel not in one
    for hidden in (pending, rahasia, "ABCDEFGHJK"):
        assert "Laporan tidak ditemukan" in html(client, f"/publik/{hidden}", 404)

    english = html(client, "/publik?lang=en")
    assert "Public reports" in english and "Search reports" in english


def test_named_pelapor_is_shown_and_the_page_in_english(client: FlaskClient, api: Api) -> None:
    tracking = published(api, pelapor_name="Budi Warga", pelapor_email="budi@example.org")
    page = html(client, f"/publik/{tracking}?lang=en")
    assert "Budi Warga" in page and "budi@example.org" not in page
    assert "Back to public reports" in page and "Verified and forwarded to" in page


def test_filters_work_without_javascript(client: FlaskClient, api: Api) -> None:
    sleman = published(api, title="Jalan rusak di Jalan Kaliurang")
    badung = str(
        api.file(title="Lampu jalan mati di Kuta", region_code="51.03", target_instansi="51.03")[
            "tracking_id"
        ]
    )
    api.complete("nasional", badung, {"outcome": "forward", "target_instansi": "51.03"})

    page = html(client, "/publik?province=34")  # the province brings its regencies
    assert '<option value="34.04">' in page and "Kaliurang" in page and "Kuta" not in page
    page = html(client, "/publik?province=34&regency=34.04&q=kaliurang")
    assert f"/publik/{sleman}" in page and f"/publik/{badung}" not in page
    page = html(client, "/publik?instansi=51.03")
    assert "Kuta" in page and "Kaliurang" not in page
    page = html(client, "/publik?instansi=Kabupaten+Badung")  # a name fitting one instansi
    assert "Kuta" in page and "Kaliurang" not in page

    several = html(client, "/publik?instansi=yogyakarta&q=jalan")
    assert "Beberapa instansi cocok" in several and "Kota Yogyakarta" in several
    # the choice links keep the other filters
    assert 'href="/publik?q=jalan&amp;instansi=34.71"' in several
    assert 'href="/publik?q=jalan&amp;instansi=34"' in several

    wrong = html(client, "/publik?province=34&regency=51.03", 422)
    assert 'id="regency-error"' in wrong and 'aria-invalid="true"' in wrong
    unknown = html(client, "/publik?instansi=tidak+ada+instansinya", 422)
    assert 'id="instansi-error"' in unknown
    assert 'value="tidak ada instansinya"' in unknown  # nothing typed is lost
    assert 'id="province-error"' in html(client, "/publik?province=99", 422)


def test_pages_link_forward_and_back(client: FlaskClient, api: Api, monkeypatch: Any) -> None:
    from engine.services import public_feed

    monkeypatch.setattr(public_feed, "PER_PAGE", 1)
    first, second = published(api), published(api)
    page = html(client, "/publik?q=jalan")
    assert f"/publik/{second}" in page and f"/publik/{first}" not in page
    assert "page=2" in page and "q=jalan" in page
    page = html(client, "/publik?q=jalan&page=2")
    assert f"/publik/{first}" in page and "page=1" in page
    assert html(client, "/publik?page=nonsense").count("/publik/") >= 1


def test_feed_on_a_phone(page: Any, live_server: LiveServer) -> None:
    client = live_server.app.test_client()
    api = Api(lambda: nullcontext(client))
    tracking = followed_up(
        api, title="Saluran air tersumbat di Jalan Magelang", pelapor_name="Sari Warga"
    )
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto("/")
    page.get_by_role("link", name="Laporan publik").click()
    page.get_by_label("Cari laporan").fill("saluran magelang")
    page.get_by_label("Provinsi").select_option("34")
    page.get_by_role("button", name="Terapkan").click()
    expect(page.get_by_label("Kabupaten/kota")).to_contain_text("Sleman")
    page.get_by_role("link", name="Saluran air tersumbat di Jalan Magelang").click()
    page.wait_for_url(f"**/publik/{tracking}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Saluran air tersumbat di Jalan Magelang"
    )
    expect(page.locator("main")).to_contain_text("Sari Warga")
    expect(page.locator("main")).to_contain_text("h•••@•••.id")
    wider = page.evaluate(
        "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    assert not wider, "the page scrolls sideways at 360 px"

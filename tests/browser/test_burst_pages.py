"""Burst controls on the officers' pages: the verification queue forwards the ticked reports to
one instansi with an answer for each; the task page links duplicate reports to its main report
and unlinks them, with errors next to the field; one follow-up published for the whole group;
CSRF refusals; another instansi's officer gets a 404 page."""

from __future__ import annotations

import re
from contextlib import nullcontext
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.models import Report
from tests.browser.test_login_pages import csrf_of, sign_in_client
from tests.helpers import Api

FORWARD = {"outcome": "forward", "target_instansi": "34.04"}
DISPOSE = {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"}
FOLLOW_UP = "Jalan sudah ditambal oleh DPUPKP pada hari ini."


@pytest.fixture()
def api(app: Flask) -> Api:
    client = app.test_client()
    return Api(lambda: nullcontext(client))


def html_of(response: Any, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    return str(response.get_data(as_text=True))


def statuses(factory: Any, trackings: list[str]) -> list[str]:
    with factory() as s:
        found = dict(s.execute(select(Report.tracking_id, Report.status)).all())
    return [found[t] for t in trackings]


def burst(api: Api, count: int) -> list[str]:
    """`count` reports of one complaint, forwarded to Sleman and disposed to its PU unit."""
    trackings = [
        api.file(pelapor_email=f"warga{i}@example.org")["tracking_id"] for i in range(count)
    ]
    for tracking in trackings:
        api.complete("nasional", tracking, FORWARD)
        api.complete("sleman", tracking, DISPOSE)
    return trackings


def task_of(api: Api, username: str, tracking: str) -> int:
    return int(api.task_for(username, tracking)["id"])


# ---- many at once from the queue -------------------------------------------------------------


def test_forward_the_ticked_reports_with_an_answer_for_each(
    client: FlaskClient, api: Api, factory: Any
) -> None:
    trackings = [api.file(target_instansi=None)["tracking_id"] for _ in range(3)]
    ids = [task_of(api, "nasional", t) for t in trackings]
    sign_in_client(client, "nasional")
    token = csrf_of(client, "/verifikasi")
    html = html_of(client.get("/verifikasi?q=sleman"))
    for task in ids:
        assert f'name="task_ids" value="{task}" form="batch-form"' in html
    assert f"Pilih {trackings[0]} untuk diteruskan" in html
    assert 'name="target_instansi" value="34.04" checked' in html  # the only match

    nothing = {"csrf_token": token, "target_instansi": "34.04"}
    html = html_of(client.post("/verifikasi", data=nothing), 422)
    assert 'id="batch-tasks-error">Pilih paling sedikit satu laporan.' in html
    assert 'value="34.04" checked' in html  # kept
    no_target = {"csrf_token": token, "task_ids": [str(ids[0])]}
    html = html_of(client.post("/verifikasi?lang=en", data=no_target), 422)
    assert 'id="batch-target-error">Choose a registered target agency.' in html
    assert f'value="{ids[0]}" form="batch-form" checked' in html  # the tick is kept
    client.get("/verifikasi?lang=id")
    unknown = {"csrf_token": token, "task_ids": [str(ids[0])], "target_instansi": "99.99"}
    html = html_of(client.post("/verifikasi", data=unknown), 422)
    assert 'id="batch-target-error">Pilih instansi tujuan yang terdaftar.' in html
    assert statuses(factory, trackings) == ["pending_verification"] * 3

    form = {
        "csrf_token": token,
        "task_ids": [str(ids[0]), "99999999", str(ids[1]), str(ids[2])],
        "target_instansi": "34.04",
    }
    html = html_of(client.post("/verifikasi", data=form))
    assert "Hasil penerusan: 3 dari 4 laporan diteruskan." in html
    for tracking in trackings:
        assert f'<span class="tracking">{tracking}</span>: Diteruskan.' in html
    assert '<span class="tracking">#99999999</span>: <strong>Tugas tidak ditemukan.' in html
    assert "Tidak ada laporan yang menunggu verifikasi." in html
    assert statuses(factory, trackings) == ["forwarded"] * 3

    again = html_of(client.post("/verifikasi", data={**form, "task_ids": [ids[0]]}))
    assert "0 dari 1 laporan diteruskan." in again
    assert re.search(r"#?\w+</span>: <strong>(Tugas tidak ditemukan|Sudah selesai)", again)


def test_the_batch_form_needs_its_token_and_a_national_admin(
    client: FlaskClient, api: Api, factory: Any
) -> None:
    tracking = api.file()["tracking_id"]
    task = task_of(api, "nasional", tracking)
    sign_in_client(client, "nasional")
    form = {"task_ids": [str(task)], "target_instansi": "34.04", "csrf_token": "forged"}
    assert "Token keamanan" in html_of(client.post("/verifikasi", data=form), 400)
    officer = client.application.test_client()
    sign_in_client(officer, "sleman")
    form["csrf_token"] = csrf_of(officer, "/tugas")
    assert officer.post("/verifikasi", data=form).status_code == 403
    assert statuses(factory, [tracking]) == ["pending_verification"]


# ---- duplicates on the task page -------------------------------------------------------------


def test_link_and_unlink_duplicates_with_errors_next_to_the_field(
    client: FlaskClient, api: Api, factory: Any
) -> None:
    main, second, third = burst(api, 3)
    task = task_of(api, "sleman.pu", main)
    sign_in_client(client, "sleman.pu")
    token = csrf_of(client, f"/tugas/{task}")
    page = html_of(client.get(f"/tugas/{task}"))
    assert "Belum ada laporan lain yang ditautkan ke laporan ini." in page
    assert 'name="group"' not in page  # no duplicates: no group option
    url = f"/tugas/{task}/duplikat"

    empty = html_of(client.post(url, data={"csrf_token": token, "duplicate": " "}), 422)
    assert 'id="duplicate-error">Tulis nomor laporan duplikat.' in empty
    itself = html_of(client.post(url, data={"csrf_token": token, "duplicate": main}), 422)
    assert 'id="duplicate-error">Laporan tidak dapat menjadi duplikat dirinya sendiri.' in itself
    missing = client.post(f"{url}?lang=en", data={"csrf_token": token, "duplicate": "ZZZ"})
    html = html_of(missing, 404)
    assert 'id="duplicate-error">No report with this number among your open work.' in html
    assert 'value="ZZZ"' in html and 'aria-invalid="true"' in html
    client.get(f"/tugas/{task}?lang=id")

    linked = client.post(url, data={"csrf_token": token, "duplicate": second.lower()})
    assert linked.status_code == 303 and linked.location == f"/tugas/{task}?ok=duplikat#duplikat"
    html = html_of(client.get(linked.location))
    assert "Laporan duplikat ditautkan." in html
    assert f"/tugas/{task}/duplikat/{second}/lepas" in html
    assert "Laporan duplikat ditautkan</strong>" in html and f"<span>: {second}</span>" in html
    again = html_of(client.post(url, data={"csrf_token": token, "duplicate": second}), 409)
    assert "Laporan itu sudah ditautkan ke laporan utama." in again

    other = task_of(api, "sleman.pu", second)
    html = html_of(
        client.post(f"/tugas/{other}/duplikat", data={"csrf_token": token, "duplicate": third}), 409
    )
    assert "Laporan ini sendiri duplikat laporan lain" in html

    unlinked = client.post(f"/tugas/{task}/duplikat/{second}/lepas", data={"csrf_token": token})
    assert unlinked.status_code == 303
    html = html_of(client.get(unlinked.location))
    assert "Tautan duplikat dilepas." in html and f"duplikat/{second}/lepas" not in html
    assert (
        client.post(
            f"/tugas/{task}/duplikat/{second}/lepas", data={"csrf_token": token}
        ).status_code
        == 404
    )
    with factory() as s:
        assert s.scalar(select(Report.duplicate_of_id).where(Report.tracking_id == second)) is None


def test_duplicate_forms_need_the_token_and_the_officers_instansi(
    client: FlaskClient, api: Api, factory: Any
) -> None:
    main, second = burst(api, 2)
    task = task_of(api, "sleman.pu", main)
    sign_in_client(client, "sleman.pu")
    forged = {"csrf_token": "forged", "duplicate": second}
    assert client.post(f"/tugas/{task}/duplikat", data=forged).status_code == 400
    assert client.post(f"/tugas/{task}/duplikat/{second}/lepas", data=forged).status_code == 400
    elsewhere = client.application.test_client()
    sign_in_client(elsewhere, "badung")
    data = {"csrf_token": csrf_of(elsewhere, "/tugas"), "duplicate": second}
    assert "Tugas tidak ditemukan" in html_of(
        elsewhere.post(f"/tugas/{task}/duplikat", data=data), 404
    )
    with factory() as s:
        assert s.scalar(select(Report.duplicate_of_id).where(Report.tracking_id == second)) is None


# ---- one follow-up for the group -------------------------------------------------------------


def test_publish_one_follow_up_for_the_whole_group(
    client: FlaskClient, api: Api, factory: Any
) -> None:
    main, second, third, alone = burst(api, 4)
    task = task_of(api, "sleman.pu", main)
    sign_in_client(client, "sleman.pu")
    token = csrf_of(client, f"/tugas/{task}")
    for duplicate in (second, third):
        client.post(f"/tugas/{task}/duplikat", data={"csrf_token": token, "duplicate": duplicate})
    page = html_of(client.get(f"/tugas/{task}"))
    assert "juga untuk 2 laporan duplikat yang menunggu tindak lanjut" in page

    before = statuses(factory, [main, second, third])
    short = {"csrf_token": token, "tindak_lanjut": "Sudah.", "group": "1"}
    html = html_of(client.post(f"/tugas/{task}", data=short), 422)
    assert "Paling sedikit 10 karakter." in html
    assert 'id="group" name="group" value="1" checked' in html  # kept
    assert statuses(factory, [main, second, third]) == before

    done = client.post(
        f"/tugas/{task}", data={"csrf_token": token, "tindak_lanjut": FOLLOW_UP, "group": "1"}
    )
    assert done.status_code == 303
    assert done.location == f"/tugas?selesai={main}&grup=2&gagal=0"
    html = html_of(client.get(done.location))
    assert f"Tugas untuk laporan {main} selesai." in html
    assert "Tindak lanjut yang sama juga diterbitkan untuk 2 laporan duplikat." in html
    assert statuses(factory, [main, second, third]) == ["followed_up"] * 3
    assert statuses(factory, [alone]) != ["followed_up"]
    for tracking in (second, third):
        follow_ups = [e for e in api.report(tracking)["timeline"] if e["kind"] == "follow_up"]
        assert follow_ups and FOLLOW_UP in str(follow_ups[0])

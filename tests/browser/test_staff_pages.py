"""Staff administration pages: an instansi's users with roles and claimed tasks, creating a user
(errors next to the fields in Indonesian and English, nothing typed lost but the password),
deactivating, delegating claimed tasks, creating a unit; CSRF refusals; another instansi's
admin refused. Users and units outlive a test's clean slate, so each test makes its own."""

from __future__ import annotations

import re
from contextlib import nullcontext
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.models import AuditEvent, HumanTask, Unit, User
from tests.browser.test_login_pages import csrf_of, sign_in_client
from tests.helpers import Api, ensure_user

PASSWORD = "kata-sandi-pertama-2026"
FORWARD = {"outcome": "forward", "target_instansi": "34.04"}
DISPOSE = {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"}
PU = [("pejabat_penghubung", "34.04", "34.04-DPUPKP")]


@pytest.fixture()
def api(app: Flask) -> Api:
    client = app.test_client()
    return Api(lambda: nullcontext(client))


def html_of(response: Any, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    return str(response.get_data(as_text=True))


def signed_in(client: FlaskClient, username: str) -> str:
    assert sign_in_client(client, username).status_code == 303
    return csrf_of(client, "/admin/pengguna")


def error_of(html: str, name: str) -> str:
    found = re.search(rf'<span class="field-error" id="{name}-error">([^<]+)</span>', html)
    assert found, f"no error next to {name}"
    return found.group(1)


def new_user(token: str, username: str, **overrides: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "instansi": "34.04",
        "username": username,
        "full_name": f"Petugas {username}",
        "email": f"{username}@sleman.example.org",
        "password": PASSWORD,
        "role": "pejabat_penghubung",
        "unit": "34.04-DPUPKP",
        **overrides,
    }


def user_id(factory: Any, username: str) -> int:
    with factory() as s:
        found = s.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return int(found)


def test_an_instansi_admin_sees_its_staff_with_roles_and_claimed_tasks(
    client: FlaskClient, api: Api
) -> None:
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, FORWARD)
    task = api.task_for("sleman", tracking)["id"]
    api.call("POST", f"/api/v1/tasks/{task}/claim", token=api.login("sleman"))

    signed_in(client, "sleman")
    html = html_of(client.get("/admin/pengguna"))  # defaults to the admin's own instansi
    assert "Pengguna dan unit kerja instansi 34.04" in html
    assert "Admin Kabupaten Sleman" in html and "Penghubung DPUPKP Sleman" in html
    assert "Pejabat penghubung (34.04-DPUPKP)" in html and "Admin instansi" in html
    sleman = html[html.index("Admin Kabupaten Sleman") :]
    assert "1 tugas terbuka sedang diambil" in sleman[:600]
    assert "Dinas Pekerjaan Umum" in html and "34.04-DPUPKP" in html  # units
    assert '<a href="/admin/pengguna" aria-current="page">Pengguna dan unit' in html
    assert 'Nonaktifkan<span class="visually-hidden"> sleman</span>' not in html  # not self
    english = html_of(client.get("/admin/pengguna?instansi=34.04&lang=en"))
    assert "Users and work units of agency 34.04" in english and "Liaison officer" in english


def test_create_a_user_with_errors_next_to_fields_in_both_languages(
    client: FlaskClient, factory: Any
) -> None:
    token = signed_in(client, "sleman")
    bad = new_user(token, "Bukan Valid", email="bukan-email", password="pendek", unit="")
    html = html_of(client.post("/admin/pengguna", data=bad), 422)
    assert error_of(html, "username") == (
        "Pakai huruf kecil, angka, titik, garis bawah, atau minus."
    )
    assert error_of(html, "email") == "Alamat email tidak valid."
    assert error_of(html, "password") == "Kata sandi paling sedikit 12 karakter."
    assert error_of(html, "unit") == "Peran ini memerlukan unit kerja."
    assert 'value="Bukan Valid"' in html and 'value="bukan-email"' in html  # kept
    assert "pendek" not in html  # the password never comes back
    assert 'aria-describedby="username-error"' in html

    english = client.post("/admin/pengguna?lang=en", data={**bad, "full_name": "", "role": ""})
    html = html_of(english, 422)
    assert (
        error_of(html, "username") == "Use lowercase letters, digits, dots, underscores or dashes."
    )
    assert error_of(html, "full_name") == "Required."
    assert error_of(html, "role") == "Choose one of the roles."
    client.get("/admin/pengguna?lang=id")

    made = client.post("/admin/pengguna", data=new_user(token, "halaman.satu"))
    assert made.status_code == 303
    assert made.location == "/admin/pengguna?instansi=34.04&selesai=dibuat&nama=halaman.satu"
    html = html_of(client.get(made.location))
    assert "Pengguna halaman.satu dibuat." in html and "Petugas halaman.satu" in html
    taken = html_of(client.post("/admin/pengguna", data=new_user(token, "halaman.satu")), 409)
    assert error_of(taken, "username") == "Nama pengguna ini sudah dipakai."
    with factory() as s:
        user = s.scalar(select(User).where(User.username == "halaman.satu"))
        assert user is not None and user.active and user.email == "halaman.satu@sleman.example.org"
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.action == "user.created"))


def test_deactivate_releases_the_tasks_and_ends_sessions(
    client: FlaskClient, api: Api, factory: Any
) -> None:
    leaving = ensure_user(factory, "halaman.pergi", PU)
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, FORWARD)
    api.complete("sleman", tracking, DISPOSE)
    task = api.task_for("halaman.pergi", tracking)["id"]
    assert (
        api.call("POST", f"/api/v1/tasks/{task}/claim", token=api.login("halaman.pergi"))
    ).status_code == 200

    token = signed_in(client, "sleman")
    done = client.post(
        f"/admin/pengguna/{leaving}/nonaktifkan", data={"csrf_token": token, "instansi": "34.04"}
    )
    assert done.status_code == 303
    html = html_of(client.get(done.location))
    assert "Akun halaman.pergi dinonaktifkan" in html
    card = html[html.index('<span class="tracking">halaman.pergi</span>') :]
    card = card[: card.index("</li>")]
    assert "<strong>Nonaktif</strong>" in card and "Nonaktifkan" not in card
    old_token = api.tokens["halaman.pergi"][0]
    assert api.call("GET", "/api/v1/tasks", token=old_token).status_code == 401
    with factory() as s:
        row = s.get(HumanTask, task)
        assert row is not None and row.assignee_id is None
        assert s.get(User, leaving).active is False  # type: ignore[union-attr]
    self_id = user_id(factory, "sleman")
    refused = client.post(
        f"/admin/pengguna/{self_id}/nonaktifkan", data={"csrf_token": token, "instansi": "34.04"}
    )
    assert "Anda tidak dapat menonaktifkan akun Anda sendiri." in html_of(refused, 409)


def test_delegate_hands_claimed_tasks_to_a_colleague(
    client: FlaskClient, api: Api, factory: Any
) -> None:
    away = ensure_user(factory, "halaman.cuti", PU)
    stays = ensure_user(factory, "halaman.ganti", PU)
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, FORWARD)
    api.complete("sleman", tracking, DISPOSE)
    task = api.task_for("halaman.cuti", tracking)["id"]
    api.call("POST", f"/api/v1/tasks/{task}/claim", token=api.login("halaman.cuti"))

    token = signed_in(client, "sleman")
    html = html_of(client.get("/admin/pengguna?instansi=34.04"))
    assert f'action="/admin/pengguna/{away}/delegasi"' in html
    assert f'<option value="{stays}">halaman.ganti (halaman.ganti)</option>' in html
    url = f"/admin/pengguna/{away}/delegasi"
    empty = client.post(url, data={"csrf_token": token, "instansi": "34.04", "to_user_id": ""})
    assert error_of(html_of(empty, 422), "to_user_id") == "Pilih rekan kerja."
    moved = client.post(
        url, data={"csrf_token": token, "instansi": "34.04", "to_user_id": str(stays)}
    )
    assert moved.status_code == 303
    assert "1 tugas dialihkan; 0 tugas tetap" in html_of(client.get(moved.location))
    with factory() as s:
        assert s.get(HumanTask, task).assignee_id == stays  # type: ignore[union-attr]


def test_create_a_unit(client: FlaskClient, factory: Any) -> None:
    token = signed_in(client, "sleman")
    form = {"csrf_token": token, "instansi": "34.04", "code": "DISDIK", "name": "Dinas Pendidikan"}
    wrong = html_of(client.post("/admin/unit", data=form), 422)
    assert error_of(wrong, "code").startswith("Kode unit diawali kode instansi")
    assert 'value="Dinas Pendidikan"' in wrong
    short = html_of(client.post("/admin/unit?lang=en", data={**form, "name": "D"}), 422)
    assert error_of(short, "name") == "Too short: at least 2 characters."
    client.get("/admin/pengguna?lang=id")
    made = client.post("/admin/unit", data={**form, "code": "34.04-HALDIK"})
    assert made.status_code == 303
    html = html_of(client.get(made.location))
    assert "Unit kerja 34.04-HALDIK dibuat." in html
    assert '<option value="34.04-HALDIK">Dinas Pendidikan (34.04-HALDIK)</option>' in html
    again = html_of(client.post("/admin/unit", data={**form, "code": "34.04-HALDIK"}), 409)
    assert error_of(again, "code") == "Kode unit ini sudah dipakai."
    with factory() as s:
        assert s.scalar(select(Unit.name).where(Unit.code == "34.04-HALDIK")) == (
            "Dinas Pendidikan"
        )


def test_forms_without_the_session_token_are_refused(client: FlaskClient, factory: Any) -> None:
    signed_in(client, "sleman")
    target = ensure_user(factory, "halaman.token", PU)
    for path, data in (
        ("/admin/pengguna", new_user("forged", "halaman.tanpa")),
        (f"/admin/pengguna/{target}/nonaktifkan", {"csrf_token": "forged"}),
        (f"/admin/pengguna/{target}/delegasi", {"csrf_token": "forged", "to_user_id": "1"}),
        ("/admin/unit", {"csrf_token": "forged", "instansi": "34.04", "code": "34.04-TOKEN"}),
    ):
        refused = client.post(path, data=data)
        assert "Token keamanan formulir tidak cocok" in html_of(refused, 400), path
    with factory() as s:
        assert s.scalar(select(User.id).where(User.username == "halaman.tanpa")) is None
        assert s.get(User, target).active  # type: ignore[union-attr]
        assert s.scalar(select(Unit.id).where(Unit.code == "34.04-TOKEN")) is None


def test_another_instansis_admin_and_officers_are_refused(
    client: FlaskClient, factory: Any
) -> None:
    target = ensure_user(factory, "halaman.sleman", PU)
    token = signed_in(client, "badung")
    assert "Akses ditolak" in html_of(client.get("/admin/pengguna?instansi=34.04"), 403)
    assert "Pengguna dan unit kerja instansi 51.03" in html_of(client.get("/admin/pengguna"))
    made = client.post("/admin/pengguna", data=new_user(token, "halaman.badung"))
    assert made.status_code == 403
    closed = client.post(
        f"/admin/pengguna/{target}/nonaktifkan", data={"csrf_token": token, "instansi": "51.03"}
    )
    assert "Pengguna tidak ditemukan." in html_of(closed, 404)
    unit = {"csrf_token": token, "instansi": "34.04", "code": "34.04-BADUNG", "name": "Unit X"}
    assert client.post("/admin/unit", data=unit).status_code == 403
    with factory() as s:
        assert s.scalar(select(User.id).where(User.username == "halaman.badung")) is None
        assert s.get(User, target).active  # type: ignore[union-attr]
        assert s.scalar(select(Unit.id).where(Unit.code == "34.04-BADUNG")) is None

    officer = Flask.test_client(client.application)
    sign_in_client(officer, "sleman.pu")
    assert officer.get("/admin/pengguna").status_code == 403
    assert 'href="/admin/pengguna"' not in html_of(officer.get("/tugas"))
    anonymous = client.application.test_client().get("/admin/pengguna")
    assert anonymous.location == "/login?next=/admin/pengguna"

    national = client.application.test_client()
    sign_in_client(national, "nasional")
    assert "Masukkan kode instansi" in html_of(national.get("/admin/pengguna"))
    missing = html_of(national.get("/admin/pengguna?instansi=99.99"), 404)
    assert error_of(missing, "instansi") == "Instansi dengan kode ini tidak ditemukan."
    assert "Admin Kabupaten Badung" in html_of(national.get("/admin/pengguna?instansi=51.03"))

"""The instansi registry pages: national admins search an instansi, then rename, merge or split
it through forms with the session's CSRF token; errors stand next to their fields in Indonesian
or English and the values stay; the service's refusals are shown; others are turned away.

The instansi are the throwaway `TST-...` ones of tests/test_registry_admin.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from engine.models import AuditEvent, Instansi, Unit
from tests.browser.test_login_pages import csrf_of, sign_in_client
from tests.test_registry_admin import build_world

PAGE = "/admin/instansi"


@pytest.fixture()
def world(db_engine: Engine, factory: Any) -> Iterator[dict[str, int]]:
    yield from build_world(db_engine, factory)


def signed_in(client: FlaskClient, username: str = "nasional") -> str:
    assert sign_in_client(client, username).status_code == 303
    return csrf_of(client, PAGE)


def error_of(html: str, form: str, field: str) -> str:
    found = re.search(rf'id="{form}-{field}-error">([^<]*)<', html)
    assert found, html
    return found.group(1)


def test_search_then_the_instansi_page(client: FlaskClient, world: dict[str, int]) -> None:
    signed_in(client)
    found = client.get(f"{PAGE}?q=tst-a")
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and "Registri instansi" in html
    assert 'href="/admin/instansi/TST-A"' in html and 'href="/admin/instansi/TST-A-DESA"' in html
    assert "TST-B" not in html

    page = client.get(f"{PAGE}/TST-A?lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Kabupaten Uji Lama" in html
    assert "TST-A-PU" in html and "TST-A-KES" in html and "Supervising instansi" in html
    assert "Split off a new instansi" in html and 'name="into"' in html
    missing = client.get(f"{PAGE}/TST-NONE?lang=id")
    assert missing.status_code == 404
    assert "Instansi TST-NONE tidak ada dalam registri." in missing.get_data(as_text=True)


def test_only_national_admins_see_the_pages(client: FlaskClient, world: dict[str, int]) -> None:
    anonymous = client.get(PAGE)
    assert anonymous.status_code == 302 and "/login" in anonymous.location
    token = signed_in(client, "sleman")
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}/TST-A").status_code == 403
    refused = client.post(f"{PAGE}/TST-A/nama", data={"csrf_token": token, "name": "Tidak"})
    assert refused.status_code == 403


def test_rename_through_the_form(client: FlaskClient, factory: Any, world: dict[str, int]) -> None:
    token = signed_in(client)
    renamed = client.post(
        f"{PAGE}/TST-A/nama", data={"csrf_token": token, "name": "Kabupaten Uji Raya"}
    )
    assert renamed.status_code == 303 and "done=renamed" in renamed.location
    shown = client.get(renamed.location).get_data(as_text=True)
    assert "Nama instansi diganti." in shown and "Kabupaten Uji Raya" in shown
    with factory() as s:
        assert s.get_one(Instansi, world["TST-A"]).name == "Kabupaten Uji Raya"
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.action == "instansi.renamed"))


def test_forms_without_the_session_token_are_refused(
    client: FlaskClient, factory: Any, world: dict[str, int]
) -> None:
    signed_in(client)
    for path, data in (
        ("nama", {"name": "Tanpa Token"}),
        ("gabung", {"into": "TST-B"}),
        ("pecah", {"code": "TST-C", "name": "Tanpa Token", "units": "TST-A-PU"}),
    ):
        refused = client.post(f"{PAGE}/TST-A/{path}", data=data)
        assert refused.status_code == 400, path
    with factory() as s:
        a = s.get_one(Instansi, world["TST-A"])
        assert a.name == "Kabupaten Uji Lama" and a.active
        assert s.scalar(select(Instansi.id).where(Instansi.code == "TST-C")) is None


def test_errors_stand_next_to_their_fields_in_both_languages(
    client: FlaskClient, world: dict[str, int]
) -> None:
    token = signed_in(client)
    empty = client.post(f"{PAGE}/TST-A/nama", data={"csrf_token": token, "name": ""})
    assert empty.status_code == 422
    assert error_of(empty.get_data(as_text=True), "rename", "name") == "Wajib diisi."
    english = client.post(f"{PAGE}/TST-A/nama?lang=en", data={"csrf_token": token, "name": ""})
    assert error_of(english.get_data(as_text=True), "rename", "name") == "Required."

    unknown = client.post(
        f"{PAGE}/TST-A/gabung?lang=id", data={"csrf_token": token, "into": "TST-NO"}
    )
    html = unknown.get_data(as_text=True)
    assert unknown.status_code == 404 and 'value="TST-NO"' in html
    assert error_of(html, "merge", "into").startswith("Data yang dirujuk tidak ditemukan.")
    itself = client.post(
        f"{PAGE}/TST-A/gabung?lang=en", data={"csrf_token": token, "into": "TST-A"}
    )
    assert itself.status_code == 409
    message = error_of(itself.get_data(as_text=True), "merge", "into")
    assert message.startswith("This change conflicts with existing data.")

    no_units = {"csrf_token": token, "code": "TST-C", "name": "Dinas Uji"}
    split = client.post(f"{PAGE}/TST-A/pecah?lang=id", data=no_units)
    html = split.get_data(as_text=True)
    assert split.status_code == 422 and 'value="TST-C"' in html and 'value="Dinas Uji"' in html
    assert error_of(html, "split", "units") == "Pilih paling sedikit satu unit kerja."
    assert "rename-name-error" not in html  # only the posted form shows errors
    english = client.post(f"{PAGE}/TST-A/pecah?lang=en", data=no_units)
    assert error_of(english.get_data(as_text=True), "split", "units") == "Choose at least one unit."
    taken = client.post(
        f"{PAGE}/TST-A/pecah?lang=id",
        data={**no_units, "code": "TST-B", "units": ["TST-A-KES"]},
    )
    html = taken.get_data(as_text=True)
    assert taken.status_code == 409
    assert error_of(html, "split", "code").startswith("Perubahan ini bentrok")
    assert re.search(r'value="TST-A-KES" checked', html)


def test_merge_and_split_through_the_forms(
    client: FlaskClient, factory: Any, world: dict[str, int]
) -> None:
    token = signed_in(client)
    split = client.post(
        f"{PAGE}/TST-A/pecah",
        data={"csrf_token": token, "code": "TST-C", "name": "Dinas Uji", "units": ["TST-A-KES"]},
    )
    assert split.status_code == 303 and "done=split" in split.location
    shown = client.get(split.location).get_data(as_text=True)
    assert "Instansi baru TST-C dibuat." in shown and 'href="/admin/instansi/TST-C"' in shown
    assert "Dipindahkan: 0 laporan terbuka, 0 tugas, 1 unit kerja, 1 pengguna" in shown

    merged = client.post(f"{PAGE}/TST-A/gabung", data={"csrf_token": token, "into": "TST-B"})
    assert merged.status_code == 303 and "done=merged" in merged.location
    shown = client.get(f"{merged.location}&lang=en").get_data(as_text=True)
    assert "This instansi was merged into TST-B." in shown and "is inactive" in shown
    assert 'name="into"' not in shown  # nothing more to change on an inactive instansi
    with factory() as s:
        assert s.get_one(Instansi, world["TST-A"]).active is False
        units = dict(s.execute(select(Unit.code, Unit.instansi_id)).tuples().all())
        new = s.scalar(select(Instansi.id).where(Instansi.code == "TST-C"))
        assert units["TST-A-KES"] == new and units["TST-A-PU"] == world["TST-B"]

"""Administration pages: the working-day calendar and SLA policies, through forms with the
session's CSRF token; errors next to their fields in Indonesian or English; the services'
refusals shown on the page; changes really stored (and audited by the services)."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from sla.models import CalendarAdjustment, SlaPolicy
from tests.browser.test_login_pages import csrf_of, sign_in_client


def signed_in(client: FlaskClient, username: str) -> str:
    assert sign_in_client(client, username).status_code == 303
    return csrf_of(client, "/admin/kalender")


def test_admin_adds_and_removes_a_calendar_day(client: FlaskClient, factory: Any) -> None:
    token = signed_in(client, "nasional")
    page = client.get("/admin/kalender?tahun=2026")
    assert page.status_code == 200 and "Kalender kerja 2026" in page.get_data(as_text=True)

    added = client.post(
        "/admin/kalender",
        data={"csrf_token": token, "day": "2026-06-15", "kind": "holiday", "reason": "Banjir"},
    )
    assert added.status_code == 303 and "done=added" in added.location
    shown = client.get(added.location).get_data(as_text=True)
    assert "Hari ditambahkan." in shown and "2026-06-15" in shown and "Banjir" in shown
    with factory() as s:
        row = s.scalar(select(CalendarAdjustment).where(CalendarAdjustment.reason == "Banjir"))
        assert row is not None and row.kind == "holiday" and row.removed_at is None

    removed = client.post(f"/admin/kalender/{row.id}/hapus", data={"csrf_token": token})
    assert removed.status_code == 303 and "done=removed" in removed.location
    with factory() as s:
        assert s.get(CalendarAdjustment, row.id).removed_at is not None


def test_errors_stand_next_to_their_fields_and_values_stay(client: FlaskClient) -> None:
    token = signed_in(client, "nasional")
    bad = client.post(
        "/admin/kalender",
        data={"csrf_token": token, "day": "15-06-2026", "kind": "holiday", "reason": "Banjir"},
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert re.search(r'id="day-error">Tanggal tidak valid \(format TTTT-BB-HH\)\.<', html)
    assert 'value="Banjir"' in html and 'value="15-06-2026"' in html
    english = client.post(
        "/admin/kalender?lang=en",
        data={"csrf_token": token, "day": "2026-06-15", "kind": "holiday", "reason": ""},
    )
    assert english.status_code == 422
    assert 'id="reason-error">Required.<' in english.get_data(as_text=True)


def test_forms_without_the_session_token_are_refused(client: FlaskClient, factory: Any) -> None:
    signed_in(client, "nasional")
    refused = client.post(
        "/admin/kalender", data={"day": "2026-06-16", "kind": "holiday", "reason": "Tanpa token"}
    )
    assert refused.status_code == 400
    with factory() as s:
        assert (
            s.scalar(select(CalendarAdjustment).where(CalendarAdjustment.reason == "Tanpa token"))
            is None
        )


def test_instansi_admin_sets_its_own_policy_but_not_anothers(
    client: FlaskClient, factory: Any
) -> None:
    token = signed_in(client, "sleman")
    saved = client.post(
        "/admin/sla",
        data={
            "csrf_token": token,
            "instansi": "34.04",
            "milestone": "follow-up",
            "duration": "4",
            "unit": "wd",
            "reminder": "1",
            "escalation_every": "2",
        },
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)
    listing = client.get(saved.location).get_data(as_text=True)
    assert "Kebijakan disimpan." in listing and "4 hari kerja" in listing
    with factory() as s:
        policy = s.scalar(select(SlaPolicy).where(SlaPolicy.duration == 4))
        assert policy is not None and policy.milestone == "follow-up"

    other = client.post(
        "/admin/sla",
        data={
            "csrf_token": token,
            "instansi": "51.03",
            "milestone": "follow-up",
            "duration": "4",
            "unit": "wd",
        },
    )
    assert other.status_code == 403
    assert "Anda tidak berwenang melakukan perubahan ini." in other.get_data(as_text=True)

    not_a_number = client.post(
        "/admin/sla",
        data={"csrf_token": token, "instansi": "34.04", "milestone": "follow-up", "duration": "x"},
    )
    html = not_a_number.get_data(as_text=True)
    assert (
        not_a_number.status_code == 422
        and 'id="duration-error">Harus berupa bilangan bulat.<' in html
    )

    deleted = client.post(f"/admin/sla/{policy.id}/hapus", data={"csrf_token": token})
    assert deleted.status_code == 303
    with factory() as s:
        assert s.get(SlaPolicy, policy.id) is None


def test_only_admins_reach_the_pages(client: FlaskClient) -> None:
    assert client.get("/admin/sla").status_code == 302  # to the login page
    assert sign_in_client(client, "designer").status_code == 303
    assert client.get("/admin/kalender").status_code == 403

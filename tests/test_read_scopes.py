"""Read scopes wider than the scopes to act in: national admins read every instansi's tasks
through the task API (and still cannot claim or complete them), and supervisors read the
attachments of reports their tree handles; another instansi still gets 404, like a missing
report, and a rahasia report's attachments stay with the pelapor and its handlers."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.seed.loader import DEMO_PASSWORD
from tests.helpers import REPORT, problem_of

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
FORWARD = {"outcome": "forward", "target_instansi": "34.04"}


@pytest.fixture()
def client(make_app: Callable[..., Flask], database_url: str, tmp_path: Path) -> FlaskClient:
    return make_app(database_url, ATTACHMENT_DIR=str(tmp_path / "attachments")).test_client()


def login(client: FlaskClient, username: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def open_task(client: FlaskClient, headers: dict[str, str], tracking_id: str) -> dict[str, Any]:
    """The report's open task in the caller's task list (work scope)."""
    for task in client.get("/api/v1/tasks", headers=headers).get_json():
        detail: dict[str, Any] = client.get(f"/api/v1/tasks/{task['id']}", headers=headers).json
        if detail["report"]["tracking_id"] == tracking_id:
            return detail
    raise AssertionError(f"no task for {tracking_id}")


def forwarded_to_sleman(client: FlaskClient, **overrides: Any) -> dict[str, Any]:
    """A report filed with one PDF, verified and forwarded by the national admins to Sleman."""
    response = client.post("/api/v1/reports", json={**REPORT, **overrides})
    assert response.status_code == 201, response.get_json()
    filed: dict[str, Any] = response.get_json()
    upload = client.post(
        f"/api/v1/reports/{filed['tracking_id']}/attachments",
        data={"secret": filed["secret"], "file": (io.BytesIO(PDF), "bukti.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.get_json()
    filed["attachment_url"] = upload.get_json()["url"]
    national = login(client, "nasional")
    intake = open_task(client, national, filed["tracking_id"])
    done = client.post(
        f"/api/v1/tasks/{intake['id']}/complete", json={"data": FORWARD}, headers=national
    )
    assert done.status_code == 200, done.get_json()
    return filed


def test_national_admins_read_every_instansi_task_but_do_not_act_on_it(
    client: FlaskClient,
) -> None:
    filed = forwarded_to_sleman(client)
    sleman_task = open_task(client, login(client, "sleman"), filed["tracking_id"])
    national = login(client, "nasional")

    work = client.get("/api/v1/tasks", headers=national).get_json()
    assert sleman_task["id"] not in [t["id"] for t in work]  # not among their own work
    everything = client.get("/api/v1/tasks", query_string={"scope": "all"}, headers=national)
    assert everything.status_code == 200
    listed = {t["id"]: t for t in everything.get_json()}
    assert listed[sleman_task["id"]]["role"] == "admin_instansi"
    assert all(t["status"] == "open" for t in listed.values())

    read = client.get(f"/api/v1/tasks/{sleman_task['id']}", headers=national)
    assert read.status_code == 200
    body = read.get_json()
    assert body["report"]["tracking_id"] == filed["tracking_id"]
    assert body["form_schema"] == sleman_task["form_schema"]
    assert body["sla_state"] == sleman_task["sla_state"]

    for action, payload in (("claim", None), ("complete", {"data": {"outcome": "resolve"}})):
        refused = client.post(
            f"/api/v1/tasks/{sleman_task['id']}/{action}", json=payload, headers=national
        )
        assert problem_of(refused, 404)["field"] == "task_id"
    after = client.get(f"/api/v1/tasks/{sleman_task['id']}", headers=national).get_json()
    assert (after["status"], after["assignee_id"]) == ("open", None)


def test_only_national_admins_list_every_task_and_others_still_get_404(
    client: FlaskClient,
) -> None:
    filed = forwarded_to_sleman(client)
    sleman = login(client, "sleman")
    task_id = open_task(client, sleman, filed["tracking_id"])["id"]
    for username in ("sleman", "diy", "badung"):
        asked = client.get(
            "/api/v1/tasks", query_string={"scope": "all"}, headers=login(client, username)
        )
        problem = problem_of(asked, 403)
        assert (problem["field"], problem["code"]) == ("scope", "forbidden")
    unknown = client.get("/api/v1/tasks", query_string={"scope": "semua"}, headers=sleman)
    assert problem_of(unknown, 422)["field"] == "scope"
    for username in ("badung", "diy"):  # another regency; the province supervises, acts elsewhere
        answer = client.get(f"/api/v1/tasks/{task_id}", headers=login(client, username))
        assert problem_of(answer, 404)["field"] == "task_id"
    problem_of(client.get("/api/v1/tasks/987654321", headers=login(client, "nasional")), 404)


def test_supervisors_read_the_attachments_of_reports_their_tree_handles(
    client: FlaskClient,
) -> None:
    filed = forwarded_to_sleman(client, anonim=True)
    listing = f"/api/v1/reports/{filed['tracking_id']}/attachments"
    province = login(client, "diy")  # DI Yogyakarta supervises Kabupaten Sleman
    answer = client.get(listing, headers=province)
    assert answer.status_code == 200
    [row] = answer.get_json()
    assert row["original_name"] is None  # anonim: staff never see the file name
    download = client.get(filed["attachment_url"], headers=province)
    assert download.status_code == 200 and download.data == PDF

    badung = login(client, "badung")  # admin of another tree
    assert problem_of(client.get(listing, headers=badung), 404)["field"] == "tracking_id"
    assert problem_of(client.get(filed["attachment_url"], headers=badung), 404)["field"] == (
        "attachment_id"
    )


def test_a_rahasia_report_s_attachments_stay_with_its_handlers(client: FlaskClient) -> None:
    filed = forwarded_to_sleman(client, rahasia=True)
    listing = f"/api/v1/reports/{filed['tracking_id']}/attachments"
    assert client.get(listing, headers=login(client, "sleman")).status_code == 200
    province = login(client, "diy")
    assert problem_of(client.get(listing, headers=province), 404)["field"] == "tracking_id"
    problem_of(client.get(filed["attachment_url"], headers=province), 404)


def test_supervisors_see_nothing_before_the_report_reaches_their_tree(
    client: FlaskClient,
) -> None:
    response = client.post("/api/v1/reports", json=REPORT)
    filed = response.get_json()
    upload = client.post(
        f"/api/v1/reports/{filed['tracking_id']}/attachments",
        data={"secret": filed["secret"], "file": (io.BytesIO(PDF), "bukti.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201
    listing = f"/api/v1/reports/{filed['tracking_id']}/attachments"  # still at national intake
    assert problem_of(client.get(listing, headers=login(client, "diy")), 404)["field"] == (
        "tracking_id"
    )
    assert client.get(listing, headers=login(client, "nasional")).status_code == 200

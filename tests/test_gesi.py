"""The pelapor deletes the optional GESI answers of their report through the REST API: only
with the report's secret (anyone else gets 404, exactly like an unknown number), audited with
ids only, and nothing written when nothing is left to delete."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine.errors import NotFound
from engine.models import AuditEvent, Report
from engine.services import gesi
from tests.helpers import Api, problem_of

ANSWERS = {"gender": "perempuan", "disability": "sensorik_netra", "vulnerable_group": "lansia"}


@pytest.fixture()
def api(app: Flask) -> Api:
    client = app.test_client()
    return Api(lambda: nullcontext(client))


def answers(factory: Any, tracking_id: str) -> tuple[str | None, ...]:
    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking_id))
        assert report is not None
        return (report.gender, report.disability, report.vulnerable_group)


def gesi_events(factory: Any) -> list[AuditEvent]:
    with factory() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "report.gesi_deleted")))


def delete(api: Api, tracking_id: str, secret: Any) -> Any:
    return api.call("POST", f"/api/v1/reports/{tracking_id}/gesi/delete", json={"secret": secret})


def test_the_pelapor_deletes_their_answers_once_audited_with_ids_only(
    api: Api, factory: Any
) -> None:
    filed = api.file(**ANSWERS, gesi_consent=True)
    tracking, secret = filed["tracking_id"], filed["secret"]
    assert answers(factory, tracking) == tuple(ANSWERS.values())

    response = delete(api, tracking, secret)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "tracking_id": tracking,
        "deleted": ["gender", "disability", "vulnerable_group"],
    }
    assert answers(factory, tracking) == (None, None, None)
    [event] = gesi_events(factory)
    with factory() as s:
        report_id = s.scalar(select(Report.id).where(Report.tracking_id == tracking))
    assert (event.actor, event.report_id, event.data) == ("pelapor", report_id, None)

    again = delete(api, tracking, secret)
    assert again.status_code == 200 and again.get_json()["deleted"] == []
    assert len(gesi_events(factory)) == 1  # nothing changed, nothing written
    assert api.report(tracking, secret)["status"] == "pending_verification"  # report untouched


def test_only_the_answers_given_are_deleted(api: Api, factory: Any) -> None:
    filed = api.file(gender="laki_laki", gesi_consent=True)
    response = delete(api, filed["tracking_id"], filed["secret"])
    assert response.status_code == 200 and response.get_json()["deleted"] == ["gender"]
    nothing = api.file()
    response = delete(api, nothing["tracking_id"], nothing["secret"])
    assert response.status_code == 200 and response.get_json()["deleted"] == []
    assert len(gesi_events(factory)) == 1


def test_anyone_but_the_owner_gets_404_and_nothing_changes(api: Api, factory: Any) -> None:
    mine = api.file(**ANSWERS, gesi_consent=True)
    other = api.file(gender="laki_laki", gesi_consent=True)
    for tracking, secret in (
        (mine["tracking_id"], other["secret"]),  # another report's secret
        (mine["tracking_id"], "bukan-rahasia-siapa-pun"),
        ("ABCDEFGHJK", mine["secret"]),  # no such report
        ("x" * 40, mine["secret"]),  # not a tracking id at all
    ):
        body = problem_of(delete(api, tracking, secret), 404)
        assert body["detail"] == "no report with this tracking id"
    assert problem_of(delete(api, mine["tracking_id"], None), 422)["field"] == "secret"
    missing = api.call("POST", f"/api/v1/reports/{mine['tracking_id']}/gesi/delete", json={})
    assert problem_of(missing, 422)["field"] == "secret"
    assert answers(factory, mine["tracking_id"]) == tuple(ANSWERS.values())
    assert answers(factory, other["tracking_id"]) == ("laki_laki", None, None)
    assert gesi_events(factory) == []


def test_the_service_refuses_a_missing_secret(api: Api, factory: Any) -> None:
    filed = api.file(**ANSWERS, gesi_consent=True)
    with factory() as session, pytest.raises(NotFound):
        gesi.delete(session, tracking_id=filed["tracking_id"], secret=None)
    with factory() as session:
        assert gesi.delete(
            session, tracking_id=filed["tracking_id"], secret=filed["secret"]
        ) == list(ANSWERS)
    assert answers(factory, filed["tracking_id"]) == (None, None, None)


def test_the_endpoint_is_documented(client: Any) -> None:
    spec = client.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/reports/{tracking_id}/gesi/delete"]["post"]
    assert "404" in operation["responses"] or "default" in operation["responses"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]

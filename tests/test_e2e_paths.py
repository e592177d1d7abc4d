"""Every path of the national SOP, through the HTTP API; each step on a brand-new app.

State therefore comes only from the database, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent, HumanTask, ProcessInstance, Report
from tests.helpers import Api

FOLLOW_UP = {"tindak_lanjut": "Perbaikan jalan sudah dijadwalkan minggu depan oleh DPUPKP."}


@pytest.fixture()
def api(new_app_client: Any, database_url: str) -> Api:
    return Api(new_app_client)


def kinds(report: dict[str, Any]) -> list[str]:
    return [entry["kind"] for entry in report["timeline"]]


def forward_and_dispose(api: Api, tracking: str) -> None:
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    api.complete("sleman", tracking, {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"})


def test_forward_follow_up_rate_closed(api: Api, factory: Any) -> None:
    filed = api.file()
    tracking, secret = filed["tracking_id"], filed["secret"]
    assert filed["status"] == "pending_verification"
    assert len(tracking) == 10 and not set(tracking) & set("ILO01")

    forward_and_dispose(api, tracking)
    assert api.report(tracking)["status"] == "in_progress"
    api.complete("sleman.pu", tracking, FOLLOW_UP)
    shown = api.report(tracking)
    assert shown["status"] == "followed_up"
    assert shown["timeline"][-1]["text"] == FOLLOW_UP["tindak_lanjut"]

    assert (
        api.reply(tracking, secret, kind="rating", rating=5, satisfied=True)["status"] == "closed"
    )
    final = api.report(tracking)
    assert final["status"] == "closed" and final["closed_at"]
    assert kinds(final) == ["filed", "forwarded", "disposed", "follow_up", "rated", "closed"]
    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking))
        statuses = s.scalars(
            select(ProcessInstance.status).where(ProcessInstance.report_id == report.id)
        ).all()
        assert sorted(statuses) == ["completed", "completed"]  # intake and the Sleman SOP
        open_tasks = s.scalar(
            select(func.count())
            .select_from(HumanTask)
            .where(HumanTask.report_id == report.id, HumanTask.status == "open")
        )
        assert open_tasks == 0
        actions = s.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.report_id == report.id)
            .order_by(AuditEvent.id)
        ).all()
        assert actions == [
            "report.filed",
            "task.completed",
            "task.completed",
            "task.completed",
            "report.reply.rating",
        ]


def test_tidak_puas_reopens_once_then_closes(api: Api) -> None:
    filed = api.file()
    tracking, secret = filed["tracking_id"], filed["secret"]
    forward_and_dispose(api, tracking)
    api.complete("sleman.pu", tracking, FOLLOW_UP)

    reopened = api.reply(
        tracking,
        secret,
        kind="rating",
        rating=1,
        satisfied=False,
        text="Belum ada perbaikan sama sekali.",
    )
    assert reopened["status"] == "reopened"
    # back to the same unit: the liaison officer of DPUPKP gets the follow-up again
    api.complete("sleman.pu", tracking, {"tindak_lanjut": "Perbaikan selesai hari ini, 12 m2."})
    assert api.report(tracking)["status"] == "followed_up"
    # a second "tidak puas" cannot reopen again: the report closes
    api.reply(tracking, secret, kind="rating", rating=2, satisfied=False)
    final = api.report(tracking)
    assert final["status"] == "closed"
    assert kinds(final).count("reopened") == 1
    assert kinds(final).count("follow_up") == 2


def test_tunda_info_supplied_then_continues(api: Api) -> None:
    filed = api.file(target_instansi=None)
    tracking, secret = filed["tracking_id"], filed["secret"]
    api.complete("nasional", tracking, {"outcome": "tunda", "reason": "Lokasi belum jelas."})
    assert api.report(tracking)["status"] == "on_hold"
    # nobody has a task while the report waits for the pelapor
    token = api.login("nasional")
    assert api.call("GET", "/api/v1/tasks", token=token).get_json() == []

    api.reply(tracking, secret, kind="info", text="Lokasinya di depan Pasar Gentan, Ngaglik.")
    assert api.report(tracking)["status"] == "pending_verification"
    forward_and_dispose(api, tracking)
    api.complete("sleman.pu", tracking, FOLLOW_UP)
    assert api.report(tracking)["status"] == "followed_up"


def test_bukan_wewenang_rerouted_and_handled_on_own_sop(api: Api, factory: Any) -> None:
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    api.complete(
        "sleman",
        tracking,
        {"outcome": "bukan_wewenang", "reason": "Jalan nasional: wewenang Kementerian PU."},
    )
    assert api.report(tracking)["status"] == "pending_verification"
    # Sleman no longer sees it; national routing does, and sends it to Badung
    sleman_tasks = api.call("GET", "/api/v1/tasks", token=api.login("sleman")).get_json()
    assert sleman_tasks == []
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "51.03"})
    api.complete("badung", tracking, {"outcome": "disposisi", "target_unit": "51.03-DPUPR"})
    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking))
        sops = s.execute(
            select(ProcessInstance.status, ProcessInstance.instansi_id)
            .where(ProcessInstance.report_id == report.id, ProcessInstance.parent_id.is_not(None))
            .order_by(ProcessInstance.id)
        ).all()
        assert [status for status, _ in sops] == ["completed", "running"]
        assert sops[0][1] != sops[1][1] == report.current_instansi_id
    assert kinds(api.report(tracking)) == [
        "filed",
        "forwarded",
        "returned",
        "forwarded",
        "disposed",
    ]


def test_arsipkan_with_reason(api: Api) -> None:
    filed = api.file()
    tracking = filed["tracking_id"]
    api.complete("nasional", tracking, {"outcome": "arsipkan"}, expect=422)
    api.complete(
        "nasional",
        tracking,
        {"outcome": "arsipkan", "reason": "Laporan duplikat dari laporan lain."},
    )
    final = api.report(tracking)
    assert final["status"] == "archived" and final["closed_at"]
    assert final["timeline"][-1]["text"] == "Laporan duplikat dari laporan lain."


def test_rahasia_report_answers_only_with_secret(api: Api) -> None:
    filed = api.file(rahasia=True)
    tracking = filed["tracking_id"]
    assert api.call("GET", f"/api/v1/reports/{tracking}").status_code == 404
    assert (
        api.call(
            "GET", f"/api/v1/reports/{tracking}", query={"secret": "wrong-secret-xx"}
        ).status_code
        == 404
    )
    assert api.report(tracking, filed["secret"])["rahasia"] is True


def test_public_view_never_carries_identity(api: Api) -> None:
    filed = api.file(anonim=True)
    body = api.call("GET", f"/api/v1/reports/{filed['tracking_id']}").get_data(as_text=True)
    for sentinel in ("Sentinel Pelapor", "sentinel@example.org", "0000 1111"):
        assert sentinel not in body

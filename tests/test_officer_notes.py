"""Officers' case file and internal notes: authorised through the task, anonim identity kept
out of the case file, notes internal (never public, never the pelapor's) and audited."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine.errors import InvalidInput, NotFound
from engine.models import AuditEvent
from tests.helpers import Api


@pytest.fixture()
def api(app: Flask) -> Api:
    client = app.test_client()
    return Api(lambda: nullcontext(client))


def principal(factory: Any, username: str) -> Any:
    from engine.services import auth

    with factory() as s:
        token, _row = auth.login(s, username=username, password="lapor-demo-2026")
        return auth.authenticate(s, token=token)


def test_a_note_is_internal_audited_and_only_for_who_may_see_the_task(
    api: Api, factory: Any
) -> None:
    from engine.services import officer_notes, reports

    tracking = api.file()["tracking_id"]
    task = api.task_for("nasional", tracking)["id"]
    nasional = principal(factory, "nasional")
    with factory() as s:
        officer_notes.add_note(s, principal=nasional, task_id=task, text="  Cek foto.  ")
    with factory() as s:
        (note,) = [
            t
            for t in officer_notes.case_file(s, principal=nasional, task_id=task).timeline
            if t.kind == officer_notes.NOTE_KIND
        ]
        assert (note.text, note.public, note.data["author"]) == ("Cek foto.", False, "nasional")
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "report.note_added"))
        assert event is not None and event.actor == nasional.actor and event.task_id == task
    with factory() as s:
        public = reports.get_public(s, tracking_id=tracking)
        assert [t.kind for t in public.timeline] == ["filed"]

    badung = principal(factory, "badung")
    with factory() as s, pytest.raises(NotFound):
        officer_notes.add_note(s, principal=badung, task_id=task, text="intip")
    with factory() as s, pytest.raises(NotFound):
        officer_notes.case_file(s, principal=badung, task_id=task)
    for text in ("   ", "x" * (officer_notes.MAX_NOTE + 1), "nul\x00"):
        with factory() as s, pytest.raises(InvalidInput):
            officer_notes.add_note(s, principal=nasional, task_id=task, text=text)


def test_the_case_file_has_no_identity_of_an_anonymous_pelapor(api: Api, factory: Any) -> None:
    from engine.services import officer_notes

    hidden = api.file(anonim=True)["tracking_id"]
    named = api.file()["tracking_id"]
    api.complete("nasional", hidden, {"outcome": "forward", "target_instansi": "34.04"})
    sleman = principal(factory, "sleman")
    with factory() as s:
        case = officer_notes.case_file(
            s, principal=sleman, task_id=api.task_for("sleman", hidden)["id"]
        )
    assert case.pelapor is None and case.anonim
    assert "Sentinel" not in repr(case) and "sentinel@example.org" not in repr(case)
    assert case.current_instansi == ("34.04", "Kabupaten Sleman")
    assert ("34.04-DPUPKP" in dict(case.units)) and [t.kind for t in case.timeline] == [
        "filed",
        "forwarded",
    ]
    with factory() as s:
        case = officer_notes.case_file(
            s,
            principal=principal(factory, "nasional"),
            task_id=api.task_for("nasional", named)["id"],
        )
    assert case.pelapor is not None and case.pelapor.name == "Sentinel Pelapor"

    rows = officer_notes.inbox(factory(), principal=sleman)
    assert [(r.tracking_id, r.task.milestone) for r in rows] == [(hidden, "disposition")]

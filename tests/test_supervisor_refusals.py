"""The supervisor's report page shows a refused intervention by the refusal's code
(sla.interventions: nobody_holds, already_held, not_escalated, no_open_task, changed_meanwhile),
in Bahasa Indonesia or English, never the service's English words."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.web.supervisor import INTERVENTION_CODES, message_of
from engine.errors import Conflict
from engine.seed.loader import DEMO_PASSWORD
from tests.helpers import Api
from tests.test_supervision import disposition_escalated

ENGLISH = {
    "nobody_holds": "No officer holds this task yet: reassign it or take it over.",
    "already_held": "You already hold this task.",
    "not_escalated": "This report's open task was not escalated to you, or it has changed.",
    "no_open_task": "This report no longer has an open task.",
    "changed_meanwhile": "Someone else has just changed this report. Reload the page.",
}


def test_each_intervention_code_has_its_sentence_in_both_languages(app: Flask) -> None:
    assert set(ENGLISH) == INTERVENTION_CODES
    seen = set()
    for code, english in ENGLISH.items():
        error = Conflict("the service's own English words", field="tracking_id", code=code)
        with app.test_request_context("/?lang=en"):
            assert message_of(error) == ("form", english)
        with app.test_request_context("/?lang=id"):
            where, indonesian = message_of(error)
        assert where == "form" and indonesian != english and "service's" not in indonesian
        seen.add(indonesian)
    assert len(seen) == len(ENGLISH)  # one sentence per code


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    token = csrf_in(client.get("/login").get_data(as_text=True))
    form = {"csrf_token": token, "username": username, "password": DEMO_PASSWORD}
    assert client.post("/login", data=form).status_code == 303
    return client


def csrf_in(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [("id", "Anda sudah memegang tugas ini."), ("en", ENGLISH["already_held"])],
)
def test_taking_over_twice_is_refused_on_the_page_by_its_code(
    app: Flask, fresh_client: Any, factory: Any, lang: str, sentence: str
) -> None:
    tracking = disposition_escalated(Api(fresh_client), factory)
    client = signed_in(app, "diy")  # the province the disposition escalated to
    url = f"/pengawasan/{tracking}"
    form = {"csrf_token": csrf_in(client.get(url).get_data(as_text=True)), "reason": "Macet."}
    assert client.post(f"{url}/ambil-alih?lang={lang}", data=form).status_code == 303
    again = client.post(f"{url}/ambil-alih?lang={lang}", data=form)
    page = html.unescape(again.get_data(as_text=True))
    assert again.status_code == 409
    assert f'<p class="card error" role="alert">{sentence}</p>' in page
    assert "you already hold this task" not in page

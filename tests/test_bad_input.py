"""Bad input on every endpoint is a 4xx `application/problem+json` answer, never a 500.

Each answer carries type, title, status, detail, code and field; the field names what is at
fault (a body key, `tracking_id`, `task_id`, `Authorization`...), and a schema validation error
also lists per-field `errors`. Task-form cases run on the national SOP's own JSON Schemas.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import User
from engine.seed.loader import DEMO_PASSWORD
from engine.services import auth
from tests.helpers import REPORT, Api, problem_of

KEYS = {"type", "title", "status", "detail", "code", "field"}
ANY = object()  # "any field" marker for answers where no single field is at fault
MIB = 1024 * 1024
UNKNOWN_TASK = 987654321
HUGE_TASK = 99999999999999999999  # fits the route's int converter, not a 64-bit integer
SURROGATE = "\ud800"  # a lone UTF-16 surrogate: valid JSON escape, not encodable as UTF-8


def expect_problem(
    response: Any, status: int, field: Any = ANY, *, schema_errors: bool = False
) -> dict[str, Any]:
    """A problem+json answer of `status` naming `field`; with `schema_errors`, lists it too."""
    body = problem_of(response, status)
    assert body.keys() >= KEYS, body
    assert body["type"] and body["title"] and body["code"], body
    if field is not ANY:
        assert body["field"] == field, body
    if schema_errors:
        assert isinstance(body.get("errors"), dict), body
        assert str(field).split(".")[0] in body["errors"], body
    return body


def expect_one_of(response: Any, answers: set[tuple[int, str | None]]) -> dict[str, Any]:
    """A problem+json answer whose (status, field) is one of the acceptable `answers`."""
    assert response.status_code in {status for status, _ in answers}, response.get_data(
        as_text=True
    )
    body = expect_problem(response, response.status_code)
    assert (body["status"], body["field"]) in answers, body
    return body


def post_json(client: Any, url: str, payload: Any, token: str | None = None) -> Any:
    """POST `payload` as a JSON body (ASCII-escaped, so lone surrogates travel as escapes)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(
        url, data=json.dumps(payload), content_type="application/json", headers=headers
    )


def login(client: Any, username: str) -> str:
    response = post_json(
        client, "/api/v1/auth/login", {"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    token: str = response.get_json()["token"]
    return token


def file_report(client: Any, **overrides: Any) -> dict[str, Any]:
    response = post_json(client, "/api/v1/reports", {**REPORT, **overrides})
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


@pytest.fixture()
def api(fresh_client: Any, database_url: str) -> Api:
    return Api(fresh_client)


@pytest.fixture()
def filed(client: Any) -> dict[str, Any]:
    """A fresh report waiting for national verification (tracking_id, secret, status)."""
    return file_report(client)


# --------------------------------------------------------------------------- POST /reports


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in REPORT.items() if k != key}


REQUIRED = ("classification", "category", "title", "body", "region_code")


@pytest.mark.parametrize("field", REQUIRED)
def test_report_missing_required_field(client: Any, field: str) -> None:
    response = post_json(client, "/api/v1/reports", without(field))
    expect_problem(response, 422, field, schema_errors=True)


@pytest.mark.parametrize("field", REQUIRED)
def test_report_required_field_null(client: Any, field: str) -> None:
    response = post_json(client, "/api/v1/reports", {**REPORT, field: None})
    expect_problem(response, 422, field, schema_errors=True)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("anonim", "yes please"),
        ("rahasia", [True]),
        ("title", 123),
        ("body", ["Jalan di depan pasar berlubang besar sejak Januari."]),
        ("category", {"name": "infrastruktur"}),
        ("classification", True),
        ("region_code", 3404),
        ("target_instansi", 34.04),
        ("pelapor_name", 42),
        ("pelapor_email", ["sentinel@example.org"]),
        ("pelapor_phone", 628120000111),
    ],
)
def test_report_wrong_type(client: Any, field: str, value: Any) -> None:
    response = post_json(client, "/api/v1/reports", {**REPORT, field: value})
    expect_problem(response, 422, field, schema_errors=True)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("classification", "keluhan"),
        ("classification", "PENGADUAN"),
        ("category", "x"),
        ("category", "k" * 65),
        ("title", "Rusk"),
        ("title", "t" * 201),
        ("body", "Terlalu pendek."),
        ("body", "b" * 20001),
        ("region_code", "3"),
        ("region_code", "3" * 17),
        ("target_instansi", "T" * 33),
        ("pelapor_name", ""),
        ("pelapor_name", "n" * 201),
        ("pelapor_email", "not-an-email"),
        ("pelapor_email", "sentinel@"),
        ("pelapor_email", "@example.org"),
        ("pelapor_email", "a" * 250 + "@example.org"),
        ("pelapor_phone", "call me maybe"),
        ("pelapor_phone", "12345"),
        ("pelapor_phone", "+62 812 abc 1111"),
        ("pelapor_phone", "0812" * 6),
    ],
)
def test_report_invalid_value(client: Any, field: str, value: Any) -> None:
    response = post_json(client, "/api/v1/reports", {**REPORT, field: value})
    expect_problem(response, 422, field, schema_errors=True)


def test_report_unknown_key_is_named(client: Any) -> None:
    response = post_json(client, "/api/v1/reports", {**REPORT, "colour": "red"})
    expect_problem(response, 422, "colour", schema_errors=True)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("region_code", "99.99"),
        ("region_code", "34.04.01.2001"),
        ("target_instansi", "99.99"),
        ("target_instansi", "KEMENTERIAN-X"),
    ],
)
def test_report_unknown_reference(client: Any, field: str, value: str) -> None:
    response = post_json(client, "/api/v1/reports", {**REPORT, field: value})
    expect_problem(response, 422, field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "Jalan rusak\x00 di Kaliurang"),
        ("body", "Jalan di depan pasar berlubang\x00 besar sejak Januari."),
        ("category", "infra\x00struktur"),
        ("pelapor_name", "Sentinel\x00Pelapor"),
        ("title", f"Jalan rusak {SURROGATE} di Kaliurang"),
        ("body", f"Jalan di depan pasar berlubang {SURROGATE} besar sejak Januari."),
        ("pelapor_name", f"Sentinel {SURROGATE}"),
    ],
    ids=[
        "title-nul",
        "body-nul",
        "category-nul",
        "name-nul",
        "title-surrogate",
        "body-surrogate",
        "name-surrogate",
    ],
)
def test_report_text_that_cannot_be_stored(client: Any, field: str, value: str) -> None:
    """NUL (PostgreSQL text cannot hold it) and lone surrogates (not UTF-8) are input errors."""
    response = post_json(client, "/api/v1/reports", {**REPORT, field: value})
    expect_problem(response, 422, field)


# ------------------------------------------------------------------- GET /reports/{tracking}


@pytest.mark.parametrize(
    "tracking_id",
    [
        "ZZZZZZZZZZ",
        "abc",
        "X" * 300,
        "%00",
        "ZZZZZ%00ZZZZ",
        "%27%20OR%201%3D1%20--",
    ],
)
def test_report_unknown_tracking_id(client: Any, tracking_id: str) -> None:
    response = client.get(f"/api/v1/reports/{tracking_id}")
    expect_problem(response, 404, "tracking_id")


def test_rahasia_report_without_or_with_wrong_secret(client: Any) -> None:
    tracking = file_report(client, rahasia=True)["tracking_id"]
    expect_problem(client.get(f"/api/v1/reports/{tracking}"), 404, "tracking_id")
    response = client.get(f"/api/v1/reports/{tracking}", query_string={"secret": "wrong-secret"})
    expect_problem(response, 404, "tracking_id")


def test_report_secret_too_long(client: Any, filed: dict[str, Any]) -> None:
    response = client.get(
        f"/api/v1/reports/{filed['tracking_id']}", query_string={"secret": "s" * 129}
    )
    expect_problem(response, 422, "secret", schema_errors=True)


# ------------------------------------------------------------ POST /reports/{tracking}/replies


def reply(client: Any, tracking: str, payload: dict[str, Any]) -> Any:
    return post_json(client, f"/api/v1/reports/{tracking}/replies", payload)


def test_reply_unknown_tracking_id(client: Any) -> None:
    response = reply(
        client, "ZZZZZZZZZZ", {"secret": "some-secret-value", "kind": "comment", "text": "Halo."}
    )
    expect_problem(response, 404, "tracking_id")


@pytest.mark.parametrize("secret", ["wrong-secret-xx", "w" * 128])
def test_reply_wrong_secret(client: Any, filed: dict[str, Any], secret: str) -> None:
    response = reply(
        client, filed["tracking_id"], {"secret": secret, "kind": "comment", "text": "Ada tambahan."}
    )
    expect_problem(response, 404, "tracking_id")


def test_reply_secret_that_is_not_utf8(client: Any, filed: dict[str, Any]) -> None:
    response = reply(
        client,
        filed["tracking_id"],
        {"secret": SURROGATE * 10, "kind": "comment", "text": "Ada tambahan."},
    )
    expect_one_of(response, {(404, "tracking_id"), (422, "secret")})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"secret": None}, "secret"),
        ({"secret": "short"}, "secret"),
        ({"secret": "s" * 129}, "secret"),
        ({"secret": 12345678}, "secret"),
        ({"kind": None}, "kind"),
        ({"kind": "complaint"}, "kind"),
        ({"kind": 3}, "kind"),
        ({"kind": "rating", "rating": 0}, "rating"),
        ({"kind": "rating", "rating": 6}, "rating"),
        ({"kind": "rating", "rating": -1}, "rating"),
        ({"kind": "rating", "rating": "five"}, "rating"),
        ({"kind": "rating", "rating": 10**30}, "rating"),
        ({"kind": "rating", "rating": 5, "satisfied": "maybe"}, "satisfied"),
        ({"kind": "comment", "text": "t" * 5001}, "text"),
        ({"kind": "comment", "text": 42}, "text"),
        ({"kind": "comment", "mood": "angry"}, "mood"),
    ],
)
def test_reply_schema_errors(
    client: Any, filed: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    payload = {"secret": filed["secret"], "kind": "comment", "text": "Ada tambahan.", **change}
    payload = {k: v for k, v in payload.items() if v is not None}
    response = reply(client, filed["tracking_id"], payload)
    expect_problem(response, 422, field, schema_errors=True)


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "comment"},
        {"kind": "comment", "text": ""},
    ],
)
def test_reply_comment_without_text(
    client: Any, filed: dict[str, Any], payload: dict[str, Any]
) -> None:
    response = reply(client, filed["tracking_id"], {"secret": filed["secret"], **payload})
    expect_problem(response, 422, "text")


@pytest.mark.parametrize(
    "text", ["Ada\x00 tambahan.", f"Ada {SURROGATE} tambahan."], ids=["nul", "surrogate"]
)
def test_reply_comment_that_cannot_be_stored(client: Any, filed: dict[str, Any], text: str) -> None:
    response = reply(
        client, filed["tracking_id"], {"secret": filed["secret"], "kind": "comment", "text": text}
    )
    expect_problem(response, 422, "text")


def test_reply_info_when_not_on_hold(client: Any, filed: dict[str, Any]) -> None:
    response = reply(
        client,
        filed["tracking_id"],
        {"secret": filed["secret"], "kind": "info", "text": "Lokasinya di depan pasar."},
    )
    expect_problem(response, 409, "kind")


def test_reply_rating_before_follow_up(client: Any, filed: dict[str, Any]) -> None:
    response = reply(
        client,
        filed["tracking_id"],
        {"secret": filed["secret"], "kind": "rating", "rating": 5, "satisfied": True},
    )
    expect_problem(response, 409, "kind")


def test_reply_info_on_hold_needs_text(api: Api) -> None:
    filed = api.file(target_instansi=None)
    api.complete(
        "nasional", filed["tracking_id"], {"outcome": "tunda", "reason": "Lokasi belum jelas."}
    )
    url = f"/api/v1/reports/{filed['tracking_id']}/replies"
    response = api.call("POST", url, json={"secret": filed["secret"], "kind": "info"})
    expect_problem(response, 422, "text")
    # rating while on hold: there is no follow-up to rate
    response = api.call(
        "POST",
        url,
        json={"secret": filed["secret"], "kind": "rating", "rating": 4, "satisfied": True},
    )
    expect_problem(response, 409, "kind")


def test_reply_rating_needs_both_parts_then_closed_report_refuses(api: Api) -> None:
    filed = api.file()
    tracking, secret = filed["tracking_id"], filed["secret"]
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    api.complete("sleman", tracking, {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"})
    api.complete("sleman.pu", tracking, {"tindak_lanjut": "Perbaikan dijadwalkan minggu depan."})
    url = f"/api/v1/reports/{tracking}/replies"
    response = api.call("POST", url, json={"secret": secret, "kind": "rating", "rating": 4})
    expect_problem(response, 422, "satisfied")
    response = api.call("POST", url, json={"secret": secret, "kind": "rating", "satisfied": True})
    expect_problem(response, 422, "rating")
    response = api.call(
        "POST", url, json={"secret": secret, "kind": "info", "text": "Info yang tidak diminta."}
    )
    expect_problem(response, 409, "kind")
    api.reply(tracking, secret, kind="rating", rating=5, satisfied=True)
    response = api.call(
        "POST", url, json={"secret": secret, "kind": "rating", "rating": 1, "satisfied": False}
    )
    expect_problem(response, 409, "kind")


# ------------------------------------------------------------------------ POST /auth/login


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("nasional", "wrong-password"),
        ("nasional", DEMO_PASSWORD.upper()),
        ("nobody-here", DEMO_PASSWORD),
        ("NASIONAL", DEMO_PASSWORD),
    ],
)
def test_login_refused(client: Any, username: str, password: str) -> None:
    response = post_json(client, "/api/v1/auth/login", {"username": username, "password": password})
    body = expect_problem(response, 401, "password")
    assert "token" not in body


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"password": DEMO_PASSWORD}, "username"),
        ({"username": "nasional"}, "password"),
        ({"username": "", "password": DEMO_PASSWORD}, "username"),
        ({"username": "nasional", "password": ""}, "password"),
        ({"username": "u" * 65, "password": DEMO_PASSWORD}, "username"),
        ({"username": "nasional", "password": "p" * 257}, "password"),
        ({"username": 42, "password": DEMO_PASSWORD}, "username"),
        ({"username": "nasional", "password": ["x"]}, "password"),
        ({"username": None, "password": DEMO_PASSWORD}, "username"),
        ({"username": "nasional", "password": DEMO_PASSWORD, "otp": "123456"}, "otp"),
    ],
)
def test_login_schema_errors(client: Any, payload: dict[str, Any], field: str) -> None:
    response = post_json(client, "/api/v1/auth/login", payload)
    expect_problem(response, 422, field, schema_errors=True)


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("nasional\x00", DEMO_PASSWORD),
        ("nasional", DEMO_PASSWORD + "\x00"),
        (f"nasional{SURROGATE}", DEMO_PASSWORD),
        ("nasional", f"{DEMO_PASSWORD}{SURROGATE}"),
    ],
    ids=["username-nul", "password-nul", "username-surrogate", "password-surrogate"],
)
def test_login_with_text_that_cannot_be_stored(client: Any, username: str, password: str) -> None:
    response = post_json(client, "/api/v1/auth/login", {"username": username, "password": password})
    expect_one_of(response, {(401, "password"), (422, "username"), (422, "password")})


# -------------------------------------------------------------------------------- tasks: auth


TASK_CALLS = [
    ("GET", "/api/v1/tasks", None),
    ("GET", f"/api/v1/tasks/{UNKNOWN_TASK}", None),
    ("POST", f"/api/v1/tasks/{UNKNOWN_TASK}/claim", None),
    ("POST", f"/api/v1/tasks/{UNKNOWN_TASK}/complete", {"data": {"outcome": "forward"}}),
]
BAD_AUTH = [
    None,
    "Bearer garbage-token",
    "Bearer " + "A" * 43,
    "Bearer",
    "Bearer    ",
    "Basic bmFzaW9uYWw6bGFwb3ItZGVtby0yMDI2",
    "garbage",
    "Token abc",
]


@pytest.mark.parametrize(("method", "url", "payload"), TASK_CALLS)
@pytest.mark.parametrize("header", BAD_AUTH)
def test_tasks_need_a_live_bearer_token(
    client: Any, method: str, url: str, payload: Any, header: str | None
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = client.open(url, method=method, json=payload, headers=headers)
    expect_problem(response, 401, "Authorization")


def test_tasks_refuse_a_token_after_its_lifetime(client: Any) -> None:
    token = login(client, "nasional")
    clock.set_clock(offset=auth.TOKEN_LIFETIME + timedelta(minutes=1))  # clean_slate restores
    response = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    expect_problem(response, 401, "Authorization")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "abc"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "-5"}, "limit"),
        ({"limit": "1.5"}, "limit"),
        ({"limit": "9" * 30}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "xyz"}, "offset"),
        ({"offset": "9" * 30}, "offset"),
        ({"limit": " 5"}, "limit"),  # int() would take these; a query integer is ASCII digits
        ({"limit": "5\u00a0"}, "limit"),
        ({"offset": "\u0661"}, "offset"),
    ],
)
def test_task_list_bad_query(client: Any, query: dict[str, str], field: str) -> None:
    token = login(client, "nasional")
    response = client.get(
        "/api/v1/tasks", query_string=query, headers={"Authorization": f"Bearer {token}"}
    )
    expect_problem(response, 422, field, schema_errors=True)


# ------------------------------------------------------------------------- tasks: which task


@pytest.mark.parametrize("task_id", [UNKNOWN_TASK, HUGE_TASK, 0])
@pytest.mark.parametrize(
    ("method", "suffix", "payload"),
    [
        ("GET", "", None),
        ("POST", "/claim", None),
        ("POST", "/complete", {"data": {"outcome": "arsipkan", "reason": "Duplikat."}}),
        ("POST", "/complete-group", {"data": {"outcome": "arsipkan", "reason": "Duplikat."}}),
    ],
)
def test_unknown_task_id(client: Any, task_id: int, method: str, suffix: str, payload: Any) -> None:
    token = login(client, "nasional")
    response = client.open(
        f"/api/v1/tasks/{task_id}{suffix}",
        method=method,
        json=payload,
        headers={"Authorization": f"Bearer {token}"},
    )
    expect_problem(response, 404, "task_id")


@pytest.fixture()
def sleman_task(api: Api) -> dict[str, Any]:
    """A report forwarded to Sleman: its admin instansi's open disposition task."""
    filed = api.file()
    api.complete(
        "nasional", filed["tracking_id"], {"outcome": "forward", "target_instansi": "34.04"}
    )
    task = api.task_for("sleman", filed["tracking_id"])
    return {**task, "tracking_id": filed["tracking_id"], "secret": filed["secret"]}


@pytest.mark.parametrize("username", ["badung", "kemenkes", "sleman.pu", "diy", "designer"])
@pytest.mark.parametrize(
    ("method", "suffix", "payload"),
    [
        ("GET", "", None),
        ("POST", "/claim", None),
        ("POST", "/complete", {"data": {"outcome": "disposisi", "target_unit": "51.03-DPUPR"}}),
    ],
)
def test_another_instansis_task_looks_missing(
    api: Api, sleman_task: dict[str, Any], username: str, method: str, suffix: str, payload: Any
) -> None:
    response = api.call(
        method,
        f"/api/v1/tasks/{sleman_task['id']}{suffix}",
        token=api.login(username),
        json=payload,
    )
    expect_problem(response, 404, "task_id")
    # and nothing happened to it
    assert api.task_for("sleman", sleman_task["tracking_id"])["assignee_id"] is None


# ------------------------------------------------------------------------ tasks: complete


@pytest.fixture()
def verify_task(api: Api, filed: dict[str, Any]) -> dict[str, Any]:
    """The national admin's open verification task of a fresh report."""
    return api.task_for("nasional", filed["tracking_id"])


def complete(api: Api, username: str, task_id: int, body: Any) -> Any:
    return api.call(
        "POST", f"/api/v1/tasks/{task_id}/complete", token=api.login(username), json=body
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"data": None},
        {"data": ["outcome", "forward"]},
        {"data": "outcome=forward"},
        {"data": 1},
        {"data": {"k" * 65: "v"}},
    ],
)
def test_complete_without_a_data_object(
    api: Api, verify_task: dict[str, Any], body: dict[str, Any]
) -> None:
    body = expect_problem(complete(api, "nasional", verify_task["id"], body), 422)
    assert str(body["field"]).split(".")[0] == "data", body
    assert "data" in body.get("errors", {}), body


def test_complete_unknown_top_level_key(api: Api, verify_task: dict[str, Any]) -> None:
    response = complete(
        api,
        "nasional",
        verify_task["id"],
        {"data": {"outcome": "arsipkan", "reason": "Duplikat."}, "force": True},
    )
    expect_problem(response, 422, "force", schema_errors=True)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": "FORWARD", "target_instansi": "34.04"}, "outcome"),
        ({"outcome": 5}, "outcome"),
        ({"outcome": None}, "outcome"),
        ({}, "outcome"),
        ({"target_instansi": "34.04"}, "outcome"),
        ({"outcome": "forward", "target_instansi": "34.04", "colour": "red"}, "colour"),
        ({"outcome": "forward", "target_instansi": "T" * 33}, "target_instansi"),
        ({"outcome": "forward", "target_instansi": 3404}, "target_instansi"),
        ({"outcome": "tunda", "reason": "r" * 2001}, "reason"),
        ({"outcome": "tunda", "reason": ["Lokasi belum jelas."]}, "reason"),
    ],
)
def test_complete_data_failing_the_form_schema(
    api: Api, verify_task: dict[str, Any], data: dict[str, Any], field: str
) -> None:
    response = complete(api, "nasional", verify_task["id"], {"data": data})
    expect_problem(response, 422, field)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"outcome": "forward"}, "target_instansi"),
        ({"outcome": "forward", "target_instansi": ""}, "target_instansi"),
        ({"outcome": "forward", "target_instansi": "99.99"}, "target_instansi"),
        ({"outcome": "forward", "target_instansi": "34.04-DPUPKP"}, "target_instansi"),
        ({"outcome": "tunda"}, "reason"),
        ({"outcome": "tunda", "reason": "   "}, "reason"),
        ({"outcome": "bukan_wewenang"}, "reason"),
        ({"outcome": "arsipkan", "reason": ""}, "reason"),
        ({"outcome": "tunda", "reason": "Lokasi\x00 belum jelas."}, "reason"),
        ({"outcome": "tunda", "reason": f"Lokasi {SURROGATE} belum jelas."}, "reason"),
    ],
)
def test_complete_verification_bad_references(
    api: Api, verify_task: dict[str, Any], data: dict[str, Any], field: str
) -> None:
    response = complete(api, "nasional", verify_task["id"], {"data": data})
    expect_problem(response, 422, field)
    # the task is still open and the report still waits for verification
    assert api.task_for("nasional", verify_task["report"]["tracking_id"])["status"] == "open"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"outcome": "disposisi", "target_unit": "51.03-DPUPR"}, "target_unit"),
        ({"outcome": "disposisi", "target_unit": "KEMENKES-ITJEN"}, "target_unit"),
        ({"outcome": "disposisi", "target_unit": "34.04-NOPE"}, "target_unit"),
        ({"outcome": "disposisi"}, "target_unit"),
        ({"outcome": "disposisi", "target_unit": ""}, "target_unit"),
        ({"outcome": "disposisi", "target_unit": "U" * 65}, "target_unit"),
        ({"outcome": "forward"}, "outcome"),
        (
            {"outcome": "disposisi", "target_unit": "34.04-DPUPKP", "target_instansi": "51.03"},
            "target_instansi",
        ),
        ({"outcome": "bukan_wewenang"}, "reason"),
        ({"target_unit": "34.04-DPUPKP"}, "outcome"),
    ],
)
def test_complete_disposition_bad_data(
    api: Api, sleman_task: dict[str, Any], data: dict[str, Any], field: str
) -> None:
    response = complete(api, "sleman", sleman_task["id"], {"data": data})
    expect_problem(response, 422, field)
    assert api.task_for("sleman", sleman_task["tracking_id"])["status"] == "open"


@pytest.fixture()
def follow_up_task(api: Api, sleman_task: dict[str, Any]) -> dict[str, Any]:
    """The DPUPKP liaison officer's open follow-up task of a disposed report."""
    tracking = sleman_task["tracking_id"]
    api.complete("sleman", tracking, {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"})
    return {**api.task_for("sleman.pu", tracking), "tracking_id": tracking}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "tindak_lanjut"),
        ({"tindak_lanjut": "ok"}, "tindak_lanjut"),
        ({"tindak_lanjut": "t" * 10001}, "tindak_lanjut"),
        ({"tindak_lanjut": 12345678901}, "tindak_lanjut"),
        ({"tindak_lanjut": "Perbaikan dijadwalkan.", "outcome": "forward"}, "outcome"),
        ({"tindak_lanjut": "Perbaikan\x00 dijadwalkan."}, "tindak_lanjut"),
        ({"tindak_lanjut": f"Perbaikan {SURROGATE} dijadwalkan."}, "tindak_lanjut"),
    ],
    ids=["missing", "short", "long", "number", "extra-key", "nul", "surrogate"],
)
def test_complete_follow_up_bad_data(
    api: Api, follow_up_task: dict[str, Any], data: dict[str, Any], field: str
) -> None:
    expect_problem(complete(api, "sleman.pu", follow_up_task["id"], {"data": data}), 422, field)
    assert api.report(follow_up_task["tracking_id"])["status"] == "in_progress"


def test_complete_twice(api: Api, verify_task: dict[str, Any]) -> None:
    data = {"data": {"outcome": "arsipkan", "reason": "Laporan duplikat."}}
    assert complete(api, "nasional", verify_task["id"], data).status_code == 200
    expect_problem(complete(api, "nasional", verify_task["id"], data), 409, "task_id")
    # a claim of the completed task is refused as well
    response = api.call(
        "POST", f"/api/v1/tasks/{verify_task['id']}/claim", token=api.login("nasional")
    )
    expect_problem(response, 409, "task_id")


@pytest.fixture()
def nasional2(factory: Any) -> str:
    """A second admin nasional (users survive clean_slate: create once, reuse afterwards)."""
    with factory() as session, session.begin():
        if session.scalar(select(User.id).where(User.username == "nasional2")) is None:
            auth.create_user(
                session,
                username="nasional2",
                full_name="Admin Nasional Dua",
                password=DEMO_PASSWORD,
                roles=[("admin_nasional", None, None)],
            )
    return "nasional2"


def test_claim_and_complete_a_task_claimed_by_someone_else(
    api: Api, verify_task: dict[str, Any], nasional2: str
) -> None:
    url = f"/api/v1/tasks/{verify_task['id']}"
    claimed = api.call("POST", f"{url}/claim", token=api.login(nasional2))
    assert claimed.status_code == 200, claimed.get_json()
    # claiming again by the same officer is harmless
    assert api.call("POST", f"{url}/claim", token=api.login(nasional2)).status_code == 200
    expect_problem(api.call("POST", f"{url}/claim", token=api.login("nasional")), 409, "task_id")
    data = {"data": {"outcome": "arsipkan", "reason": "Laporan duplikat."}}
    expect_problem(complete(api, "nasional", verify_task["id"], data), 409, "task_id")
    assert complete(api, nasional2, verify_task["id"], data).status_code == 200


# --------------------------------------------------------------- bodies that are not objects


BODY_URLS = ["reports", "replies", "login", "complete"]


@pytest.fixture()
def body_target(api: Api, verify_task: dict[str, Any]) -> Any:
    """(url, token) of each endpoint that reads a JSON body, on real resources."""
    tracking = verify_task["report"]["tracking_id"]
    token = api.login("nasional")
    urls = {
        "reports": ("/api/v1/reports", None),
        "replies": (f"/api/v1/reports/{tracking}/replies", None),
        "login": ("/api/v1/auth/login", None),
        "complete": (f"/api/v1/tasks/{verify_task['id']}/complete", token),
    }
    return urls.__getitem__


def send(client: Any, url: str, token: str | None, data: bytes | str, content_type: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(url, data=data, content_type=content_type, headers=headers)


@pytest.mark.parametrize("which", BODY_URLS)
@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"classification=pengaduan&title=Jalan", "application/x-www-form-urlencoded"),
        (b"just some words", "text/plain"),
        (json.dumps(REPORT).encode(), "text/plain"),
        (b"", "application/json"),
        (b"", ""),
    ],
    ids=["form", "text", "json-as-text", "empty-json", "empty-untyped"],
)
def test_body_that_is_not_json(
    client: Any, body_target: Any, which: str, data: bytes, content_type: str
) -> None:
    url, token = body_target(which)
    response = send(client, url, token, data, content_type)
    body = expect_problem(response, response.status_code)
    assert response.status_code in (400, 415, 422), body


@pytest.mark.parametrize("which", BODY_URLS)
@pytest.mark.parametrize(
    "data",
    [
        b'{"classification": ',
        b"{'classification': 'pengaduan'}",
        b'{"title": "Jalan rusak",}',
        b"NaN-ish nonsense",
        b'\xff\xfe{"title": "x"}',
        b'{"title": "\xc3\x28"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    ],
    ids=[
        "truncated",
        "single-quotes",
        "trailing-comma",
        "not-json",
        "bom-like-bytes",
        "bad-utf8",
        "deep-array",
        "deep-object",
    ],
)
def test_body_that_is_invalid_json(client: Any, body_target: Any, which: str, data: bytes) -> None:
    url, token = body_target(which)
    response = send(client, url, token, data, "application/json")
    body = expect_problem(response, response.status_code)
    assert response.status_code in (400, 422), body


@pytest.mark.parametrize("which", BODY_URLS)
@pytest.mark.parametrize(
    "payload", [[], [REPORT], None, "pengaduan"], ids=["empty-array", "array", "null", "string"]
)
def test_body_that_is_json_but_not_an_object(
    client: Any, body_target: Any, which: str, payload: Any
) -> None:
    url, token = body_target(which)
    response = send(client, url, token, json.dumps(payload), "application/json")
    body = expect_problem(response, 422, None)
    assert body.get("errors"), body


@pytest.mark.parametrize("which", BODY_URLS)
def test_body_over_the_size_limit(client: Any, body_target: Any, which: str) -> None:
    url, token = body_target(which)
    data = b'{"title": "' + b"x" * (8 * MIB) + b'"}'
    expect_problem(send(client, url, token, data, "application/json"), 413)


def test_body_just_under_the_size_limit_is_judged_on_its_content(client: Any) -> None:
    data = json.dumps({**REPORT, "title": "t" * (8 * MIB - 2000)})
    expect_problem(
        send(client, "/api/v1/reports", None, data, "application/json"),
        422,
        "title",
        schema_errors=True,
    )


# ---------------------------------------------------------------- unknown URLs, wrong methods


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/v1/nope"),
        ("GET", "/api/v2/reports"),
        ("POST", "/api/v1/report"),
        ("GET", "/api/v1/tasks/abc"),
        ("GET", "/api/v1/tasks/-1"),
        ("GET", "/api/v1/tasks/1.5"),
        ("POST", "/api/v1/tasks/1/approve"),
        ("POST", "/api/v1/tasks/1/complete/now"),
        ("GET", "/api/v1/reports/ZZZZZZZZZZ/replies/1"),
        ("POST", "/api/v1/auth/logout"),
        ("GET", "/vendor/no-such-package/index.js"),
        ("GET", "/vendor/../setup.cfg"),
        ("GET", "/" + "a" * 5000),
    ],
)
def test_unknown_url(client: Any, method: str, url: str) -> None:
    body = expect_problem(client.open(url, method=method), 404, None)
    assert "errors" not in body


METHOD_CASES = [
    ("GET", "/api/v1/reports", {"POST"}),
    ("DELETE", "/api/v1/reports", {"POST"}),
    ("PUT", "/api/v1/reports/ZZZZZZZZZZ", {"GET"}),
    ("DELETE", "/api/v1/reports/ZZZZZZZZZZ", {"GET"}),
    ("GET", "/api/v1/reports/ZZZZZZZZZZ/replies", {"POST"}),
    ("GET", "/api/v1/auth/login", {"POST"}),
    ("PUT", "/api/v1/auth/login", {"POST"}),
    ("POST", "/api/v1/tasks", {"GET"}),
    ("DELETE", "/api/v1/tasks/1", {"GET"}),
    ("PATCH", "/api/v1/tasks/1", {"GET"}),
    ("GET", "/api/v1/tasks/1/claim", {"POST"}),
    ("GET", "/api/v1/tasks/1/complete", {"POST"}),
    ("POST", "/healthz", {"GET"}),
    ("POST", "/readyz", {"GET"}),
]


@pytest.mark.parametrize(("method", "url", "allowed"), METHOD_CASES)
def test_wrong_method(client: Any, method: str, url: str, allowed: set[str]) -> None:
    body = expect_problem(client.open(url, method=method, json={}), 405, None)
    assert "errors" not in body


@pytest.mark.parametrize(("method", "url", "allowed"), METHOD_CASES)
def test_wrong_method_names_the_allowed_ones(
    client: Any, method: str, url: str, allowed: set[str]
) -> None:
    """RFC 9110 section 15.5.6: a 405 answer carries an Allow header."""
    response = client.open(url, method=method, json={})
    expect_problem(response, 405)
    named = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
    assert allowed <= named, dict(response.headers)

"""Integrated channels: agency apps file with their API key, idempotently (also when requests
race); their webhooks and the instansi's get the changes of reports, signed, retried and
dead-lettered against a real local HTTP receiver; the change feed gives them by cursor.

The clock is pinned and moved (no sleeping). Webhook signatures are checked here by a verifier
written from the README's description, not by `sla.webhooks.verify`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from engine import clock
from engine.models import ChangeEvent, Report, ReportChannel
from engine.services import idempotency, reports
from engine.services.auth import Principal
from sla import changes
from sla.models import OutboxMessage
from sla.outbox import deliver_due
from sla.sweep import sweep
from tests.helpers import REPORT, Api, problem_of
from tests.webhook_receiver import WebhookReceiver

T0 = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)  # Monday 09:00 WIB
FORWARD = {"outcome": "forward", "target_instansi": "34.04"}
DISPOSE = {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"}
FOLLOW_UP = {"tindak_lanjut": "Perbaikan jalan sudah dijadwalkan minggu depan oleh DPUPKP."}
REASON = "Lokasi belum jelas: sebutkan nama desa dan patokan terdekat."
APP_PERMISSIONS = ["reports:read", "reports:write", "webhooks:manage"]


@pytest.fixture()
def api(client: FlaskClient) -> Api:
    clock.set_clock(T0)
    return Api(lambda: nullcontext(client))


@pytest.fixture()
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def make_key(api: Api, admin: str = "sleman", instansi: str = "34.04") -> str:
    return str(make_key_row(api, admin, instansi)["key"])


def make_key_row(api: Api, admin: str = "sleman", instansi: str = "34.04") -> dict[str, Any]:
    body = {"name": "Gateway SMS 1708", "instansi": instansi, "permissions": APP_PERMISSIONS}
    response = api.call("POST", "/api/v1/api-keys", token=api.login(admin), json=body)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def as_app(
    client: FlaskClient, method: str, url: str, key: str, *, idem: str | None = None, **kw: Any
) -> Any:
    headers = {"X-API-Key": key}
    if idem is not None:
        headers[idempotency.HEADER] = idem
    return client.open(url, method=method, headers=headers, **kw)


def report_count(factory: Any) -> int:
    with factory() as s:
        return int(s.scalar(select(func.count()).select_from(Report)) or 0)


def signature_ok(secret: str, request: Any) -> bool:
    """The receiver's check, from the README: sha256= hex HMAC-SHA256 over "<timestamp>." and
    the raw body, with the endpoint's secret; timestamp within five minutes."""
    stamp = request.headers["X-Lapor-Timestamp"]
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + request.body, hashlib.sha256)
    fresh = abs(clock.now().timestamp() - int(stamp)) <= 300
    return fresh and hmac.compare_digest(
        "sha256=" + mac.hexdigest(), request.headers["X-Lapor-Signature"]
    )


def events_of(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.received() if r.status == 200]


# -- idempotent filing ----------------------------------------------------------------------


def test_the_same_key_returns_the_first_answer_and_files_nothing_new(
    api: Api, client: FlaskClient, factory: Any
) -> None:
    key = make_key(api)
    body = {**REPORT, "external_ref": "SMS-2026-0001"}
    first = as_app(client, "POST", "/api/v1/reports", key, idem="sms-0001", json=body)
    assert first.status_code == 201, first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    assert first.get_json()["external_ref"] == "SMS-2026-0001"

    clock.set_clock(T0 + timedelta(hours=23))
    again = as_app(client, "POST", "/api/v1/reports", key, idem="sms-0001", json=body)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()  # the same tracking id and secret
    assert report_count(factory) == 1

    reused = as_app(
        client,
        "POST",
        "/api/v1/reports",
        key,
        idem="sms-0001",
        json={**body, "title": "Jalan rusak lainnya"},
    )
    problem = problem_of(reused, 422)
    assert (problem["field"], problem["code"]) == (idempotency.HEADER, "idempotency_key_reused")

    other_app = make_key(api, "badung", "51.03")  # keys are per caller
    theirs = as_app(client, "POST", "/api/v1/reports", other_app, idem="sms-0001", json=body)
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers

    clock.set_clock(T0 + timedelta(hours=24, seconds=1))  # the window is over: files anew
    later = as_app(client, "POST", "/api/v1/reports", key, idem="sms-0001", json=body)
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    assert later.get_json()["tracking_id"] != first.get_json()["tracking_id"]
    assert report_count(factory) == 3
    with factory() as s:
        [channel] = s.scalars(
            select(ReportChannel)
            .join(Report)
            .where(Report.tracking_id == first.get_json()["tracking_id"])
        )
        assert channel.external_ref == "SMS-2026-0001"
        stored = s.execute(text("SELECT response FROM idempotency_record")).scalars().all()
    assert len(stored) == 2  # the expired answer made way for the new one
    assert not any(later.get_json()["secret"] in raw for raw in stored)  # sealed at rest

    clock.set_clock(T0 + timedelta(hours=47))
    with factory() as s:
        assert idempotency.purge_expired(s) == 1  # the other app's answer; ours is 23 h old


def test_bad_idempotency_use_is_refused_with_the_reason(
    api: Api, client: FlaskClient, factory: Any
) -> None:
    key = make_key(api)
    cases = [
        (client.post("/api/v1/reports", json=REPORT, headers={idempotency.HEADER: "k-1"}), 422),
        (as_app(client, "POST", "/api/v1/reports", key, idem="has space", json=REPORT), 422),
        (as_app(client, "POST", "/api/v1/reports", key, idem="x" * 256, json=REPORT), 422),
    ]
    for response, status in cases:
        assert problem_of(response, status)["field"] == idempotency.HEADER
    anonymous_ref = client.post("/api/v1/reports", json={**REPORT, "external_ref": "X-1"})
    assert problem_of(anonymous_ref, 422)["field"] == "external_ref"
    assert report_count(factory) == 0


def test_racing_identical_requests_file_one_report(api: Api, app: Flask, factory: Any) -> None:
    key = make_key(api)
    start = threading.Barrier(6)
    answers: list[tuple[int, dict[str, Any], bool]] = []
    lock = threading.Lock()

    def file_once() -> None:
        with app.test_client() as own:
            start.wait(10)
            response = as_app(own, "POST", "/api/v1/reports", key, idem="race-1", json=REPORT)
            with lock:
                answers.append(
                    (
                        response.status_code,
                        response.get_json(),
                        "Idempotent-Replayed" in response.headers,
                    )
                )

    threads = [threading.Thread(target=file_once) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [status for status, _, _ in answers] == [201] * 6, answers
    assert len({json.dumps(body, sort_keys=True) for _, body, _ in answers}) == 1
    assert sorted(replayed for _, _, replayed in answers) == [False] + [True] * 5
    assert report_count(factory) == 1


def test_a_twin_that_commits_first_wins_and_the_other_rolls_back_whole(
    api: Api, factory: Any, backend: str
) -> None:
    """The constraint path, made deterministic: A's twin B runs completely while A is inside
    its transaction (before A stores its answer); A's insert then fails and A replays B's."""
    if backend != "postgresql":
        pytest.skip("SQLite transactions are serial (BEGIN IMMEDIATE): B would wait for A")
    caller = idempotency.caller_of(Principal(user_id=1, username="x", memberships=()))
    twin: list[idempotency.Answer] = []

    def perform(remember: idempotency.Remember) -> tuple[int, dict[str, Any]]:
        def after_filed(inner: Any, filed: reports.FiledReport) -> None:
            thread = threading.Thread(target=lambda: twin.append(run(plain)))
            thread.start()
            thread.join(30)
            remember(inner, 201, {"tracking_id": filed.report.tracking_id}, filed.report.id)

        with factory() as s:
            filed = reports.create(s, data=dict(REPORT), after_filed=after_filed)
        return 201, {"tracking_id": filed.report.tracking_id}

    def plain(remember: idempotency.Remember) -> tuple[int, dict[str, Any]]:
        def after_filed(inner: Any, filed: reports.FiledReport) -> None:
            remember(inner, 201, {"tracking_id": filed.report.tracking_id}, filed.report.id)

        with factory() as s:
            filed = reports.create(s, data=dict(REPORT), after_filed=after_filed)
        return 201, {"tracking_id": filed.report.tracking_id}

    def run(how: Any) -> idempotency.Answer:
        with factory() as s:
            return idempotency.perform_once(
                s, caller=caller, key="twin", request=REPORT, perform=how
            )

    first = run(perform)
    [second] = twin
    assert not second.replayed and first.replayed
    assert first.body == second.body
    assert report_count(factory) == 1  # A's report rolled back with its failed insert


# -- webhooks and the change feed -----------------------------------------------------------


def register(api: Api, client: FlaskClient, key: str | None, **body: Any) -> dict[str, Any]:
    if key is not None:
        response = as_app(client, "POST", "/api/v1/admin/webhooks", key, json=body)
    else:
        response = api.call("POST", "/api/v1/admin/webhooks", token=api.login("sleman"), json=body)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def test_the_app_hears_what_its_pelapor_must_know_and_the_instansi_what_it_handles(
    api: Api, client: FlaskClient, factory: Any, receiver: WebhookReceiver
) -> None:
    key = make_key(api)
    app_hook = register(api, client, key, url=f"{receiver.url}/app", source="channel")
    assert (app_hook["source"], app_hook["instansi_code"]) == ("channel", "34.04")
    office_hook = register(
        api,
        client,
        None,
        instansi="34.04",
        url=f"{receiver.url}/office",
        event_types=["report.forwarded", "report.followed_up"],
    )
    filed = as_app(
        client, "POST", "/api/v1/reports", key, json={**REPORT, "external_ref": "SMS-7"}
    ).get_json()
    other = api.file()["tracking_id"]  # filed on the web: the app hears nothing of it
    tracking = filed["tracking_id"]
    api.complete("nasional", tracking, FORWARD)
    api.complete("nasional", other, FORWARD)
    api.complete("sleman", tracking, DISPOSE)
    api.complete("sleman.pu", tracking, FOLLOW_UP)
    clock.set_clock(T0 + timedelta(days=21))  # no answer for 10 working days: warned, closed
    sweep(factory, scheduler="test")
    deliver_due(factory)

    by_path: dict[str, list[dict[str, Any]]] = {"/app": [], "/office": []}
    for request in receiver.received():
        secret = app_hook["secret"] if request.path == "/app" else office_hook["secret"]
        assert signature_ok(secret, request), request
        event = json.loads(request.body)
        assert request.headers["X-Lapor-Event-Id"] == event["id"]
        by_path[request.path].append(event)
    app_types = [e["type"] for e in by_path["/app"]]
    assert app_types == [
        "report.filed",
        "report.forwarded",
        "report.in_progress",
        "report.followed_up",
        "report.auto_close_warning",
        "report.closed",
    ]
    assert {e["data"]["tracking_id"] for e in by_path["/app"]} == {tracking}
    assert {e["data"]["external_ref"] for e in by_path["/app"]} == {"SMS-7"}
    followed = by_path["/app"][3]["data"]
    assert followed["text"] == FOLLOW_UP["tindak_lanjut"] and followed["instansi"] == "34.04"
    assert by_path["/app"][4]["data"]["working_days_left"] == 2
    office_types = [(e["type"], e["data"]["tracking_id"]) for e in by_path["/office"]]
    assert office_types == [
        ("report.forwarded", tracking),
        ("report.forwarded", other),
        ("report.followed_up", tracking),
    ]
    everything = json.dumps(by_path)
    for personal in (REPORT["pelapor_name"], REPORT["pelapor_email"], REPORT["pelapor_phone"]):
        assert personal not in everything

    # the same changes by cursor, for when the app's endpoint was down
    page = as_app(client, "GET", "/api/v1/changes", key, query_string={"limit": 4}).get_json()
    assert [c["type"] for c in page["changes"]] == app_types[:4]
    assert [c["event_id"] + f"-w{app_hook['id']}" for c in page["changes"]] == [
        e["id"] for e in by_path["/app"][:4]
    ]
    rest = as_app(
        client, "GET", "/api/v1/changes", key, query_string={"after": page["next_cursor"]}
    ).get_json()
    assert [c["type"] for c in rest["changes"]] == app_types[4:]
    done = as_app(
        client, "GET", "/api/v1/changes", key, query_string={"after": rest["next_cursor"]}
    ).get_json()
    assert done == {"changes": [], "next_cursor": rest["next_cursor"]}


def test_on_hold_reaches_the_app_with_what_is_missing(
    api: Api, client: FlaskClient, factory: Any, receiver: WebhookReceiver
) -> None:
    key = make_key(api)
    hook = register(
        api,
        client,
        key,
        url=f"{receiver.url}/app",
        source="channel",
        event_types=["report.on_hold"],
    )
    filed = as_app(
        client, "POST", "/api/v1/reports", key, json={**REPORT, "target_instansi": None}
    ).get_json()
    api.complete("nasional", filed["tracking_id"], {"outcome": "tunda", "reason": REASON})
    deliver_due(factory)
    [request] = receiver.received()
    assert signature_ok(hook["secret"], request)
    event = json.loads(request.body)
    assert (event["type"], event["data"]["text"]) == ("report.on_hold", REASON)


def test_failing_receiver_is_retried_then_dead_and_the_log_shows_it(
    api: Api, client: FlaskClient, factory: Any, receiver: WebhookReceiver
) -> None:
    hook = register(api, client, None, instansi="34.04", url=f"{receiver.url}/office")
    token = api.login("sleman")
    test = api.call("POST", f"/api/v1/admin/webhooks/{hook['id']}/test", token=token)
    assert test.status_code == 202
    receiver.fail_next(1)
    deliver_due(factory)  # fails once...
    clock.set_clock(T0 + timedelta(seconds=31))
    deliver_due(factory)  # ...and recovers with the same event id
    first, second = receiver.received()
    assert (first.status, second.status) == (500, 200)
    assert first.headers["X-Lapor-Event-Id"] == second.headers["X-Lapor-Event-Id"]
    assert signature_ok(hook["secret"], second)

    api.file()  # a change nobody will accept for 24 hours
    tracking = api.file()["tracking_id"]
    receiver.fail_next(10_000)
    api.complete("nasional", tracking, FORWARD)
    for _ in range(40):  # back off 30 s, 1 min, 2 min ... 1 h, until 24 h have passed
        with factory() as s:
            due = s.scalar(
                select(func.min(OutboxMessage.next_attempt_at)).where(
                    OutboxMessage.status == "pending"
                )
            )
        if due is None:
            break
        clock.set_clock(max(due, clock.now()))
        deliver_due(factory)
    log = api.call(
        "GET", f"/api/v1/admin/webhooks/{hook['id']}/deliveries", token=api.login("sleman")
    )
    assert log.status_code == 200
    newest, oldest = log.get_json()
    assert (newest["subject"], newest["status"]) == ("report.forwarded", "dead")
    assert "HTTP 500" in newest["last_error"] and newest["attempts"] > 10
    assert (oldest["subject"], oldest["status"], oldest["attempts"]) == ("test", "sent", 1)
    badung = api.call(
        "GET", f"/api/v1/admin/webhooks/{hook['id']}/deliveries", token=api.login("badung")
    )
    assert problem_of(badung, 403)["field"] == "role"


def test_subscriptions_refuse_bad_input_by_field(api: Api, client: FlaskClient) -> None:
    token = api.login("sleman")
    url = "http://127.0.0.1:9/hook"
    cases = [
        ({"url": url, "instansi": "34.04", "event_types": ["report.lost"]}, "event_types"),
        ({"url": url, "instansi": "34.04", "source": "everything"}, "source"),
        ({"url": url, "instansi": "34.04", "source": "channel"}, "api_key_id"),
        (
            {"url": url, "instansi": "34.04", "source": "channel", "api_key_id": 999999},
            "api_key_id",
        ),
        ({"url": url}, "instansi"),
    ]
    for body, field in cases:
        response = api.call("POST", "/api/v1/admin/webhooks", token=token, json=body)
        assert response.status_code in (404, 422), (body, response.get_json())
        assert response.get_json()["field"] == field or field in json.dumps(response.get_json())
    sleman_key = make_key_row(api)
    badung_key = make_key(api, "badung", "51.03")
    with_other_key = {"url": url, "source": "channel", "api_key_id": sleman_key["id"]}
    refused = as_app(client, "POST", "/api/v1/admin/webhooks", badung_key, json=with_other_key)
    assert problem_of(refused, 404)["field"] == "api_key_id"


def test_the_feed_shows_each_caller_its_own_changes_only(api: Api, client: FlaskClient) -> None:
    key = make_key(api)
    mine = as_app(client, "POST", "/api/v1/reports", key, json=REPORT).get_json()["tracking_id"]
    web = api.file()["tracking_id"]
    api.complete("nasional", mine, FORWARD)
    api.complete("nasional", web, FORWARD)

    def feed(token: str | None = None, **query: Any) -> Any:
        if token is None:
            return as_app(client, "GET", "/api/v1/changes", key, query_string=query)
        return api.call("GET", "/api/v1/changes", token=token, query=query)

    by_app = [(c["type"], c["data"]["tracking_id"]) for c in feed().get_json()["changes"]]
    assert by_app == [("report.filed", mine), ("report.forwarded", mine)]
    as_office = feed(source="instansi").get_json()["changes"]
    assert [(c["type"], c["data"]["tracking_id"]) for c in as_office] == [
        ("report.forwarded", mine),
        ("report.forwarded", web),
    ]
    assert feed(api.login("sleman")).get_json()["changes"] == as_office
    assert feed(api.login("badung")).get_json() == {"changes": [], "next_cursor": 0}
    national = feed(api.login("nasional")).get_json()["changes"]
    assert [c["type"] for c in national].count("report.filed") == 2
    assert problem_of(feed(api.login("diy")), 403)["field"] == "role"
    assert problem_of(feed(after=-1), 422)["field"] == "after"
    assert problem_of(feed(api.login("sleman"), source="channel"), 422)["field"] == "source"


def test_a_change_committed_late_is_not_skipped_by_a_cursor(
    api: Api, factory: Any, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite transactions are serial: no transaction commits 'late'")
    early, late = api.file()["tracking_id"], api.file()["tracking_id"]
    with factory() as slow:
        slow.begin()
        report = slow.scalar(select(Report).where(Report.tracking_id == late))
        assert report is not None
        changes.record(slow, report, type="report.returned", cause="late")  # not committed yet
        api.complete("nasional", early, FORWARD)  # commits a change with a higher id
        with factory() as s:
            cursor = changes.sequence(s)  # an app pulls now: its cursor passes that change
        slow.commit()
    with factory() as s:
        changes.sequence(s)
        seq = s.scalar(select(ChangeEvent.seq).where(ChangeEvent.event_id.endswith("-late")))
    assert seq is not None and seq > cursor


def test_supervisors_alerts_honour_the_event_types_of_a_webhook(
    api: Api, factory: Any, receiver: WebhookReceiver
) -> None:
    token = api.login("nasional")
    for path, types in (("/all", None), ("/forwards", ["report.forwarded"])):
        hook = {"instansi": "34", "url": f"{receiver.url}{path}", "event_types": types}
        made = api.call("POST", "/api/v1/admin/webhooks", token=token, json=hook)
        assert made.status_code == 201, made.get_json()
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, FORWARD)  # Sleman's disposition is due Thursday
    clock.set_clock(T0 + timedelta(days=7))
    sweep(factory, scheduler="test")  # overdue: escalated to the province (34)
    deliver_due(factory)
    heard = [(r.path, json.loads(r.body)["type"]) for r in receiver.received()]
    assert ("/all", "escalation") in heard
    assert [path for path, _ in heard if path == "/forwards"] == []

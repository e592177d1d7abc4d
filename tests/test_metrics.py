"""GET /metrics: the numbers follow what really happens (reports filed, a task completed, a task
going overdue and escalating on the test clock, webhooks failing, a scheduler stopping), the
exposition parses with prometheus_client's own parser, and a scrape stays a few aggregates."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event, select

from api.db import db
from engine import clock
from engine.models import Instansi
from engine.services import reports
from sla.models import WebhookEndpoint
from sla.outbox import deliver_due
from sla.scheduler import build_scheduler
from sla.sweep import sweep
from tests.authz_world import FILED_AT, FORWARD, FORWARDED_AT, LATE_AT
from tests.helpers import REPORT, Api, problem_of
from tests.processes import wait_for
from tests.webhook_receiver import WebhookReceiver

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
TOKEN = "metrics-token-for-tests-0123456789"
THURSDAY_MORNING = "2026-02-05T09:00:00+07:00"  # Sleman's disposition is due at midnight


def scrape(client: Any, **headers: str) -> Samples:
    """Every sample of one scrape, parsed by prometheus_client's parser."""
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.content_type.startswith("text/plain")
    found: Samples = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def at(moment: str) -> None:
    clock.set_clock(datetime.fromisoformat(moment))


@pytest.fixture()
def api(client: Any) -> Api:
    """The API driven through this test's client (one app: in-process counters add up)."""

    @contextmanager
    def same_client() -> Iterator[Any]:
        yield client

    return Api(same_client)


@pytest.fixture()
def failing_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    receiver.fail_next(1000)
    yield receiver
    receiver.stop()


def test_the_numbers_follow_a_report_through_escalation(
    client: Any, api: Api, factory: Any, failing_receiver: WebhookReceiver
) -> None:
    at(FILED_AT)
    with factory() as s, s.begin():  # the province's agency app listens to escalations
        province = s.scalar(select(Instansi.id).where(Instansi.code == "34"))
        s.add(
            WebhookEndpoint(
                instansi_id=province,
                url=f"{failing_receiver.url}/diy",
                secret="diy-webhook-secret",
                active=True,
                created_at=clock.now(),
            )
        )
    before = scrape(client)
    filed = api.file()
    api.file(classification="aspirasi")
    with factory() as session:  # filed outside any request: seed data, imports
        reports.create(session, data={**REPORT, "classification": "permintaan_informasi"})
    after_filing = scrape(client)
    for channel, classification in (
        ("api", "pengaduan"),
        ("api", "aspirasi"),
        ("system", "permintaan_informasi"),
    ):
        labels = {"channel": channel, "classification": classification}
        grew = value(after_filing, "lapor_reports_filed_total", **labels) - value(
            before, "lapor_reports_filed_total", **labels
        )
        assert grew == 1, labels
    for classification in ("pengaduan", "aspirasi", "permintaan_informasi"):
        stored = "lapor_reports_total"
        grew = value(after_filing, stored, classification=classification) - value(
            before, stored, classification=classification
        )
        assert grew == 1, classification
    open_tasks = value(after_filing, "lapor_tasks_open", sla_state="on_time")
    assert open_tasks == value(before, "lapor_tasks_open", sla_state="on_time") + 3

    at(FORWARDED_AT)
    api.complete("nasional", filed["tracking_id"], FORWARD)
    forwarded = scrape(client)
    completed = "lapor_tasks_completed_total"
    assert value(forwarded, completed, milestone="verification") == (
        value(after_filing, completed, milestone="verification") + 1
    )

    at(THURSDAY_MORNING)  # one working day left: due soon
    thursday = scrape(client)
    assert value(thursday, "lapor_tasks_open", sla_state="due_soon") >= 1
    assert value(thursday, "lapor_tasks_open", sla_state="overdue") == 0

    at(LATE_AT)  # Friday 00:00:01 WIB: Sleman's disposition (and the intakes) are overdue
    late = scrape(client)
    assert value(late, "lapor_tasks_open", sla_state="overdue") >= 1
    assert value(late, "lapor_tasks_open", sla_state="escalated") == 0
    escalations = "lapor_escalations_total"
    assert value(late, escalations, reason="overdue", level="1") == 0
    assert value(late, "lapor_deadline_lag_seconds") >= 1  # due at midnight, not yet fired

    sweep(factory, scheduler="metrics-test")  # escalates to the DI Yogyakarta province
    escalated = scrape(client)
    assert value(escalated, escalations, reason="overdue", level="1") >= 1
    assert value(escalated, "lapor_tasks_open", sla_state="escalated") >= 1
    assert value(escalated, "lapor_deadline_lag_seconds") == 0  # every due one fired
    assert value(escalated, "lapor_tasks_open", sla_state="overdue") < value(
        late, "lapor_tasks_open", sla_state="overdue"
    )
    pending = value(escalated, "lapor_outbox_messages", status="pending", kind="webhook")
    assert pending >= 1
    assert value(escalated, "lapor_outbox_messages", status="dead", kind="webhook") == 0

    deliver_due(factory)  # the receiver answers 500: retried later, still pending
    assert failing_receiver.received()
    clock.set_clock(clock.now() + timedelta(minutes=30))
    retried = scrape(client)
    assert value(retried, "lapor_outbox_messages", status="pending", kind="webhook") == pending
    age = value(retried, "lapor_outbox_oldest_pending_age_seconds", kind="webhook")
    assert 30 * 60 <= age < 31 * 60

    clock.set_clock(clock.now() + timedelta(hours=25))  # past the 24-hour retry window
    deliver_due(factory)
    gave_up = scrape(client)
    assert value(gave_up, "lapor_outbox_messages", status="pending", kind="webhook") == 0
    assert value(gave_up, "lapor_outbox_messages", status="dead", kind="webhook") == pending


def test_scheduler_lag_grows_once_the_scheduler_stops(client: Any, factory: Any) -> None:
    scheduler = build_scheduler(
        factory, audit_key=b"k" * 32, name="metrics-lag", heartbeat_seconds=0.5
    )
    scheduler.start()
    try:
        wait_for(
            lambda: (
                ("lapor_scheduler_lag_seconds", frozenset({("scheduler", "metrics-lag")}))
                in scrape(client)
            ),
            10,
            "the scheduler's first heartbeat",
        )
        time.sleep(1.2)
        running = scrape(client)
        assert value(running, "lapor_scheduler_lag_seconds", scheduler="metrics-lag") < 1.5
        assert value(running, "lapor_schedulers_alive") == 1
    finally:
        scheduler.shutdown(wait=True)
    time.sleep(1.5)
    stopped = scrape(client)
    lag = value(stopped, "lapor_scheduler_lag_seconds", scheduler="metrics-lag")
    assert lag >= 1.5
    time.sleep(0.5)
    assert (
        value(scrape(client), "lapor_scheduler_lag_seconds", scheduler="metrics-lag") >= lag + 0.5
    )


def test_request_latency_by_endpoint_method_and_status_class(client: Any, api: Api) -> None:
    histogram = "lapor_http_request_duration_seconds_count"
    before = scrape(client)
    api.file()
    for path in ("/nope/1", "/nope/2", "/api/v1/nope", "/lapor/x/y/z"):
        assert client.get(path).status_code == 404
    assert client.put("/healthz").status_code == 405
    client.open("/healthz", method="BREW")
    after = scrape(client)
    filing = {"endpoint": "reports.Reports", "method": "POST", "status": "2xx"}
    assert value(after, histogram, **filing) == value(before, histogram, **filing) + 1
    unmatched = {"endpoint": "unmatched", "method": "GET", "status": "4xx"}
    assert value(after, histogram, **unmatched) == value(before, histogram, **unmatched) + 4
    odd = {"endpoint": "unmatched", "method": "other", "status": "4xx"}
    assert value(after, histogram, **odd) == value(before, histogram, **odd) + 1
    endpoints = {dict(labels)["endpoint"] for name, labels in after if name == histogram}
    assert not any(e.startswith("/") for e in endpoints)  # names, never URLs
    slow = value(after, "lapor_http_request_duration_seconds_bucket", le="10.0", **filing)
    assert slow == value(after, histogram, **filing)


def test_metrics_token_when_set(make_app: Any, database_url: str) -> None:
    client = make_app(database_url, METRICS_TOKEN=TOKEN).test_client()
    body = problem_of(client.get("/metrics"), 401)
    assert body["code"] == "metrics_token_required"
    assert client.get("/metrics").headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
    assert problem_of(wrong, 401)["code"] == "metrics_token_required"
    assert scrape(client, Authorization=f"Bearer {TOKEN}")


def test_metrics_open_without_a_token(client: Any) -> None:
    samples = scrape(client)
    assert value(samples, "lapor_metrics_database_up") == 1
    for state in ("on_time", "due_soon", "overdue", "escalated", "none"):
        assert ("lapor_tasks_open", frozenset({("sla_state", state)})) in samples


def test_metrics_without_the_database_still_answer(make_app: Any) -> None:
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    client = make_app(unreachable, CHECK_MIGRATIONS=False).test_client()
    samples = scrape(client)
    assert value(samples, "lapor_metrics_database_up") == 0
    assert any(name.startswith("lapor_http_request") for name, _ in samples)


def statements_of_a_scrape(app: Flask, client: Any) -> list[str]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(" ".join(statement.split()))

    engine = db.engine(app)
    event.listen(engine, "before_cursor_execute", record)
    try:
        scrape(client)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_a_scrape_is_a_few_aggregates_however_many_reports(
    app: Flask, client: Any, api: Api
) -> None:
    at(FILED_AT)
    api.file()
    scrape(client)  # the calendar boundaries of the instansi with tasks, computed once
    few = statements_of_a_scrape(app, client)
    for n in range(20):
        api.file(title=f"Jalan rusak nomor {n} di Sleman")
    started = time.perf_counter()
    many = statements_of_a_scrape(app, client)
    elapsed = time.perf_counter() - started
    assert len(many) == len(few) <= 8, many
    for statement in many:
        if any(t in statement for t in ("FROM human_task", "FROM outbox_message", "escalation")):
            assert "count(" in statement, statement
    assert elapsed < 1.0

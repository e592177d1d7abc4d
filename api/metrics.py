"""Prometheus metrics at `GET /metrics` (prometheus_client's text format).

Two kinds of numbers:

- counted in this process: the latency of every request (a histogram by endpoint name, method
  and status class, measured between a before- and an after-request hook; a URL that matches
  no route is `unmatched`, so the label values stay few) and the reports filed here (by
  channel: `api`, `web`, `open311`, or `system` outside a request; and by classification),
  counted when the filing transaction commits. Under gunicorn with several workers set
  `PROMETHEUS_MULTIPROC_DIR` to an empty folder so that a scrape adds up every worker;
- read from the database at each scrape by `DatabaseCollector`, so that every process (web
  workers, schedulers) is counted and nothing resets: open tasks per SLA state, tasks
  completed, reports stored, escalations, the outbox backlog, each scheduler's lag since its
  heartbeat and the deadline lag (how long the oldest due deadline waits to fire). Aggregate
  queries only
  (a few `count ... group by`); the due-soon boundary of each instansi's calendar is reused
  for a minute of clock time.

With `LAPOR_METRICS_TOKEN` set, a scrape must send `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, has_request_context, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import and_, case, event, func, literal, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.db import db
from api.errors import problem
from engine import clock
from engine.models import HumanTask, Instansi, Report
from engine.models.reports import CLASSIFICATIONS
from engine.services.auth import Principal
from engine.status import MILESTONES
from sla import deadlines, scheduler, views
from sla.calendar_service import calendar_for
from sla.models import Deadline, Escalation, OutboxMessage

log = logging.getLogger(__name__)
blp = Blueprint("metrics", __name__)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # every URL that matches no route: one label value
CHANNELS = ("api", "web", "open311", "system")
OUTBOX_STATES, OUTBOX_KINDS = ("pending", "dead"), ("email", "webhook")
NO_DEADLINE = "none"  # an open task without a due moment
TASK_STATES = (*views.STATES, NO_DEADLINE)
PENDING = "pending"  # not escalated, not yet due: due soon or on time, by calendar
BOUNDARY_TTL = timedelta(minutes=1)  # how long an instansi's due-soon boundary is reused
SCHEDULER_MEMORY = timedelta(days=1)  # schedulers silent longer are no longer listed
# state_clause needs no principal for the escalated and overdue conditions
_NOBODY = Principal(user_id=0, username="metrics", memberships=())

REQUEST_SECONDS = Histogram(
    "lapor_http_request_duration_seconds",
    "Time to answer a request, by endpoint name, method and status class",
    ("endpoint", "method", "status"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REPORTS_FILED = Counter(
    "lapor_reports_filed",
    "Reports filed through this process, by channel and classification",
    ("channel", "classification"),
)


# -- in this process ---------------------------------------------------------------------------


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        rule = request.url_rule
        REQUEST_SECONDS.labels(
            endpoint=rule.endpoint if rule is not None else UNMATCHED,
            method=request.method if request.method in METHODS else "other",
            status=f"{response.status_code // 100}xx",
        ).observe(time.perf_counter() - started)
    return response


def channel_of_request() -> str:
    """Where a report being filed now comes from (a few fixed values)."""
    if not has_request_context():
        return "system"  # seed data, `lapor dev generate`, imports
    path = request.path
    if path.startswith("/open311"):
        return "open311"
    return "api" if path.startswith("/api/") else "web"


def _note_filed(session: Session, _context: Any) -> None:
    filed = [obj.classification for obj in session.new if isinstance(obj, Report)]
    if filed:
        channel = channel_of_request()
        session.info.setdefault("lapor_filed", []).extend((channel, c) for c in filed)


def _count_filed(session: Session) -> None:
    for channel, classification in session.info.pop("lapor_filed", ()):
        known = classification if classification in CLASSIFICATIONS else "other"
        REPORTS_FILED.labels(channel=channel, classification=known).inc()


def _forget_filed(session: Session, *_args: Any) -> None:
    session.info.pop("lapor_filed", None)


def _listen_to_filings() -> None:
    """Count new reports when their transaction commits (once per process)."""
    for name, handler in (
        ("after_flush", _note_filed),
        ("after_commit", _count_filed),
        ("after_rollback", _forget_filed),
    ):
        if not event.contains(Session, name, handler):
            event.listen(Session, name, handler)


# -- from the database, at each scrape ---------------------------------------------------------


class _Boundaries:
    """Each instansi's due-soon boundary (`views.due_soon_until` of its calendar), reused while
    the clock is less than `BOUNDARY_TTL` past the moment it was computed for."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[int | None, tuple[datetime, datetime]] = {}

    def until(self, session: Session, instansi_id: int | None, now: datetime) -> datetime:
        with self._lock:
            known = self._known.get(instansi_id)
        if known is not None and timedelta(0) <= now - known[0] <= BOUNDARY_TTL:
            return known[1]
        found = session.get(Instansi, instansi_id) if instansi_id is not None else None
        calendar = calendar_for(session, found or deadlines.national_instansi(session))
        until = views.due_soon_until(calendar, now)
        with self._lock:
            self._known[instansi_id] = (now, until)
        return until


_boundaries = _Boundaries()


def _same_instansi(instansi_id: int | None) -> Any:
    if instansi_id is None:
        return HumanTask.instansi_id.is_(None)
    return HumanTask.instansi_id == instansi_id


def open_tasks_by_state(session: Session, now: datetime) -> dict[str, int]:
    """Open tasks per SLA state at `now`, as officers' inboxes show them (`sla.views`): two
    grouped counts, and the due-soon boundary of each instansi with tasks not yet due."""
    escalated = views.state_clause(session, principal=_NOBODY, state=views.ESCALATED, now=now)
    overdue = views.state_clause(session, principal=_NOBODY, state=views.OVERDUE, now=now)
    bucket = case(
        (HumanTask.due_at.is_(None), literal(NO_DEADLINE)),
        (escalated, literal(views.ESCALATED)),
        (overdue, literal(views.OVERDUE)),
        else_=literal(PENDING),
    )
    tasks = (
        select(HumanTask.instansi_id, bucket.label("bucket"))
        .where(HumanTask.status == "open")
        .subquery()
    )
    counts = dict.fromkeys(TASK_STATES, 0)
    pending: dict[int | None, int] = {}
    for instansi_id, state, count in session.execute(
        select(tasks.c.instansi_id, tasks.c.bucket, func.count()).group_by(
            tasks.c.instansi_id, tasks.c.bucket
        )
    ):
        if state == PENDING:
            pending[instansi_id] = count
        else:
            counts[state] += count
    if pending:
        soon = or_(
            *(
                and_(_same_instansi(i), HumanTask.due_at <= _boundaries.until(session, i, now))
                for i in pending
            )
        )
        due_soon = session.scalar(
            select(func.count()).where(
                HumanTask.status == "open", HumanTask.due_at >= now, ~escalated, soon
            )
        )
        counts[views.DUE_SOON] = due_soon or 0
        counts[views.ON_TIME] = sum(pending.values()) - counts[views.DUE_SOON]
    return counts


def _completed(session: Session) -> Tally[str]:
    found: Tally[str] = Tally()
    for milestone, count in session.execute(
        select(HumanTask.milestone, func.count())
        .where(HumanTask.status == "completed")
        .group_by(HumanTask.milestone)
    ):
        if milestone is None:
            found[NO_DEADLINE] += count
        else:
            found[milestone if milestone in MILESTONES else "other"] += count
    return found


class DatabaseCollector(Collector):
    """The numbers of the whole deployment, read at scrape time with aggregate queries."""

    def __init__(self, factory: sessionmaker, *, alive_seconds: int) -> None:
        self.factory = factory
        self.alive_seconds = alive_seconds

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "lapor_metrics_database_up", "Whether this scrape could read the database"
        )
        try:
            families = list(self._read())
        except SQLAlchemyError:
            log.warning("metrics: the database did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> Iterator[Metric]:
        now = clock.now()
        with self.factory() as session:
            with session.begin():
                by_state = open_tasks_by_state(session, now)
                completed = _completed(session)
                stored = session.execute(
                    select(Report.classification, func.count()).group_by(Report.classification)
                ).all()
                oldest_due = session.scalar(
                    select(func.min(Deadline.due_at)).where(
                        Deadline.status == "pending", Deadline.due_at <= now
                    )
                )
                escalations = session.execute(
                    select(Escalation.reason, Escalation.level, func.count()).group_by(
                        Escalation.reason, Escalation.level
                    )
                ).all()
                outbox = session.execute(
                    select(
                        OutboxMessage.status,
                        OutboxMessage.channel,
                        func.count(),
                        func.min(OutboxMessage.created_at),
                    )
                    .where(OutboxMessage.status.in_(OUTBOX_STATES))
                    .group_by(OutboxMessage.status, OutboxMessage.channel)
                ).all()
            beats = scheduler.beats_since(session, now - SCHEDULER_MEMORY)

        family = GaugeMetricFamily(
            "lapor_tasks_open", "Open tasks by SLA state (none: no deadline)", labels=["sla_state"]
        )
        for state in TASK_STATES:
            family.add_metric([state], by_state[state])
        yield family

        done = CounterMetricFamily(
            "lapor_tasks_completed", "Tasks completed, by milestone", labels=["milestone"]
        )
        for milestone in (*MILESTONES, NO_DEADLINE, "other"):
            done.add_metric([milestone], completed[milestone])
        yield done

        reports_stored = CounterMetricFamily(
            "lapor_reports",
            "Reports in the database (filed through any process), by classification",
            labels=["classification"],
        )
        by_classification = dict.fromkeys(CLASSIFICATIONS, 0)
        for classification, count in stored:
            known = classification if classification in CLASSIFICATIONS else "other"
            by_classification[known] = by_classification.get(known, 0) + count
        for classification, count in by_classification.items():
            reports_stored.add_metric([classification], count)
        yield reports_stored

        escalated = CounterMetricFamily(
            "lapor_escalations",
            "Escalations to a supervising instansi, by reason and level",
            labels=["reason", "level"],
        )
        for reason, level, count in escalations:
            escalated.add_metric([reason, str(level)], count)
        yield escalated

        backlog = GaugeMetricFamily(
            "lapor_outbox_messages",
            "Emails and webhooks not delivered: pending (being retried) or dead",
            labels=["status", "kind"],
        )
        oldest = GaugeMetricFamily(
            "lapor_outbox_oldest_pending_age_seconds",
            "Age of the oldest message still pending, by kind",
            labels=["kind"],
        )
        counts = {(status, kind): (count, first) for status, kind, count, first in outbox}
        for status in OUTBOX_STATES:
            for kind in OUTBOX_KINDS:
                backlog.add_metric([status, kind], counts.get((status, kind), (0, None))[0])
        for kind in OUTBOX_KINDS:
            first = counts.get(("pending", kind), (0, None))[1]
            oldest.add_metric([kind], max(0.0, (now - first).total_seconds()) if first else 0)
        yield backlog
        yield oldest

        lag = GaugeMetricFamily(
            "lapor_scheduler_lag_seconds",
            "Seconds since each scheduler's last heartbeat (those heard from in the last day)",
            labels=["scheduler"],
        )
        alive = 0
        for name, beat_at in beats:
            seconds = max(0.0, (now - beat_at).total_seconds())
            alive += seconds <= self.alive_seconds
            lag.add_metric([name], seconds)
        yield lag
        yield GaugeMetricFamily(
            "lapor_deadline_lag_seconds",
            "How long the oldest deadline that is due has waited to fire (0: none waits)",
            value=max(0.0, (now - oldest_due).total_seconds()) if oldest_due else 0.0,
        )
        yield GaugeMetricFamily(
            "lapor_schedulers_alive",
            "Schedulers whose last heartbeat is within LAPOR_READY_HEARTBEAT_SECONDS",
            value=alive,
        )


class _Scrape(Collector):
    """What one scrape shows: this process's (or every worker's) metrics, then the database's."""

    def __init__(self, *collectors: Collector) -> None:
        self.collectors = collectors

    def collect(self) -> Iterable[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def in_process_metrics() -> Collector:
    """This process's registry, or every gunicorn worker's when `PROMETHEUS_MULTIPROC_DIR` is
    set (prometheus_client's multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


def exposition(factory: sessionmaker, *, alive_seconds: int) -> bytes:
    """The text a scrape gets."""
    database = DatabaseCollector(factory, alive_seconds=alive_seconds)
    return generate_latest(_Scrape(in_process_metrics(), database))


# -- the endpoint ------------------------------------------------------------------------------


def _token_matches(expected: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected.encode()
    )


@blp.get("/metrics")
def metrics():  # type: ignore[no-untyped-def]
    """Prometheus metrics; with LAPOR_METRICS_TOKEN set, only for `Bearer <token>`."""
    settings = current_app.config["LAPOR"]
    if settings.METRICS_TOKEN and not _token_matches(settings.METRICS_TOKEN):
        answer = problem(
            401,
            "metrics need `Authorization: Bearer <LAPOR_METRICS_TOKEN>`",
            code="metrics_token_required",
            field="Authorization",
        )
        answer.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return answer
    body = exposition(db.factory(), alive_seconds=settings.READY_HEARTBEAT_SECONDS)
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """The /metrics endpoint, the request timer (its start hook runs before any other, so a
    hook that answers early is timed too) and the filing counter."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_observe)
    app.register_blueprint(blp)
    _listen_to_filings()

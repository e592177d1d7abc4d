"""Test session set-up: one database per session (SQLite or PostgreSQL), built by migrations.

`LAPOR_TEST_DB=sqlite|postgresql` (or `--db`) picks the backend; PostgreSQL runs in a throwaway
cluster this session starts and removes. Tests that change data get a clean slate afterwards.
"""

from __future__ import annotations

import csv
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import sessionmaker

from engine import clock, schema
from engine.db import make_engine, make_session_factory
from engine.runtime.workflow import clear_caches
from tests import pgcluster
from tests.smtp_server import SmtpServer

ROOT = Path(__file__).resolve().parent.parent
TEST_CONFIG = {
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 8,
    "TESTING": True,
    # Tests file many reports from one address; tests/test_rate_limits.py turns limits on.
    "RATELIMIT_ENABLED": False,
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default=os.environ.get("LAPOR_TEST_DB", "sqlite"),
        choices=("sqlite", "postgresql"),
        help="database backend for the suite",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql_only: needs real concurrency (PostgreSQL)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--db") == "postgresql":
        return
    skip = pytest.mark.skip(reason="runs on PostgreSQL only (make test runs both)")
    for item in items:
        if "postgresql_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def backend(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("--db"))


@pytest.fixture(scope="session")
def pg_cluster(backend: str) -> Iterator[pgcluster.Cluster | None]:
    if backend != "postgresql":
        yield None
        return
    cluster = pgcluster.start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def new_database(
    backend: str, pg_cluster: pgcluster.Cluster | None, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], str]:
    """Make an empty database of the session's backend; returns its URL."""

    def make(name: str) -> str:
        if pg_cluster is not None:
            return pg_cluster.create_database(name)
        return f"sqlite:///{tmp_path_factory.mktemp('db') / (name + '.db')}"

    return make


@pytest.fixture(scope="session")
def database_url(new_database: Callable[[str], str]) -> str:
    """The session database: migrated with Alembic, registry seeded, national SOPs deployed."""
    import sla
    from api.config import Settings
    from engine import personal_data
    from engine.seed import loader
    from engine.services import auth, definitions

    sla.install()  # deadlines follow tasks in every test, as in every process
    # the key the apps get too (engine code used without an app needs it as well)
    personal_data.configure(Settings.from_env().PERSONAL_DATA_KEY)
    url = new_database("lapor_test")
    schema.upgrade(url)
    auth.configure_hasher(time_cost=1, memory_cost=8)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        loader.load_registry(session)
        loader.load_demo_users(session)
        definitions.deploy_national(session, ROOT / "bpmn")
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def db_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def factory(db_engine: Engine) -> sessionmaker:
    return make_session_factory(db_engine)


with (ROOT / "engine/seed/data/demo_units.csv").open(newline="", encoding="utf-8") as _units:
    SEEDED_UNITS = tuple(row["code"] for row in csv.DictReader(_units))
NATIONAL_KEYS = ("intake", "sop-default")  # deployed once per session; tests' variants go
DYNAMIC_TABLES = (  # children before parents
    "export_job",
    "oidc_link",
    "oidc_provider",
    "change_event",
    "idempotency_record",
    "report_channel",
    "deadline_firing",
    "alert",
    "outbox_message",
    "webhook_endpoint",
    "escalation",
    "deadline",
    "calendar_adjustment",
    "office_hours",
    "sla_policy",
    "clock_setting",
    "audit_checkpoint",
    "audit_event",
    "human_task",
    "timeline_entry",
    "process_instance",
    "attachment",
    "report",
    "auth_token",
    "api_key",
    "password_reset_token",
    "login_throttle",
    "scheduler_heartbeat",
)


@pytest.fixture(autouse=True)
def clean_slate(request: pytest.FixtureRequest) -> Iterator[None]:
    """Remove what a test wrote (reports, instances, tasks...) and restore the clock."""
    yield
    clock.set_clock()
    clear_caches()
    if "database_url" not in request.fixturenames:
        return
    from engine.db import Base

    engine: Engine = request.getfixturevalue("db_engine")
    with engine.begin() as conn:
        for name in DYNAMIC_TABLES:
            conn.execute(delete(Base.metadata.tables[name]))
        definitions = Base.metadata.tables["process_definition"]
        conn.execute(
            delete(definitions).where(
                definitions.c.key.not_in(NATIONAL_KEYS) | (definitions.c.version > 1)
            )
        )
        # A roll back or re-deploy in a test may have re-released a national version 1.
        conn.execute(update(definitions).values(release_seq=definitions.c.version))
        # Units a test created (staff administration) go; the seeded demo units stay.
        units, memberships = Base.metadata.tables["unit"], Base.metadata.tables["role_membership"]
        added = select(units.c.id).where(units.c.code.not_in(SEEDED_UNITS))
        conn.execute(delete(memberships).where(memberships.c.unit_id.in_(added)))
        conn.execute(delete(units).where(units.c.code.not_in(SEEDED_UNITS)))


def build_app(database_url: str, **overrides: Any) -> Flask:
    from api import create_app

    return create_app({"DATABASE_URL": database_url, **TEST_CONFIG, **overrides})


@pytest.fixture()
def make_app() -> Iterator[Callable[..., Flask]]:
    """Build apps on any database URL; their engines are disposed after the test."""
    from api.db import db

    built: list[Flask] = []

    def make(database_url: str, **overrides: Any) -> Flask:
        application = build_app(database_url, **overrides)
        built.append(application)
        return application

    yield make
    for application in built:
        db.engine(application).dispose()


@pytest.fixture()
def app(database_url: str) -> Iterator[Flask]:
    application = build_app(database_url)
    yield application
    from api.db import db

    db.engine(application).dispose()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def new_app_client(database_url: str) -> Callable[[], Any]:
    """A context manager giving a client of a brand-new app with every cache cleared: each step
    of a test runs as if in a new process (tests/test_e2e_paths.py proves the paths so)."""
    from api.db import db

    @contextmanager
    def make() -> Iterator[FlaskClient]:
        clear_caches()
        application = build_app(database_url)
        try:
            yield application.test_client()
        finally:
            db.engine(application).dispose()

    return make


@pytest.fixture()
def fresh_client(database_url: str) -> Iterator[Callable[[], Any]]:
    """A context manager giving a new client of the test's app, with the engine caches cleared
    and the connection pool emptied before each step: nothing a step kept in memory reaches the
    next one. (Building an app costs about 0.3 s; `new_app_client` builds one per step.)"""
    from api.db import db

    built: list[Flask] = []
    lock, active = threading.Lock(), [0]

    @contextmanager
    def make() -> Iterator[FlaskClient]:
        with lock:  # steps may run in threads: empty the pool only when none is running
            if not built:
                built.append(build_app(database_url))
            if active[0] == 0:
                clear_caches()
                db.engine(built[0]).dispose()
            active[0] += 1
        try:
            yield built[0].test_client()
        finally:
            with lock:
                active[0] -= 1

    yield make
    for application in built:
        db.engine(application).dispose()


@pytest.fixture()
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd on a free loopback port) that keeps what it receives."""
    server = SmtpServer().start()
    yield server
    server.stop()

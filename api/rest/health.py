"""Liveness and readiness probes.

`/healthz`: the process answers. `/readyz`: three checks, each named in the JSON body with its
own `ok` and figures: `database` (it answers), `migrations` (its revision is Alembic's head) and
`scheduler` (a heartbeat within `LAPOR_READY_HEARTBEAT_SECONDS`: deadlines, emails and webhooks
only move while one runs). 200 when all pass; else a 503 problem whose `code` names the first
that failed, with the same `checks`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from api.db import db
from api.errors import problem
from engine import clock, schema
from sla import scheduler

blp = Blueprint("health", __name__)


@dataclass
class Check:
    """One readiness check: passed or not, why not (`code`, `detail`), and its figures."""

    ok: bool
    code: str | None = None
    detail: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        body = asdict(self)
        figures = body.pop("figures")
        return {k: v for k, v in body.items() if v is not None} | figures


@lru_cache(maxsize=1)
def _head() -> str | None:
    """Alembic's head revision (the migration scripts do not change while the process runs)."""
    return schema.head_revision()


def check_database_and_migrations() -> tuple[Check, Check]:
    unreachable = "the database does not answer"
    try:
        current = schema.current_revision(db.engine())
    except SQLAlchemyError:
        skipped = Check(False, "database_unreachable", "not checked: " + unreachable)
        return Check(False, "database_unreachable", unreachable), skipped
    head = _head()
    figures = {"revision": current, "head": head, "ahead": schema.is_ahead(current)}
    if not schema.is_usable(current):
        detail = f"migrations are not current ({current} != {head}); run `{schema.FIX_COMMAND}`"
        return Check(True), Check(False, "migrations_pending", detail, figures)
    return Check(True), Check(True, figures=figures)


def check_scheduler(limit: int) -> Check:
    """A heartbeat of any scheduler at most `limit` seconds old (on the engine clock)."""
    try:
        with db.factory()() as session:
            last = scheduler.latest_beat(session)
    except SQLAlchemyError:
        return Check(False, "database_unreachable", "the database does not answer")
    figures: dict[str, Any] = {"limit_seconds": limit, "last_heartbeat_at": None}
    if last is None:
        detail = "no scheduler has ever sent a heartbeat; start one with `lapor scheduler`"
        return Check(False, "scheduler_stale", detail, figures)
    age = max(0.0, (clock.now() - last).total_seconds())
    figures |= {"last_heartbeat_at": last.isoformat(), "heartbeat_age_seconds": round(age, 1)}
    if age > limit:
        detail = (
            f"the last scheduler heartbeat was at {last.isoformat()}, {age:.0f} s ago (more "
            f"than {limit} s): is `lapor scheduler` running?"
        )
        return Check(False, "scheduler_stale", detail, figures)
    return Check(True, figures=figures)


@blp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """200 while the process is up."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():  # type: ignore[no-untyped-def]
    """200 when the database answers, its migrations are current and a scheduler is alive."""
    database, migrations = check_database_and_migrations()
    limit = current_app.config["LAPOR"].READY_HEARTBEAT_SECONDS
    if database.ok:
        beat = check_scheduler(limit)
    else:
        beat = Check(False, "database_unreachable", "not checked: the database does not answer")
    checks = {"database": database, "migrations": migrations, "scheduler": beat}
    body = {name: check.as_json() for name, check in checks.items()}
    failed = next((check for check in checks.values() if not check.ok), None)
    if failed is not None:
        return problem(503, str(failed.detail), code=str(failed.code), extra={"checks": body})
    return jsonify(status="ready", checks=body)

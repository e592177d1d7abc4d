"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from api.db import db
from api.errors import problem
from engine import schema

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """200 while the process is up."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():  # type: ignore[no-untyped-def]
    """200 when the database answers and its migrations are current, else 503."""
    try:
        current = schema.current_revision(db.engine())
    except SQLAlchemyError:
        return problem(503, "the database does not answer", code="database_unreachable")
    head = schema.head_revision()
    if current != head:
        return problem(
            503,
            f"migrations are not current ({current} != {head}); run `{schema.FIX_COMMAND}`",
            code="migrations_pending",
        )
    return jsonify(status="ready", revision=current)

"""Idempotent requests: the first answer to an `Idempotency-Key`, replayed for 24 hours.

An authenticated caller (an API key or a staff user) sends `Idempotency-Key: <1-255 visible
ASCII characters>` with a filing. `perform_once` runs the request unless this caller already
sent the key within `WINDOW`; the request's own transaction stores its answer (`remember`) under
a unique (caller, key) constraint. Of two identical requests racing, one commits; the other's
insert fails on the constraint, so its whole transaction (the report it filed included) rolls
back, and it replays the stored answer instead (on PostgreSQL the second insert waits for the
first transaction to end). The same key with a different request is refused (422
`idempotency_key_reused`).
Answers are stored sealed (they hold the pelapor's secret); `purge_expired` drops old ones.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import InvalidInput
from engine.models import IdempotencyRecord
from engine.services.auth import Principal

HEADER = "Idempotency-Key"
WINDOW = timedelta(hours=24)
KEY = re.compile(r"[\x21-\x7e]{1,255}")

# what a performed request calls, in its transaction, with (status code, answer, report id)
Remember = Callable[[Session, int, dict[str, Any], int | None], None]


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: dict[str, Any]
    replayed: bool


def checked_key(raw: str | None) -> str | None:
    """The header's key (None when absent); anything but 1-255 visible ASCII is refused."""
    if raw is None:
        return None
    if not KEY.fullmatch(raw):
        raise InvalidInput(
            f"{HEADER}: 1 to 255 visible ASCII characters (a UUID is a good choice)",
            field=HEADER,
        )
    return raw


def caller_of(principal: Principal) -> str:
    """Whose keys these are: one API key, or one staff user."""
    if principal.api_key_id is not None:
        return f"key:{principal.api_key_id}"
    return f"user:{principal.user_id}"


def fingerprint(request: Mapping[str, Any]) -> str:
    """SHA-256 of the request's canonical JSON (keys sorted), to tell a retry from a reuse."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def perform_once(
    session: Session,
    *,
    caller: str,
    key: str,
    request: Mapping[str, Any],
    perform: Callable[[Remember], tuple[int, dict[str, Any]]],
) -> Answer:
    """`perform(remember)` once per (caller, key) within `WINDOW`; later calls replay its answer.

    `perform` runs its own transaction and must call `remember` inside it.
    """
    printed = fingerprint(request)
    with session.begin():
        stored = _stored(session, caller=caller, key=key, printed=printed)
    if stored is not None:
        return stored

    def remember(
        inner: Session, status_code: int, body: dict[str, Any], report_id: int | None
    ) -> None:
        inner.add(
            IdempotencyRecord(
                caller=caller,
                key=key,
                fingerprint=printed,
                status_code=status_code,
                response=json.dumps(body, default=str),
                report_id=report_id,
                created_at=clock.now(),
            )
        )
        inner.flush()  # a racing twin fails here, before anything else commits

    try:
        status_code, body = perform(remember)
    except IntegrityError:
        with session.begin():
            stored = _stored(session, caller=caller, key=key, printed=printed)
        if stored is None:
            raise
        return stored
    return Answer(status_code, body, replayed=False)


def _stored(session: Session, *, caller: str, key: str, printed: str) -> Answer | None:
    """The stored answer to this key, if fresh; an expired one is deleted (the key is free)."""
    row = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.caller == caller, IdempotencyRecord.key == key
        )
    )
    if row is None:
        return None
    if row.created_at <= clock.now() - WINDOW:
        session.delete(row)
        return None
    if row.fingerprint != printed:
        raise InvalidInput(
            f"this {HEADER} was already used with a different request in the last 24 hours",
            field=HEADER,
            code="idempotency_key_reused",
        )
    return Answer(row.status_code, json.loads(row.response), replayed=True)


def purge_expired(session: Session) -> int:
    """Delete the answers older than `WINDOW`; returns how many. One transaction."""
    with session.begin():
        result = session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= clock.now() - WINDOW)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

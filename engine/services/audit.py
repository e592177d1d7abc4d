"""Write audit events (append-only) in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine import clock
from engine.models import AuditEvent


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    report_id: int | None = None,
    instance_id: int | None = None,
    task_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=clock.now(),
        actor=actor,
        action=action,
        report_id=report_id,
        instance_id=instance_id,
        task_id=task_id,
        data=data,
    )
    session.add(event)
    return event


def user_actor(user_id: int) -> str:
    return f"user:{user_id}"

"""In-transaction domain events: `engine` publishes, other packages (the SLA work) subscribe.

Handlers run synchronously inside the publishing transaction, with the same session, so whatever
they write commits or rolls back together with the change that caused the event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

TASK_OPENED = "task.opened"
TASK_CLOSED = "task.closed"
STATUS_CHANGED = "report.status_changed"
# a report was filed and its intake started (its status may already have moved on)
REPORT_FILED = "report.filed"
# after every engine step of an instance is saved; payload: instance_id, status, uses_timers
# (whether its definition has timer events at all) and timers (ISO UTC due moments it waits for)
INSTANCE_SETTLED = "instance.settled"
# the pelapor asked what personal data is held for their report (engine.services.privacy);
# payload: `held`, a dict each subscriber adds its own section to (sla adds the emails sent)
PERSONAL_DATA_REQUESTED = "report.personal_data_requested"
# the pelapor's identity was erased from a report (on request or by retention); payload:
# `email`, the address it had (or None), so subscribers can forget what they hold for it
IDENTITY_ERASED = "report.identity_erased"


@dataclass(frozen=True)
class Event:
    name: str
    report_id: int
    payload: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Session, Event], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(name: str, handler: Handler) -> None:
    """Register `handler` for events called `name` (idempotent)."""
    if handler not in _handlers[name]:
        _handlers[name].append(handler)


def unsubscribe(name: str, handler: Handler) -> None:
    if handler in _handlers[name]:
        _handlers[name].remove(handler)


def publish(session: Session, event: Event) -> None:
    """Call every subscriber of the event inside the current transaction."""
    for handler in list(_handlers[event.name]):
        handler(session, event)

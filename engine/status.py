"""Report statuses and the one table of allowed transitions between them."""

from __future__ import annotations

from engine.errors import Conflict

PENDING_VERIFICATION = "pending_verification"
ON_HOLD = "on_hold"
REJECTED = "rejected"  # bukan wewenang at national verification: no instansi has authority
ARCHIVED = "archived"
FORWARDED = "forwarded"
IN_PROGRESS = "in_progress"
FOLLOWED_UP = "followed_up"
REOPENED = "reopened"
CLOSED = "closed"

TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING_VERIFICATION: frozenset({FORWARDED, ON_HOLD, REJECTED, ARCHIVED}),
    ON_HOLD: frozenset({PENDING_VERIFICATION}),
    FORWARDED: frozenset({IN_PROGRESS, PENDING_VERIFICATION}),
    IN_PROGRESS: frozenset({FOLLOWED_UP, FORWARDED}),  # FORWARDED: a supervisor moved it
    FOLLOWED_UP: frozenset({CLOSED, REOPENED}),
    REOPENED: frozenset({FOLLOWED_UP, FORWARDED}),
    REJECTED: frozenset(),
    ARCHIVED: frozenset(),
    CLOSED: frozenset(),
}
FINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
STATUSES = tuple(TRANSITIONS)


def check_transition(current: str, new: str) -> None:
    """Raise Conflict unless `current -> new` is in the transition table."""
    if new not in TRANSITIONS.get(current, frozenset()):
        raise Conflict(f"a report in status '{current}' cannot move to '{new}'", field="status")


# The milestones a BPMN task can carry (docs/bpmn-contract.md section 3), in process order.
MILESTONES = ("verification", "disposition", "follow-up", "close")

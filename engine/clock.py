"""The one clock of the system: every timestamp in engine and sla code comes from here.

Tests and demos can pin or shift it (`set_clock`), so deadline logic is exact without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current moment, timezone-aware, in UTC."""
    return _source()


def set_clock(moment: datetime | None = None, *, offset: timedelta | None = None) -> None:
    """Pin the clock to `moment`, shift the wall clock by `offset`, or (no args) restore it."""
    global _source
    if moment is not None:
        if moment.tzinfo is None:
            raise ValueError("clock moments must be timezone-aware")
        fixed = moment.astimezone(UTC)
        _source = lambda: fixed  # noqa: E731
    elif offset is not None:
        _source = lambda: datetime.now(UTC) + offset  # noqa: E731
    else:
        _source = lambda: datetime.now(UTC)  # noqa: E731

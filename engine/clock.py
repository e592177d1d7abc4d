"""The one clock of the system: every timestamp in engine and sla code comes from here.

Tests and demos can pin or shift it (`set_clock`), so deadline logic is exact without sleeping.
In test mode a process may hand the clock another source (`set_source`): `sla.shared_clock`
makes every process read one setting from the database, so time moves for all of them at once.
`wall()` is the real time, for the few places that must not follow a test clock (the clock
sources themselves, and when a setting was changed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def wall() -> datetime:
    """The real time, timezone-aware, in UTC, whatever the clock is set to."""
    return datetime.now(UTC)


_source: Callable[[], datetime] = wall


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
        _source = lambda: wall() + offset  # noqa: E731
    else:
        _source = wall


def set_source(source: Callable[[], datetime] | None) -> None:
    """Take the time from `source` (it must return aware datetimes); None restores the wall."""
    global _source
    _source = wall if source is None else source

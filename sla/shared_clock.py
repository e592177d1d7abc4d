"""The test-mode clock shared by every process: one `clock_setting` row that all of them read.

Browser and fault tests move time across processes (web workers, `lapor scheduler`): `store`
pins the clock (`fixed_at`) or shifts the wall clock (`offset_seconds`) for everyone, `clear`
puts everyone back on the wall clock. A process follows the row only after `enable`, which the
app factory and the scheduler call when `LAPOR_TEST_CLOCK` is on, never in production. The row
is read at most once per `ttl_seconds` per process, so hot paths do not query it on every call;
the process that stores a setting sees it at once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, create_engine, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from engine import clock
from engine.errors import InvalidInput
from sla.models import ClockSetting

log = logging.getLogger(__name__)
ROW_ID = 1
MAX_OFFSET_SECONDS = 100 * 366 * 24 * 3600  # a century either way
Setting = tuple[datetime | None, int]  # (fixed_at, offset_seconds)


@dataclass(frozen=True)
class ClockState:
    """What the shared clock says: `now` on it, and the setting behind it (none = wall)."""

    now: datetime
    fixed_at: datetime | None
    offset_seconds: int
    shared: bool  # a setting is stored
    updated_at: datetime | None


def moment(setting: Setting | None) -> datetime:
    """The current moment under `setting` (None: the wall clock)."""
    if setting is None:
        return clock.wall()
    fixed_at, offset = setting
    return fixed_at if fixed_at is not None else clock.wall() + timedelta(seconds=offset)


class SharedClock:
    """A clock source reading the setting row, cached for `ttl` seconds.

    It reads outside the caller's transaction: `engine.clock.now()` is called inside
    transactions, and on SQLite ours begin with `BEGIN IMMEDIATE` (the write lock), so reading
    through the app's engine would wait for the caller's own lock. On SQLite it therefore
    reads through a private plain engine (a deferred read never takes the lock in WAL mode).
    """

    def __init__(self, bind: Engine, ttl: float) -> None:
        self._own = bind.dialect.name == "sqlite"
        self._engine = create_engine(bind.url) if self._own else bind
        self._ttl = ttl
        self._lock = threading.Lock()
        self._setting: Setting | None = None
        self._expires = float("-inf")

    def __call__(self) -> datetime:
        return moment(self.setting())

    def setting(self) -> Setting | None:
        with self._lock:
            if time.monotonic() < self._expires:
                return self._setting
        stmt = select(ClockSetting.fixed_at, ClockSetting.offset_seconds).where(
            ClockSetting.id == ROW_ID
        )
        try:
            with self._engine.connect() as conn:
                row = conn.execute(stmt).first()
        except SQLAlchemyError:  # keep the last setting; the next call tries again
            log.warning("cannot read the shared test clock", exc_info=True)
            return self._setting
        fresh = None if row is None else (row.fixed_at, row.offset_seconds or 0)
        with self._lock:
            self._setting, self._expires = fresh, time.monotonic() + self._ttl
        return fresh

    def invalidate(self) -> None:
        with self._lock:
            self._expires = float("-inf")

    def close(self) -> None:
        if self._own:
            self._engine.dispose()


_active: SharedClock | None = None


def enable(factory: sessionmaker, *, ttl_seconds: float = 0.5) -> SharedClock:
    """Make `engine.clock` follow the shared setting in this process (test mode only)."""
    global _active
    log.warning("TEST CLOCK ON: time comes from the clock_setting table (never in production)")
    disable()
    _active = SharedClock(factory.kw["bind"], ttl_seconds)
    clock.set_source(_active)
    return _active


def disable() -> None:
    """Back to the wall clock in this process (the stored setting stays)."""
    global _active
    if _active is not None:
        _active.close()
    _active = None
    clock.set_source(None)


def _state(row: ClockSetting | None) -> ClockState:
    if row is None:
        return ClockState(clock.wall(), None, 0, False, None)
    setting = (row.fixed_at, row.offset_seconds or 0)
    return ClockState(moment(setting), row.fixed_at, setting[1], True, row.updated_at)


def _checked(fixed_at: datetime | None, offset_seconds: int) -> tuple[datetime | None, int]:
    if fixed_at is not None:
        if not isinstance(fixed_at, datetime) or fixed_at.tzinfo is None:
            raise InvalidInput("the clock moment needs its UTC offset", field="now")
        if offset_seconds:
            raise InvalidInput("give a moment or an offset, not both", field="offset_seconds")
        return fixed_at.astimezone(UTC), 0
    if isinstance(offset_seconds, bool) or not isinstance(offset_seconds, int):
        raise InvalidInput("offset_seconds must be an integer", field="offset_seconds")
    if abs(offset_seconds) > MAX_OFFSET_SECONDS:
        raise InvalidInput("offset_seconds is more than a century", field="offset_seconds")
    return None, offset_seconds


def read(session: Session) -> ClockState:
    """The stored setting and the moment it gives now (one transaction)."""
    with session.begin():
        return _state(session.get(ClockSetting, ROW_ID))


def store(
    session: Session, *, fixed_at: datetime | None = None, offset_seconds: int = 0
) -> ClockState:
    """Pin every process's clock to `fixed_at`, or run it `offset_seconds` off the wall clock
    (one transaction; other processes follow within their cache's ttl)."""
    fixed_at, offset_seconds = _checked(fixed_at, offset_seconds)
    with session.begin():
        row = session.get(ClockSetting, ROW_ID, with_for_update=True)
        if row is None:
            row = ClockSetting(id=ROW_ID)
            session.add(row)
        row.fixed_at, row.offset_seconds, row.updated_at = fixed_at, offset_seconds, clock.wall()
        session.flush()
        state = _state(row)
    if _active is not None:
        _active.invalidate()
    return state


def clear(session: Session) -> ClockState:
    """Every process back on the wall clock (one transaction)."""
    with session.begin():
        session.execute(delete(ClockSetting))
    if _active is not None:
        _active.invalidate()
    return _state(None)

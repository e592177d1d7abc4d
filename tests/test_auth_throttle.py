"""Login lockout: failures are counted in the database per username and per client address;
past the limit every login for the subject is 429 for a while, known username or not; a
success resets the username's count; each lockout is audited with ids only.

The clock is pinned and moved (no sleeping).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import AuditEvent, User
from engine.models.users import LoginThrottle
from engine.seed.loader import DEMO_PASSWORD
from tests.helpers import problem_of

T0 = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)
LOGIN = "/api/v1/auth/login"


@pytest.fixture(autouse=True)
def pinned() -> None:
    clock.set_clock(T0)


def attempt(
    client: Any, username: str, password: str | None = None, address: str = "10.0.0.1"
) -> Any:
    """One login from `address`; without `password`, a wrong one."""
    return client.post(
        LOGIN,
        json={"username": username, "password": password or "salah"},
        environ_base={"REMOTE_ADDR": address},
    )


def fail(client: Any, username: str, times: int, address: str = "10.0.0.1") -> None:
    for _ in range(times):
        problem_of(attempt(client, username, address=address), 401)


def lockouts(factory: Any) -> list[dict[str, Any]]:
    with factory() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == "auth.locked_out"))
        return [dict(row.data or {}) for row in rows]


def test_five_failures_lock_the_username_for_fifteen_minutes(client: Any, factory: Any) -> None:
    fail(client, "sleman", 4)
    locked = problem_of(attempt(client, "sleman"), 429)  # the fifth failure locks
    assert locked["code"] == "locked" and locked["field"] == "username"
    assert locked["retry_after"] == 15 * 60 and "token" not in locked
    # locked: the right password is refused too, from any address
    right = problem_of(attempt(client, "sleman", DEMO_PASSWORD, address="10.9.9.9"), 429)
    assert right["detail"] == locked["detail"]

    clock.set_clock(T0 + timedelta(minutes=14, seconds=59))
    problem_of(attempt(client, "sleman", DEMO_PASSWORD), 429)
    clock.set_clock(T0 + timedelta(minutes=15))
    assert attempt(client, "sleman", DEMO_PASSWORD).status_code == 200

    with factory() as s:
        sleman = s.scalar(select(User.id).where(User.username == "sleman"))
        rows = s.scalars(select(LoginThrottle)).all()
    (audited,) = lockouts(factory)
    assert audited["user_id"] == sleman and audited["scope"] == "username"
    assert set(audited) == {"scope", "throttle_id", "user_id"}  # ids only, no names typed
    # the count is keyed by a hash: nothing typed at the form is stored
    assert all(row.subject not in {"sleman", "10.0.0.1"} and len(row.subject) == 64 for row in rows)


def test_an_unknown_username_locks_the_same_way(client: Any, factory: Any) -> None:
    fail(client, "sleman", 4)
    known = problem_of(attempt(client, "sleman"), 429)
    fail(client, "tidak-ada", 4)
    unknown = problem_of(attempt(client, "tidak-ada"), 429)
    assert unknown == known  # nothing tells them apart
    (_, audited) = lockouts(factory)
    assert audited == {"scope": "username", "throttle_id": audited["throttle_id"], "user_id": None}


def test_a_success_resets_the_count(client: Any) -> None:
    fail(client, "sleman", 4)
    assert attempt(client, "sleman", DEMO_PASSWORD).status_code == 200
    fail(client, "sleman", 4)  # four more are allowed again
    problem_of(attempt(client, "sleman"), 429)


def test_failures_older_than_the_window_do_not_count(client: Any) -> None:
    fail(client, "sleman", 4)
    clock.set_clock(T0 + timedelta(minutes=15, seconds=1))
    fail(client, "sleman", 4)
    assert attempt(client, "sleman", DEMO_PASSWORD).status_code == 200


def test_an_address_spraying_many_usernames_is_locked(
    database_url: str, make_app: Any, factory: Any
) -> None:
    client = make_app(database_url, LOGIN_ADDRESS_MAX_FAILURES=3).test_client()
    for username in ("sleman", "diy"):  # one try each: no username is near its limit
        problem_of(attempt(client, username, address="10.6.6.6"), 401)
    problem_of(attempt(client, "nasional", address="10.6.6.6"), 429)  # the address's third
    # the address is locked for every username, right password or not
    problem_of(attempt(client, "sleman.pu", DEMO_PASSWORD, address="10.6.6.6"), 429)
    # other addresses are not
    assert attempt(client, "sleman.pu", DEMO_PASSWORD, address="10.7.7.7").status_code == 200
    assert [row["scope"] for row in lockouts(factory)] == ["address"]


def test_every_process_agrees_on_the_count(new_app_client: Any) -> None:
    for _ in range(4):
        with new_app_client() as client:  # a new app each time: as if another worker
            problem_of(attempt(client, "sleman"), 401)
    with new_app_client() as client:
        problem_of(attempt(client, "sleman"), 429)
    with new_app_client() as client:
        problem_of(attempt(client, "sleman", DEMO_PASSWORD), 429)


def test_the_settings_are_read_from_the_config(database_url: str, make_app: Any) -> None:
    client = make_app(
        database_url, LOGIN_MAX_FAILURES=2, LOGIN_LOCKOUT=60, LOGIN_FAILURE_WINDOW=60
    ).test_client()
    fail(client, "sleman", 1)
    assert problem_of(attempt(client, "sleman"), 429)["retry_after"] == 60
    clock.set_clock(T0 + timedelta(seconds=60))
    assert attempt(client, "sleman", DEMO_PASSWORD).status_code == 200


def test_bad_settings_stop_the_app(database_url: str, make_app: Any) -> None:
    from api.config import ConfigError

    with pytest.raises(ConfigError, match="LAPOR_LOGIN_LOCKOUT"):
        make_app(database_url, LOGIN_LOCKOUT=0)

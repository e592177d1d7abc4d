"""Password reset through the HTTP API and a real SMTP server: the same answer for every
request, a one-time token read from the mail (only its hash stored), one hour of life, a newer
token replacing an older one, and a new password that ends every session of the account.

The clock is pinned and moved (no sleeping); each API call runs on a brand-new app.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import AuditEvent, AuthToken, User
from engine.models.users import PasswordResetToken
from engine.seed.loader import DEMO_PASSWORD
from engine.services import auth
from sla.mailer import SmtpSettings
from sla.outbox import deliver_due
from tests.helpers import Api, ensure_user, problem_of
from tests.smtp_server import SmtpServer

T0 = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)
USERNAME = "reset.petugas"
EMAIL = "Reset.Petugas@slemankab.go.id"
NEW_PASSWORD = "sandi-baru-yang-panjang-2026"
LINK = re.compile(r"http://127\.0\.0\.1:5000/sandi-baru\?token=([A-Za-z0-9_-]+)")
REQUEST, CONFIRM = "/api/v1/auth/password-reset", "/api/v1/auth/password-reset/confirm"


@pytest.fixture()
def smtp(smtp_server: SmtpServer) -> SmtpServer:
    clock.set_clock(T0)
    return smtp_server


@pytest.fixture()
def account(factory: Any) -> Iterator[int]:
    """An officer with an email address and the demo password (set back afterwards: users
    outlive the clean slate)."""
    user_id = ensure_user(factory, USERNAME, [("pejabat_penghubung", None, "34.04-DPUPKP")])

    def restore() -> None:
        with factory() as s, s.begin():
            user = s.get(User, user_id)
            assert user is not None
            user.email, user.active = EMAIL, True
            user.password_hash = auth.hash_password(DEMO_PASSWORD)

    restore()
    yield user_id
    restore()


@pytest.fixture()
def api(fresh_client: Any, smtp: SmtpServer, account: int) -> Api:
    return Api(fresh_client)


def mails(factory: Any, smtp: SmtpServer) -> list[EmailMessage]:
    """Deliver everything due; returns the mails received by now."""
    deliver_due(factory, smtp=SmtpSettings(host=smtp.host, port=smtp.port))
    return smtp.received()


def tokens_in(received: list[EmailMessage]) -> list[str]:
    found = []
    for mail in received:
        found += LINK.findall(str(mail.get_content()))
    return found


def ask(api: Api, login: str) -> dict[str, Any]:
    response = api.call("POST", REQUEST, json={"login": login})
    assert response.status_code == 202, response.get_json()
    return dict(response.get_json())


def confirm(api: Api, token: str, password: str = NEW_PASSWORD) -> Any:
    return api.call("POST", CONFIRM, json={"token": token, "password": password})


def login_status(api: Api, password: str) -> int:
    response = api.call(
        "POST", "/api/v1/auth/login", json={"username": USERNAME, "password": password}
    )
    return int(response.status_code)


def test_the_answer_never_tells_whether_an_account_exists(
    api: Api, factory: Any, smtp: SmtpServer
) -> None:
    by_name = ask(api, USERNAME)
    assert ask(api, "tidak-ada") == by_name
    assert ask(api, "tidak-ada@contoh.go.id") == by_name
    assert ask(api, "nasional") == by_name  # a demo account without an email address
    received = mails(factory, smtp)
    assert [mail["To"] for mail in received] == [EMAIL]
    assert "sandi" in received[0]["Subject"].lower()


def test_a_token_from_the_mail_sets_the_password_once_and_ends_every_session(
    api: Api, factory: Any, smtp: SmtpServer, account: int
) -> None:
    before = api.login(USERNAME)
    assert api.call("GET", "/api/v1/tasks", token=before).status_code == 200

    ask(api, EMAIL.lower())  # by email address, any case
    (token,) = tokens_in(mails(factory, smtp))
    with factory() as s:
        stored = s.scalars(select(PasswordResetToken)).all()
    assert [row.token_hash for row in stored] == [hashlib.sha256(token.encode()).hexdigest()]

    assert confirm(api, token).status_code == 204
    problem_of(api.call("GET", "/api/v1/tasks", token=before), 401)  # the old session ended
    assert login_status(api, DEMO_PASSWORD) == 401
    assert login_status(api, NEW_PASSWORD) == 200
    assert problem_of(confirm(api, token, "lagi-sandi-lain-2026"), 422)["field"] == "token"
    assert login_status(api, NEW_PASSWORD) == 200  # the used token changed nothing

    with factory() as s:
        revoked = s.scalars(select(AuthToken).where(AuthToken.user_id == account)).all()
        audited = s.scalars(
            select(AuditEvent).where(AuditEvent.action.like("user.password_reset%"))
        ).all()
    assert [row.revoked_at for row in revoked][:1] == [T0]
    assert [row.action for row in audited] == [
        "user.password_reset_requested",
        "user.password_reset",
    ]
    assert audited[1].data == {"user_id": account, "reset_id": stored[0].id, "sessions_ended": 1}
    # the owner is told the password changed
    assert "diubah" in mails(factory, smtp)[-1]["Subject"]


def test_a_newer_token_replaces_the_older_one(api: Api, factory: Any, smtp: SmtpServer) -> None:
    ask(api, USERNAME)
    clock.set_clock(T0 + timedelta(minutes=5))
    ask(api, USERNAME)
    first, second = tokens_in(mails(factory, smtp))
    assert problem_of(confirm(api, first), 422)["field"] == "token"
    assert confirm(api, second).status_code == 204


def test_a_token_lives_one_hour(api: Api, factory: Any, smtp: SmtpServer) -> None:
    ask(api, USERNAME)
    (token,) = tokens_in(mails(factory, smtp))
    clock.set_clock(T0 + timedelta(hours=1))
    assert problem_of(confirm(api, token), 422)["field"] == "token"
    assert login_status(api, DEMO_PASSWORD) == 200


def test_the_new_password_is_checked_before_the_token_is_used(
    api: Api, factory: Any, smtp: SmtpServer
) -> None:
    ask(api, USERNAME)
    (token,) = tokens_in(mails(factory, smtp))
    assert problem_of(confirm(api, token, "pendek"), 422)["field"] == "password"
    problem_of(api.call("POST", CONFIRM, json={"token": token}), 422)
    assert confirm(api, token).status_code == 204  # still usable


def test_at_most_three_mails_an_hour_per_account(api: Api, factory: Any, smtp: SmtpServer) -> None:
    for _ in range(5):
        ask(api, USERNAME)
    assert len(tokens_in(mails(factory, smtp))) == 3
    clock.set_clock(T0 + timedelta(hours=1, seconds=1))
    ask(api, USERNAME)
    assert len(tokens_in(mails(factory, smtp))) == 4


def test_a_reset_unlocks_a_locked_username(api: Api, factory: Any, smtp: SmtpServer) -> None:
    for _ in range(5):
        login_status(api, "salah")
    assert login_status(api, DEMO_PASSWORD) == 429
    ask(api, USERNAME)
    (token,) = tokens_in(mails(factory, smtp))
    assert confirm(api, token).status_code == 204
    assert login_status(api, NEW_PASSWORD) == 200

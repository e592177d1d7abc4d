"""Staff password reset by a one-time token sent by email through the delivery outbox.

`request_reset` takes a username or an email address and always ends the same way for the
caller, known account or not. For each active account it matches (with an address), it issues
a random token, keeps only its SHA-256 (`PasswordResetToken`), revokes the account's earlier
unused tokens and queues a mail with the link, in one transaction. At most `REQUEST_LIMIT`
mails per account per hour. `reset_password` takes a token that is live (unused, not revoked,
not expired), sets the new password and ends every session and bearer token of the account.

This lives in `sla` because it sends mail: `engine` never imports the outbox.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import InvalidInput
from engine.models import User
from engine.models.users import PasswordResetToken
from engine.services import audit, auth
from engine.services.staff_admin import MAX_PASSWORD, MIN_PASSWORD
from engine.text import storable_problem
from sla import outbox
from sla.pelapor_notices import public_url

LIFETIME = timedelta(hours=1)
REQUEST_LIMIT = 3  # mails per account per REQUEST_WINDOW; beyond that nothing is sent
REQUEST_WINDOW = timedelta(hours=1)
MAX_ACCOUNTS = 5  # accounts sharing one address
RESET_PATH = "/sandi-baru"
SUBJECT = "Atur ulang kata sandi LAPOR! / Reset your LAPOR! password"
CHANGED_SUBJECT = "Kata sandi LAPOR! Anda telah diubah / Your LAPOR! password was changed"


def reset_link(token: str) -> str:
    return f"{public_url()}{RESET_PATH}?token={quote(token, safe='')}"


def _body(user: User, token: str, lifetime: timedelta) -> str:
    minutes = int(lifetime.total_seconds() // 60)
    return (
        f"Yth. {user.full_name},\n\n"
        f"Kami menerima permintaan untuk mengatur ulang kata sandi akun LAPOR! “{user.username}”. "
        f"Buka tautan berikut dalam {minutes} menit untuk memilih kata sandi baru:\n\n"
        f"{reset_link(token)}\n\n"
        "Tautan ini hanya berlaku sekali. Jika Anda tidak memintanya, abaikan email ini: kata "
        "sandi Anda tidak berubah.\n\n"
        f"Someone asked to reset the password of the LAPOR! account “{user.username}”. Open the "
        f"link above within {minutes} minutes to choose a new password; it works once. If it "
        "was not you, ignore this email: your password stays as it is.\n\n"
        "Salam,\nTim LAPOR!\n"
    )


def request_reset(session: Session, *, login: str, lifetime: timedelta = LIFETIME) -> int:
    """Mail a reset link to each active account with this username or email address; returns
    how many were queued (callers answer the same whatever it is). One transaction."""
    wanted = login.strip()
    if not wanted or storable_problem(wanted) is not None:
        return 0
    queued = 0
    with session.begin():
        now = clock.now()
        users = session.scalars(
            select(User)
            .where(
                or_(User.username == wanted, func.lower(User.email) == wanted.lower()),
                User.active.is_(True),
                User.email.is_not(None),
            )
            .order_by(User.id)
            .limit(MAX_ACCOUNTS)
            .with_for_update()  # serialises concurrent requests for the account
        ).all()
        for user in users:
            recent = session.scalar(
                select(func.count())
                .select_from(PasswordResetToken)
                .where(
                    PasswordResetToken.user_id == user.id,
                    PasswordResetToken.created_at > now - REQUEST_WINDOW,
                )
            )
            if (recent or 0) >= REQUEST_LIMIT or not user.email:
                continue
            session.execute(
                update(PasswordResetToken)
                .where(
                    PasswordResetToken.user_id == user.id,
                    PasswordResetToken.used_at.is_(None),
                    PasswordResetToken.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
            token = secrets.token_urlsafe(32)
            row = PasswordResetToken(
                token_hash=auth.token_hash(token),
                user_id=user.id,
                created_at=now,
                expires_at=now + lifetime,
            )
            session.add(row)
            session.flush()
            outbox.enqueue_email(
                session, to=user.email, subject=SUBJECT, body=_body(user, token, lifetime)
            )
            audit.record(
                session,
                actor="system",
                action="user.password_reset_requested",
                data={"user_id": user.id, "reset_id": row.id},
            )
            queued += 1
    return queued


def _live(session: Session, token: str) -> PasswordResetToken | None:
    row = session.scalar(
        select(PasswordResetToken)
        .where(PasswordResetToken.token_hash == auth.token_hash(token))
        .with_for_update()
    )
    if row is None or row.used_at is not None or row.revoked_at is not None:
        return None
    return row if row.expires_at > clock.now() else None


def check_token(session: Session, *, token: str) -> bool:
    """Whether the token could still set a password (the form shows itself only then)."""
    if not token or storable_problem(token) is not None:
        return False
    with session.begin():
        return _live(session, token) is not None


def reset_password(session: Session, *, token: str, password: str) -> None:
    """Set the account's new password with a live token (used up by this), and end every
    session and bearer token of the account. One transaction."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(
            f"the password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters", field="password"
        )
    if storable_problem(password) is not None or storable_problem(token) is not None:
        raise InvalidInput("the password cannot be stored", field="password")
    with session.begin():
        row = _live(session, token)
        user = session.get(User, row.user_id) if row is not None else None
        if row is None or user is None or not user.active:
            raise InvalidInput("the reset link is invalid, used or expired", field="token")
        now = clock.now()
        row.used_at = now
        user.password_hash = auth.hash_password(password)
        ended = auth.revoke_sessions(session, user_id=user.id)
        auth.clear_failures(session, username=user.username)
        if user.email:
            outbox.enqueue_email(
                session,
                to=user.email,
                subject=CHANGED_SUBJECT,
                body=(
                    f"Yth. {user.full_name},\n\nKata sandi akun LAPOR! “{user.username}” baru "
                    "saja diubah dan semua sesi yang terbuka telah diakhiri. Jika bukan Anda "
                    "yang mengubahnya, segera hubungi admin instansi Anda.\n\n"
                    f"The password of the LAPOR! account “{user.username}” was just changed "
                    "and every open session ended. If this was not you, contact your "
                    "instansi's admin at once.\n\nSalam,\nTim LAPOR!\n"
                ),
            )
        audit.record(
            session,
            actor=f"user:{user.id}",
            action="user.password_reset",
            data={"user_id": user.id, "reset_id": row.id, "sessions_ended": ended},
        )

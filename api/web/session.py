"""The staff session cookie, shared by the web pages and the REST API.

The cookie carries a login token of `engine.services.auth` (an `AuthToken` row, stored hashed;
logout revokes it). Its CSRF token is an HMAC keyed by that secret token, so only a page served
to the session can know it: pages embed it (form field, `<meta name="csrf-token">`) and the API
wants it in `X-CSRF-Token` on unsafe methods. The login form, before any session exists, uses a
random double-submit cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from flask import Response, current_app, request

COOKIE = "lapor_session"
LOGIN_CSRF_COOKIE = "lapor_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token() -> str | None:
    """The session token of this request's cookie, if any."""
    return request.cookies.get(COOKIE) or None


def csrf_for(session_token: str) -> str:
    return hmac.new(session_token.encode("utf-8"), b"lapor-csrf", hashlib.sha256).hexdigest()


def same(expected: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(
        expected.encode("utf-8"), str(presented).encode("utf-8")
    )


def csrf_ok(session_token: str, presented: str | None) -> bool:
    return same(csrf_for(session_token), presented)


def _flags() -> dict[str, object]:
    return {
        "httponly": True,
        "samesite": "Lax",
        "secure": bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        "path": "/",
    }


def start(response: Response, session_token: str, expires: datetime) -> None:
    response.set_cookie(COOKIE, session_token, expires=expires, **_flags())  # type: ignore[arg-type]
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")


def end(response: Response) -> None:
    response.delete_cookie(COOKIE, **_flags())  # type: ignore[arg-type]


def login_csrf() -> tuple[str, bool]:
    """The login form's token: the request's double-submit cookie, or a new one (True)."""
    current = request.cookies.get(LOGIN_CSRF_COOKIE)
    if current and len(current) >= 32:
        return current, False
    return secrets.token_urlsafe(32), True


def login_csrf_ok() -> bool:
    """Whether this POST's form token matches the login double-submit cookie."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    return bool(expected) and same(str(expected), request.form.get(CSRF_FIELD))


def keep_login_csrf(response: Response, value: str) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, value, **_flags())  # type: ignore[arg-type]

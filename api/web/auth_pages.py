"""`/login` and `/logout` for staff: a CSRF-protected form that starts a server-side session.

The session is an `AuthToken` row (hashed) like the API's bearer tokens; its token travels in
an HttpOnly, SameSite=Lax cookie (Secure when `SESSION_COOKIE_SECURE` is set). Logout revokes
the row, so a copied cookie stops working too.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from api.db import db
from api.web import i18n, session
from api.web.forms import csrf_refused
from engine.errors import Unauthorized
from engine.services import auth
from engine.services.auth import Principal

DESIGNER_ROLE = "process_designer"
MAX_USERNAME = 64
MAX_PASSWORD = 1024

blp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/web/static",
)
i18n.install(blp)


def signed_in() -> tuple[Principal, str] | None:
    """The staff user of this request's session cookie and its token, or None."""
    if "web_staff" not in g:
        staff = None
        token = session.token()
        if token:
            try:
                staff = (auth.authenticate(db.session(), token=token), token)
            except Unauthorized:
                staff = None
        g.web_staff = staff
    found: tuple[Principal, str] | None = g.web_staff
    return found


def page_context() -> dict[str, object]:
    """What every page template needs: who is signed in and the session's CSRF token."""
    staff = signed_in()
    return {
        "staff": staff[0] if staff else None,
        "csrf_token": session.csrf_for(staff[1]) if staff else None,
    }


def protect(response: Response) -> Response:
    """Pages carry CSRF tokens: never cached, never framed, scripts only from this site."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
    return response


blp.context_processor(page_context)
blp.after_request(protect)


def safe_next(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def home_of(principal: Principal) -> str:
    if DESIGNER_ROLE in principal.roles():
        return url_for("designer.page")
    return url_for("web.login")


def _form(status: int = 200, *, error: str | None = None, username: str = "") -> Response:
    token, fresh = session.login_csrf()
    response = Response(
        render_template(
            "login.html",
            error=error,
            username=username,
            login_csrf=token,
            next=safe_next(request.values.get("next"), ""),
        ),
        status=status,
    )
    if fresh:
        session.keep_login_csrf(response, token)
    return response


@blp.get("/login")
def login() -> Response:
    return _form()


@blp.post("/login")
def login_post() -> Response:
    username = request.form.get("username", "").strip()[:MAX_USERNAME]
    password = request.form.get("password", "")
    if not session.login_csrf_ok():
        message = _("Formulir sudah kedaluwarsa. Silakan coba lagi.")
        return _form(400, error=message, username=username)
    if not username or not password or len(password) > MAX_PASSWORD:
        message = _("Isi nama pengguna dan kata sandi.")
        return _form(422, error=message, username=username)
    try:
        token, row = auth.login(db.session(), username=username, password=password)
    except Unauthorized:
        return _form(401, error=_("Nama pengguna atau kata sandi salah."), username=username)
    replaced = session.token()
    if replaced:  # signing in again ends the session this browser had
        auth.logout(db.session(), token=replaced)
    principal = auth.authenticate(db.session(), token=token)
    response = redirect(safe_next(request.form.get("next"), home_of(principal)), code=303)
    session.start(response, token, row.expires_at)
    return response


@blp.post("/logout")
def logout() -> Response:
    token = session.token()
    refused = csrf_refused(token) if token else None
    if refused is not None:
        return refused
    if token:
        auth.logout(db.session(), token=token)
    response = redirect(url_for("web.login"), code=303)
    session.end(response)
    return response

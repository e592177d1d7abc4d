"""`/login` and `/logout` for staff: a CSRF-protected form that starts a server-side session;
`/lupa-sandi` and `/sandi-baru`: a password reset by a one-time link sent by email.

The session is an `AuthToken` row (hashed) like the API's bearer tokens; its token travels in
an HttpOnly, SameSite=Lax cookie (Secure when `SESSION_COOKIE_SECURE` is set). Logout revokes
the row, so a copied cookie stops working too. Repeated failures lock the username (or the
client address) for a while: the form says so without telling whether the account exists. The
reset forms use the login form's double-submit CSRF cookie (nobody is signed in yet).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from api.db import db
from api.rest.auth import login_throttle, reset_lifetime
from api.web import i18n, session
from api.web.forms import csrf_refused
from engine.errors import InvalidInput, Unauthorized
from engine.services import auth, sso_config
from engine.services.auth import LockedOut, Principal
from engine.services.staff_admin import MIN_PASSWORD
from engine.text import storable_problem
from sla import password_reset

DESIGNER_ROLE = "process_designer"
MAX_USERNAME = 64
MAX_PASSWORD = 1024
MAX_EMAIL = 254
MAX_TOKEN = 128

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
    """Pages carry CSRF tokens: never cached (`api.headers` adds the CSP and framing rules)."""
    response.headers["Cache-Control"] = "no-store"
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
            sso_choices=sso_config.enabled_choices(db.session()),
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
    unstorable = storable_problem(username) or storable_problem(password)
    if not username or not password or len(password) > MAX_PASSWORD or unstorable:
        message = _("Isi nama pengguna dan kata sandi.")
        return _form(422, error=message, username=username)
    try:
        token, row = auth.login(
            db.session(),
            username=username,
            password=password,
            client=request.remote_addr,
            throttle=login_throttle(),
        )
    except LockedOut as locked:
        minutes = max(1, int(locked.extra.get("retry_after", 60)) // 60)
        message = _(
            "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam %(minutes)s menit.",
            minutes=minutes,
        )
        return _form(429, error=message, username=username)
    except Unauthorized:
        return _form(401, error=_("Nama pengguna atau kata sandi salah."), username=username)
    return begin_session(token, row.expires_at, request.form.get("next"))


def begin_session(token: str, expires_at: datetime, target: str | None) -> Response:
    """Sign this browser in with a new login token (password or SSO alike): end the session it
    had, set the session cookie, and go to `target` (a path here) or the user's home."""
    replaced = session.token()
    if replaced:  # signing in again ends the session this browser had
        auth.logout(db.session(), token=replaced)
    principal = auth.authenticate(db.session(), token=token)
    response = redirect(safe_next(target, home_of(principal)), code=303)
    session.start(response, token, expires_at)
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


# --- password reset --------------------------------------------------------------------------


def _account_page(template: str, status: int = 200, **context: object) -> Response:
    token, fresh = session.login_csrf()
    response = Response(render_template(template, form_csrf=token, **context), status=status)
    if fresh:
        session.keep_login_csrf(response, token)
    return response


def _expired() -> str:
    return _("Formulir sudah kedaluwarsa. Silakan coba lagi.")


def _minutes() -> int:
    return int(reset_lifetime().total_seconds() // 60)


@blp.get("/lupa-sandi")
def forgot_password() -> Response:
    return _account_page("account/forgot.html", values={"login": ""}, errors={})


@blp.post("/lupa-sandi")
def forgot_password_post() -> Response:
    values = {"login": request.form.get("login", "").strip()[:MAX_EMAIL]}
    if not session.login_csrf_ok():
        return _account_page("account/forgot.html", 400, values=values, errors={}, error=_expired())
    if not values["login"]:
        errors = {"login": _("Isi nama pengguna atau alamat email.")}
        return _account_page("account/forgot.html", 422, values=values, errors=errors)
    password_reset.request_reset(db.session(), login=values["login"], lifetime=reset_lifetime())
    return _account_page(
        "account/forgot.html", values={"login": ""}, errors={}, sent=True, minutes=_minutes()
    )


def _reset_form(status: int = 200, *, token: str, errors: dict[str, str]) -> Response:
    return _account_page(
        "account/reset.html", status, token=token, errors=errors, min_length=MIN_PASSWORD
    )


@blp.get("/sandi-baru")
def reset_password() -> Response:
    token = request.args.get("token", "")[:MAX_TOKEN]
    if not password_reset.check_token(db.session(), token=token):  # a page that says so
        return _account_page("account/reset_invalid.html")
    return _reset_form(token=token, errors={})


@blp.post("/sandi-baru")
def reset_password_post() -> Response:
    token = request.form.get("token", "")[:MAX_TOKEN]
    password = request.form.get("password", "")
    if not session.login_csrf_ok():
        errors = {"form": _expired()}
        return _reset_form(400, token=token, errors=errors)
    errors = {}
    if len(password) < MIN_PASSWORD or len(password) > MAX_PASSWORD:
        errors["password"] = _("Kata sandi baru paling sedikit %(n)s karakter.", n=MIN_PASSWORD)
    elif request.form.get("password_again", "") != password:
        errors["password_again"] = _("Kedua kata sandi tidak sama.")
    if errors:
        return _reset_form(422, token=token, errors=errors)
    try:
        password_reset.reset_password(db.session(), token=token, password=password)
    except InvalidInput as refused:
        if refused.field == "password":
            errors = {"password": _("Kata sandi ini tidak dapat dipakai. Pilih yang lain.")}
            return _reset_form(422, token=token, errors=errors)
        return _account_page("account/reset_invalid.html", 422)
    return _account_page("account/reset_done.html")

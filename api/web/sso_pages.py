"""Staff login with their instansi's SSO (OpenID Connect): `/masuk/sso` lists the instansi that
offer it, `/masuk/sso/<code>` sends the browser to that instansi's provider, and
`/masuk/sso/callback` takes the provider's answer and starts the same session a password login
starts (`auth_pages.begin_session`).

The pending login (state, nonce, PKCE verifier, where to go afterwards) travels in a cookie
signed with the app's secret key, readable only by these pages (path `/masuk/sso`), valid ten
minutes and dropped by the callback whatever it decides. Every refusal is a page in the
visitor's language and one log line with the instansi code and the reason, never the person's
identity. The pages are plain links and a GET search form: the redirect to the provider
follows a link, so the pages' `form-action 'self'` policy never blocks it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer

from api.db import db
from api.rest.sso import callback_url, transport
from api.web.auth_pages import begin_session, safe_next
from api.web.pages import page_blueprint
from engine.services import sso_config
from engine.services.oidc_login import (
    PendingLogin,
    ProviderAnswer,
    SsoRefused,
    finish_login,
    start_login,
)

log = logging.getLogger(__name__)
blp = page_blueprint("sso_pages", __name__)
PENDING_COOKIE = "lapor_sso_pending"
PENDING_PATH = "/masuk/sso"
PENDING_SECONDS = 600
MAX_QUERY = 100
MAX_PARAM = 2048


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="lapor-sso-pending")


def _pending() -> PendingLogin | None:
    raw = request.cookies.get(PENDING_COOKIE)
    if not raw or len(raw) > 4 * MAX_PARAM:
        return None
    try:
        data = _serializer().loads(raw, max_age=PENDING_SECONDS)
    except BadSignature:  # also SignatureExpired
        return None
    return PendingLogin.from_dict(data)


def _keep_pending(response: Response, pending: PendingLogin) -> None:
    response.set_cookie(
        PENDING_COOKIE,
        _serializer().dumps(pending.to_dict()),
        max_age=PENDING_SECONDS,
        path=PENDING_PATH,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )


def _drop_pending(response: Response) -> None:
    response.delete_cookie(PENDING_COOKIE, path=PENDING_PATH, httponly=True, samesite="Lax")


def _arg(args: Any, name: str) -> str | None:
    value = args.get(name)
    return None if value is None else str(value)[:MAX_PARAM]


def _loggable(code: str | None) -> str:
    """An instansi code fit for a log line (it may come from the URL)."""
    text = (code or "-")[:MAX_QUERY]
    return "".join(ch if ch.isalnum() or ch in ".-_" else "?" for ch in text)


def _messages() -> dict[str, str]:
    failed = _("Penyedia SSO instansi menolak atau membatalkan proses masuk.")
    return {
        "sso_unavailable": _(
            "Instansi ini tidak menyediakan masuk dengan SSO. Silakan masuk dengan nama "
            "pengguna dan kata sandi."
        ),
        "state_mismatch": _(
            "Proses masuk dengan SSO sudah kedaluwarsa atau tidak dimulai dari peramban ini. "
            "Silakan ulangi."
        ),
        "issuer_mismatch": failed,
        "provider_error": failed,
        "provider_unreachable": _("Penyedia SSO instansi tidak dapat dihubungi. Coba lagi nanti."),
        "token_refused": _(
            "Penyedia SSO tidak mengonfirmasi proses masuk ini. Silakan ulangi dari awal."
        ),
        "invalid_id_token": _("Identitas dari penyedia SSO tidak dapat diverifikasi."),
        "email_domain": _(
            "Alamat email Anda tidak termasuk domain yang dilayani SSO instansi ini. Hubungi "
            "admin instansi Anda."
        ),
        "email_unverified": _(
            "Penyedia SSO belum memverifikasi alamat email Anda, sehingga akun Anda belum dapat "
            "dihubungkan. Hubungi admin instansi Anda."
        ),
        "unknown_user": _(
            "Akun SSO Anda tidak terhubung dengan akun petugas aktif di instansi ini. Hubungi "
            "admin instansi Anda."
        ),
    }


def _refused(refusal: SsoRefused, instansi_code: str | None) -> Response:
    log.warning(
        "SSO login refused: instansi=%s reason=%s detail=%s",
        _loggable(instansi_code),
        refusal.reason,
        refusal.detail,
    )
    title = (
        _("SSO tidak tersedia")
        if refusal.reason == "sso_unavailable"
        else _("Masuk dengan SSO gagal")
    )
    retry = (
        url_for("sso_pages.start", code=instansi_code)
        if instansi_code and refusal.reason != "sso_unavailable"
        else None
    )
    page = render_template(
        "sso/refused.html",
        title=title,
        text=_messages()[refusal.reason],
        reason=refusal.reason,
        retry=retry,
    )
    response = Response(page, status=refusal.status)
    _drop_pending(response)
    return response


@blp.get("/masuk/sso")
def choose() -> Response:
    """The instansi whose SSO is enabled, each a link to its provider; `q` narrows the list
    (by name, code, or the domain of a work email address)."""
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    choices = sso_config.enabled_choices(db.session())
    offered = bool(choices)
    if query:
        wanted = query.casefold()
        choices = [
            c
            for c in choices
            if wanted in c.name.casefold() or wanted in c.code or c.covers(wanted)
        ]
    return Response(
        render_template(
            "sso/choose.html",
            choices=choices,
            offered=offered,
            query=query,
            next=safe_next(request.args.get("next"), ""),
        )
    )


@blp.get("/masuk/sso/callback")
def callback() -> Response:
    """The provider's answer: sign the user in, or say why not."""
    pending = _pending()
    args = request.args
    answer = ProviderAnswer(
        state=_arg(args, "state"),
        code=_arg(args, "code"),
        error=_arg(args, "error"),
        iss=_arg(args, "iss"),
    )
    try:
        login = finish_login(
            db.session(),
            pending=pending,
            answer=answer,
            redirect_uri=callback_url(),
            transport=transport(),
        )
    except SsoRefused as refusal:
        return _refused(refusal, pending.instansi_code if pending else None)
    log.info(
        "SSO login: instansi=%s user_id=%s found_by=%s",
        login.instansi_code,
        login.user_id,
        login.found_by,
    )
    assert pending is not None
    response = begin_session(login.token, login.expires_at, pending.next or None)
    _drop_pending(response)
    return response


@blp.get("/masuk/sso/<code>")
def start(code: str) -> Response:
    """Send the browser to the instansi's provider, remembering the login it starts."""
    code = code[:MAX_QUERY]
    try:
        url, pending = start_login(
            db.session(),
            instansi_code=code,
            redirect_uri=callback_url(),
            transport=transport(),
            next=safe_next(request.args.get("next"), ""),
        )
    except SsoRefused as refusal:
        return _refused(refusal, code)
    response = redirect(url, code=302)
    _keep_pending(response, pending)
    return response  # type: ignore[return-value]

"""Staff login (bearer tokens), password reset, and the `current_principal` helper that every
protected endpoint calls: a login token, the web session cookie, or an API key.

An API key (`Authorization: Bearer lapork_...` or `X-API-Key: lapork_...`) reaches only the
endpoints listed in `KEY_PERMISSIONS`, each with the one permission it needs; any other
endpoint refuses keys (403), so a new endpoint is closed to keys until it is listed here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, g, request
from flask.views import MethodView

from api.db import db
from api.rest.blueprint import Blueprint
from api.schemas.auth import ResetAcceptedSchema, ResetConfirmSchema, ResetRequestSchema
from api.schemas.tasks import LoginSchema, TokenSchema
from api.web import session as web_session
from engine.errors import Forbidden, Unauthorized
from engine.services import api_keys, auth
from engine.services.auth import Principal
from sla import password_reset

blp = Blueprint(
    "auth", __name__, url_prefix="/api/v1/auth", description="Staff login and password reset"
)
API_KEY_HEADER = "X-API-Key"

# (endpoint, method) -> the permission an API key needs there; every other endpoint refuses keys
KEY_PERMISSIONS: dict[tuple[str, str], str] = {
    ("tasks.Tasks", "GET"): "tasks:read",
    ("tasks.TaskById", "GET"): "tasks:read",
    ("tasks.Claim", "POST"): "tasks:write",
    ("tasks.Complete", "POST"): "tasks:write",
    ("bursts.CompleteMany", "POST"): "tasks:write",
    ("bursts.CompleteGroup", "POST"): "tasks:write",
    ("attachments.ReportAttachments", "GET"): "reports:read",
    ("attachments.AttachmentById", "GET"): "reports:read",
    ("bursts.Duplicates", "GET"): "reports:read",
    ("bursts.Duplicates", "POST"): "reports:write",
    ("bursts.Duplicate", "DELETE"): "reports:write",
    ("public_feed.Redactions", "POST"): "reports:write",
    ("reports.Reports", "POST"): "reports:write",  # agency apps and gateways file reports
    ("open311.requests_collection", "POST"): "reports:write",  # Open311 passes `api_key`
    ("sla_admin.Webhooks", "GET"): "webhooks:manage",
    ("sla_admin.Webhooks", "POST"): "webhooks:manage",
    ("sla_admin.Webhook", "DELETE"): "webhooks:manage",
    ("sla_admin.WebhookTest", "POST"): "webhooks:manage",
    ("sla_admin.WebhookDeliveries", "GET"): "webhooks:manage",
    ("changes.Changes", "GET"): "reports:read",
    ("exports.Exports", "POST"): "reports:read",  # an export only reads reports
    ("exports.ExportById", "GET"): "reports:read",
    ("exports.ExportFile", "GET"): "reports:read",
}
RESET_ACCEPTED = {
    "message": "Jika akun ini terdaftar dengan alamat email, tautan untuk mengatur ulang kata "
    "sandi telah dikirim. If this account exists and has an email address, a link to reset "
    "its password has been sent."
}


def key_permission() -> str | None:
    """The permission an API key needs for this request's endpoint (None: keys refused)."""
    method = "GET" if request.method == "HEAD" else request.method
    return KEY_PERMISSIONS.get((request.endpoint or "", method))


def has_staff_credentials() -> bool:
    """Whether this request presents any staff credential (token, API key or session cookie)."""
    return bool(
        request.headers.get("Authorization")
        or request.headers.get(API_KEY_HEADER)
        or web_session.token()
    )


def current_principal() -> Principal:
    """The staff user (or API key) of this request: an `X-API-Key` header, else the
    `Authorization: Bearer` header (a login token or an API key), else the web session cookie;
    with the cookie, unsafe methods also need the session's `X-CSRF-Token` header."""
    if "principal" not in g:
        header = request.headers.get("Authorization", "")
        key = request.headers.get(API_KEY_HEADER, "").strip()
        cookie = web_session.token()
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if key or (scheme.lower() == "bearer" and api_keys.is_api_key(token)):
            g.principal = api_keys.authenticate(
                db.session(), key=key or token, permission=key_permission()
            )
        elif not header and cookie:
            if request.method not in web_session.SAFE_METHODS and not web_session.csrf_ok(
                cookie, request.headers.get(web_session.CSRF_HEADER)
            ):
                raise Forbidden(
                    f"a session cookie needs the {web_session.CSRF_HEADER} header of its page",
                    field=web_session.CSRF_HEADER,
                    code="csrf",
                )
            g.principal = auth.authenticate(db.session(), token=cookie)
        else:
            if scheme.lower() != "bearer" or not token:
                raise Unauthorized("a bearer token is required", field="Authorization")
            g.principal = auth.authenticate(db.session(), token=token)
    principal: Principal = g.principal
    return principal


def login_throttle() -> auth.Throttle:
    """The lockout settings of this app (`LAPOR_LOGIN_*`)."""
    settings = current_app.config["LAPOR"]
    return auth.Throttle(
        max_failures=settings.LOGIN_MAX_FAILURES,
        address_max_failures=settings.LOGIN_ADDRESS_MAX_FAILURES,
        window=timedelta(seconds=settings.LOGIN_FAILURE_WINDOW),
        lockout=timedelta(seconds=settings.LOGIN_LOCKOUT),
    )


def reset_lifetime() -> timedelta:
    return timedelta(seconds=current_app.config["LAPOR"].PASSWORD_RESET_LIFETIME)


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Exchange a username and password for a bearer token.

        After repeated failures for a username (or from one address) within a window, every
        login for it answers 429 `locked` for a while, whether the username exists or not.
        """
        token, row = auth.login(
            db.session(),
            username=data["username"],
            password=data["password"],
            client=request.remote_addr,
            throttle=login_throttle(),
        )
        return {"token": token, "token_type": "Bearer", "expires_at": row.expires_at}


@blp.route("/password-reset")
class PasswordReset(MethodView):
    @blp.arguments(ResetRequestSchema)
    @blp.response(202, ResetAcceptedSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Mail a one-time link to set a new password (valid 1 hour, the newest one only).

        Always 202 with the same body, whether or not an account matched.
        """
        password_reset.request_reset(db.session(), login=data["login"], lifetime=reset_lifetime())
        return dict(RESET_ACCEPTED)


@blp.route("/password-reset/confirm")
class PasswordResetConfirm(MethodView):
    @blp.arguments(ResetConfirmSchema)
    @blp.response(204)
    def post(self, data: dict[str, Any]) -> None:
        """Set the new password with the mailed token; every session of the account ends.

        A used, expired, superseded or unknown token is 422 naming `token`.
        """
        password_reset.reset_password(db.session(), token=data["token"], password=data["password"])

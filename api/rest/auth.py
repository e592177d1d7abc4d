"""Staff login (bearer tokens) and the `current_principal` helper for protected endpoints."""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask.views import MethodView

from api.db import db
from api.rest.blueprint import Blueprint
from api.schemas.tasks import LoginSchema, TokenSchema
from api.web import session as web_session
from engine.errors import Forbidden, Unauthorized
from engine.services import auth
from engine.services.auth import Principal

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Staff login")


def current_principal() -> Principal:
    """The staff user of this request: its `Authorization: Bearer` header, else the web session
    cookie; with the cookie, unsafe methods also need the session's `X-CSRF-Token` header."""
    if "principal" not in g:
        header = request.headers.get("Authorization", "")
        cookie = web_session.token()
        if not header and cookie:
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
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("a bearer token is required", field="Authorization")
            g.principal = auth.authenticate(db.session(), token=token.strip())
    principal: Principal = g.principal
    return principal


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Exchange a username and password for a bearer token."""
        token, row = auth.login(db.session(), username=data["username"], password=data["password"])
        return {"token": token, "token_type": "Bearer", "expires_at": row.expires_at}

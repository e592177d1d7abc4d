"""Staff login (bearer tokens) and the `current_principal` helper for protected endpoints."""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask.views import MethodView

from api.db import db
from api.rest.blueprint import Blueprint
from api.schemas.tasks import LoginSchema, TokenSchema
from engine.errors import Unauthorized
from engine.services import auth
from engine.services.auth import Principal

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Staff login")


def current_principal() -> Principal:
    """The staff user of this request, from its `Authorization: Bearer` header."""
    if "principal" not in g:
        header = request.headers.get("Authorization", "")
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

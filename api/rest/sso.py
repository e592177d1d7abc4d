"""An instansi's SSO settings (bearer token or session): `GET`/`PUT`/`DELETE
/api/v1/instansi/<code>/sso`, for national admins and that instansi's admins
(`engine.services.sso_config` decides). Also `transport()`: how this app may reach providers.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import current_app, url_for
from flask.views import MethodView

from api.db import db
from api.rest.auth import current_principal
from api.rest.blueprint import Blueprint
from api.schemas.sso import SsoConfigSchema, SsoSetSchema
from engine.services import sso_config
from engine.services.oidc_discovery import Transport
from engine.services.sso_config import SsoConfigView

blp = Blueprint(
    "sso",
    __name__,
    url_prefix="/api/v1/instansi",
    description="An instansi's SSO (OpenID Connect) provider for staff login",
)
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


def transport() -> Transport:
    """https providers only, unless testing or `LAPOR_OIDC_ALLOW_HTTP_LOCALHOST` also allows
    plain http on this machine's loopback."""
    settings = current_app.config["LAPOR"]
    return Transport(allow_http_loopback=current_app.testing or settings.OIDC_ALLOW_HTTP_LOCALHOST)


def callback_url() -> str:
    """The redirect URI every provider sends staff back to (registered at the provider)."""
    return url_for("sso_pages.callback", _external=True)


def _shown(view: SsoConfigView) -> dict[str, Any]:
    return {**asdict(view), "redirect_uri": callback_url()}


@blp.route("/<code>/sso")
class InstansiSso(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, SsoConfigSchema)
    def get(self, code: str) -> dict[str, Any]:
        """The instansi's SSO provider (never its secret), and the redirect URI to register."""
        view = sso_config.get_config(
            db.session(), principal=current_principal(), instansi_code=code
        )
        return _shown(view)

    @blp.doc(security=SECURITY)
    @blp.arguments(SsoSetSchema)
    @blp.response(200, SsoConfigSchema)
    def put(self, body: dict[str, Any], code: str) -> dict[str, Any]:
        """Set the instansi's provider. Its discovery document and key set are fetched first:
        one that cannot be reached or is not a usable OpenID provider (https, code flow, PKCE
        S256, an asymmetric id_token signature) is 422 naming `issuer`, with `code`
        `insecure_url`, `discovery_unreachable`, `discovery_invalid` or `issuer_mismatch`; an
        entry of `email_domains` that is not a domain name is 422 `invalid_domain`."""
        view = sso_config.set_config(
            db.session(),
            principal=current_principal(),
            instansi_code=code,
            transport=transport(),
            **body,
        )
        return _shown(view)

    @blp.doc(security=SECURITY)
    @blp.response(204)
    def delete(self, code: str) -> None:
        """Remove the instansi's provider; its staff sign in with their passwords again."""
        sso_config.remove_config(db.session(), principal=current_principal(), instansi_code=code)

"""A small, real OpenID provider for the SSO tests, built from Authlib's server components: an
`AuthorizationServer` (RFC 6749, Authlib's Flask binding of it) with the authorization code
grant, its OpenID Connect extension (`OpenIDCode`, nonce required) and PKCE (`CodeChallenge`,
S256), an RS256 key, `/.well-known/openid-configuration`, `/jwks`, `/authorize` (approves at
once for the configured user, no login page) and `/token` (client_secret_basic or _post).

It runs in a thread on 127.0.0.1 (a free port) behind werkzeug's `make_server`. Tests change
what it does through plain attributes: `user` (who is approved), `deny` (answer
`access_denied` instead), `signing_key` (sign id_tokens with another key than the one
published), `claim_overrides` (e.g. another `aud` or `nonce` in the id_token) and
`metadata_overrides` (a tampered discovery document). Codes are single use, as the spec wants.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Error
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from flask import Flask, jsonify
from joserfc.jwk import RSAKey
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

SCOPES = ("openid", "email", "profile")
KEY_ID = "lapor-test-key"


@cache
def rsa_key(name: str) -> RSAKey:
    """An RS256 signing key, made once per name and test session (the same `kid` for all:
    a token signed with another key must fail on its signature, not on a missing kid)."""
    return RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"})


@dataclass
class ProviderUser:
    """The person the provider approves: its subject and what it says about their email."""

    subject: str
    email: str | None
    email_verified: bool = True
    name: str = "Petugas Uji"


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(self.client_secret.encode(), client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: ProviderUser
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    @property
    def provider(self) -> OidcTestProvider:
        found: OidcTestProvider = self.server.provider
        return found

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        self.provider.codes[code] = AuthorizationCode(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            user=request.user,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=int(time.time()),
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        item = self.provider.codes.get(code)
        return item if item is not None and item.client_id == client.client_id else None

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        self.provider.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> ProviderUser:
        return authorization_code.user


class IdTokens(OpenIDCode):
    """Signs id_tokens with the provider's current `signing_key` and claims."""

    def __init__(self, provider: OidcTestProvider) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return any(code.nonce == nonce for code in self.provider.codes.values())

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return self.provider.signing_key

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": KEY_ID}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.provider.issuer, "aud": [client.client_id]}

    def generate_user_info(self, user: ProviderUser, scope: str) -> UserInfo:
        info = UserInfo(sub=user.subject, name=user.name)
        if "email" in scope.split() and user.email is not None:
            info["email"] = user.email
            info["email_verified"] = user.email_verified
        # applied last by Authlib (after nonce and aud): how tests forge a claim
        info.update(self.provider.claim_overrides)
        return info


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class OidcTestProvider:
    """The provider's state; `issuer` is set once it serves."""

    user: ProviderUser = field(default_factory=lambda: ProviderUser("sub-0001", None))
    deny: bool = False
    published_key: RSAKey = field(default_factory=lambda: rsa_key("published"))
    signing_key: RSAKey = field(default_factory=lambda: rsa_key("published"))
    claim_overrides: dict[str, Any] = field(default_factory=dict)
    metadata_overrides: dict[str, Any] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    token_requests: int = 0
    issuer: str = ""

    def add_client(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.clients[client_id] = Client(client_id, client_secret, [redirect_uri])

    def metadata(self) -> dict[str, Any]:
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code"],
            "claims_supported": ["sub", "email", "email_verified", "name"],
            **self.metadata_overrides,
        }

    def build_app(self) -> Flask:
        app = Flask("oidc_test_provider")
        server = AuthorizationServer(app, query_client=self.clients.get, save_token=lambda *a: None)
        server.provider = self  # type: ignore[attr-defined]
        server.register_grant(CodeGrant, [IdTokens(self), CodeChallenge(required=True)])

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Any:
            return jsonify(self.metadata())

        @app.get("/jwks")
        def jwks() -> Any:
            return jsonify({"keys": [self.published_key.as_dict(private=False)]})

        @app.get("/authorize")
        def authorize() -> Any:
            try:
                grant = server.get_consent_grant(end_user=self.user)
            except OAuth2Error as error:
                return jsonify(dict(error.get_body())), error.status_code
            approved = None if self.deny else self.user
            return server.create_authorization_response(grant=grant, grant_user=approved)

        @app.post("/token")
        def token() -> Any:
            self.token_requests += 1
            return server.create_token_response()

        return app


@contextmanager
def serve_provider() -> Iterator[OidcTestProvider]:
    """A provider serving on 127.0.0.1 (free port) in a thread, until the block ends."""
    provider = OidcTestProvider()
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, provider.build_app(), threaded=True, request_handler=QuietHandler
    )
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.02},
        name="oidc-provider",
        daemon=True,
    )
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

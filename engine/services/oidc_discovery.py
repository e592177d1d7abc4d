"""An OpenID provider as seen from here: its URLs checked, its discovery document and signing
keys fetched and validated (OpenID Connect Discovery 1.0, with Authlib's metadata checks).

Every URL must be https; plain http only to this machine's loopback (127.0.0.1, ::1,
localhost), and only where `Transport.allow_http_loopback` says so (tests and development).
Fetches follow no redirects, wait `Transport.timeout` seconds at most and read at most
`MAX_DOCUMENT` bytes. Refusals are `InvalidInput` naming `issuer`, with a code saying why:
`insecure_url`, `discovery_unreachable`, `discovery_invalid`, `issuer_mismatch`; their
messages name the URL's host and the failure, never a body.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from engine.errors import InvalidInput

DISCOVERY_PATH = "/.well-known/openid-configuration"
MAX_DOCUMENT = 256 * 1024
MAX_URL = 255
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# id_token signatures checked against the provider's published keys: asymmetric ones only
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
AUTH_METHODS = ("client_secret_basic", "client_secret_post")  # in order of preference


@dataclass(frozen=True)
class Transport:
    """How providers may be reached: https only, or also plain http on the loopback."""

    allow_http_loopback: bool = False
    timeout: float = 5.0


@dataclass(frozen=True)
class ProviderMetadata:
    """What a login needs from a provider's discovery document, checked."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_auth_method: str  # client_secret_basic or client_secret_post
    signing_algorithms: tuple[str, ...]


def _refused(code: str, message: str) -> InvalidInput:
    return InvalidInput(message, field="issuer", code=code)


def check_url(url: object, transport: Transport, *, what: str = "issuer") -> str:
    """`url` if it is an https URL (or http on the loopback, when allowed) with a host, no
    credentials and no fragment; an issuer has no query either."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise _refused("insecure_url", f"{what} must be an https URL of at most {MAX_URL} chars")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - a bad port raises ValueError here
    except ValueError:
        raise _refused("insecure_url", f"{what} is not a valid URL") from None
    if not host or parts.username is not None or parts.password is not None or parts.fragment:
        raise _refused("insecure_url", f"{what} must be a URL with a host and no credentials")
    if what == "issuer" and parts.query:
        raise _refused("insecure_url", "issuer must not have a query")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and transport.allow_http_loopback and host in LOOPBACK_HOSTS:
        return url
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        raise _refused("insecure_url", f"{what} must use https (http only in testing)")
    raise _refused("insecure_url", f"{what} must use https")


def fetch_json(url: str, transport: Transport, *, what: str) -> dict[str, Any]:
    """The JSON object at `url` (GET, no redirects, bounded in time and size)."""
    host = urlsplit(url).hostname
    try:
        with requests.get(
            url,
            timeout=transport.timeout,
            allow_redirects=False,
            stream=True,
            headers={"Accept": "application/json"},
        ) as response:
            if response.status_code != 200:
                raise _refused(
                    "discovery_unreachable",
                    f"the {what} at {host} answered HTTP {response.status_code}, not 200",
                )
            body = response.raw.read(MAX_DOCUMENT + 1, decode_content=True)
    except requests.RequestException as exc:
        raise _refused(
            "discovery_unreachable", f"the {what} at {host} could not be fetched ({_kind(exc)})"
        ) from None
    if len(body) > MAX_DOCUMENT:
        raise _refused("discovery_invalid", f"the {what} is larger than {MAX_DOCUMENT} bytes")
    try:
        document = json.loads(body)
    except ValueError:
        raise _refused("discovery_invalid", f"the {what} is not JSON") from None
    if not isinstance(document, dict):
        raise _refused("discovery_invalid", f"the {what} is not a JSON object")
    return document


def _kind(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return type(exc).__name__


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _first(wanted: Iterable[str], offered: list[str]) -> str | None:
    return next((item for item in wanted if item in offered), None)


def discover(issuer: str, transport: Transport) -> ProviderMetadata:
    """The provider's checked metadata, fetched from `issuer` + `DISCOVERY_PATH`."""
    issuer = check_url(issuer, transport)
    url = issuer.rstrip("/") + DISCOVERY_PATH
    document = fetch_json(url, transport, what="discovery document")
    if document.get("issuer") != issuer:
        raise _refused(
            "issuer_mismatch", "the discovery document names another issuer than this one"
        )
    try:
        OpenIDProviderMetadata(document).validate()
    except (ValueError, TypeError, KeyError) as exc:
        raise _refused("discovery_invalid", f"invalid discovery document: {exc}") from None
    endpoints = {
        name: check_url(document.get(name), transport, what=name)
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
    }
    if "code" not in _strings(document.get("response_types_supported")):
        raise _refused("discovery_invalid", "the provider does not offer the code flow")
    challenges = document.get("code_challenge_methods_supported")
    if challenges is not None and "S256" not in _strings(challenges):
        raise _refused("discovery_invalid", "the provider does not offer PKCE with S256")
    offered = document.get("token_endpoint_auth_methods_supported")
    method = _first(AUTH_METHODS, _strings(offered) if offered is not None else [AUTH_METHODS[0]])
    if method is None:
        raise _refused(
            "discovery_invalid", "the provider takes neither client_secret_basic nor _post"
        )
    algorithms = [
        alg
        for alg in _strings(document.get("id_token_signing_alg_values_supported"))
        if alg in SIGNING_ALGORITHMS
    ]
    if not algorithms:
        raise _refused(
            "discovery_invalid", f"the provider signs id_tokens with none of {SIGNING_ALGORITHMS}"
        )
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=endpoints["authorization_endpoint"],
        token_endpoint=endpoints["token_endpoint"],
        jwks_uri=endpoints["jwks_uri"],
        token_auth_method=method,
        signing_algorithms=tuple(algorithms),
    )


def fetch_keys(metadata: ProviderMetadata, transport: Transport) -> KeySet:
    """The provider's public signing keys (its JWK Set); at least one."""
    document = fetch_json(metadata.jwks_uri, transport, what="key set (jwks_uri)")
    try:
        keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise _refused("discovery_invalid", f"invalid key set: {type(exc).__name__}") from None
    if not keys.keys:
        raise _refused("discovery_invalid", "the key set holds no key")
    return keys

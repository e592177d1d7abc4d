"""Checking an OpenID Connect id_token from the code flow: its signature against the provider's
published keys, then its claims with Authlib's `CodeIDToken` (iss, aud, azp, exp, iat, nonce,
at_hash), on our clock.

`IdentityClaims` is what a login may use afterwards: the subject, and the email only together
with whether the provider says it verified it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

LEEWAY_SECONDS = 60  # clock skew allowed between the provider and us
MAX_SUBJECT = 255


class InvalidIdToken(Exception):
    """The id_token is unsigned, badly signed, or its claims do not hold; `reason` names the
    failed check (for logs: never a claim's value)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IdentityClaims:
    subject: str
    email: str | None
    email_verified: bool


def verify_id_token(
    id_token: str,
    *,
    keys: KeySet,
    algorithms: Collection[str],
    issuer: str,
    client_id: str,
    nonce: str,
    access_token: str | None,
    now: datetime,
) -> IdentityClaims:
    """The identity in `id_token`, or InvalidIdToken."""
    registry = JWSRegistry(algorithms=list(algorithms), strict_check_header=False)
    try:
        token = jwt.decode(id_token, keys, registry=registry)
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidIdToken(f"signature: {getattr(exc, 'error', type(exc).__name__)}") from None
    options = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
    }
    params = {"nonce": nonce, "client_id": client_id}
    if access_token:
        params["access_token"] = access_token
    claims = CodeIDToken(token.claims, token.header, options, params)
    try:
        claims.validate(now=int(now.timestamp()), leeway=LEEWAY_SECONDS)
    except (JoseError, ValueError, TypeError) as exc:
        failed = getattr(exc, "claim", None) or getattr(exc, "error", type(exc).__name__)
        raise InvalidIdToken(f"claims: {failed}") from None
    if "nonce" not in claims:  # we always send one: its absence is a replayed or foreign token
        raise InvalidIdToken("claims: nonce missing")
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT:
        raise InvalidIdToken("claims: sub")
    email = claims.get("email")
    return IdentityClaims(
        subject=subject,
        email=email if isinstance(email, str) and email else None,
        email_verified=claims.get("email_verified") is True,
    )

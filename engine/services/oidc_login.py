"""Staff login through their instansi's OpenID provider: the authorization code flow with PKCE
(S256), a state and a nonce, ending in the same session a password login gets
(`auth.issue_token`).

`start_login` gives the provider's authorization URL and the `PendingLogin` the caller keeps
for the browser (the web layer: a signed, short-lived cookie). `finish_login` takes the
provider's answer back: the state must match, the code is exchanged (with the PKCE verifier and
the client secret), the id_token is checked (`oidc_tokens`), and then:

- an identity linked before (issuer, sub) signs in its user, whatever its email says now;
- else, on a first login, the identity is linked when the provider vouches for its email
  (`email_verified` true), the address lies in one of the provider's `email_domains`, and
  exactly one active user holding a role in the instansi (or one of its units) has that
  address (compared case-insensitively). Nobody is created: roles are granted by admins.

Either way the user must be active and hold a role in the instansi whose SSO was used. Every
refusal is an `SsoRefused` with a `reason` (for the log and the page) and a `detail` naming the
failed check; neither ever holds the subject, the email or a token. A refusal of an answer to a
login we started (its state matched) is audited (`sso.refused`, instansi and reason only), and
so is a new link (`sso.linked`, ids only). Login throttling does not apply: the provider
authenticates.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import DomainError
from engine.models import Instansi, RoleMembership, User
from engine.models.oidc import OidcLink, OidcProvider
from engine.services import audit, auth
from engine.services.oidc_discovery import ProviderMetadata, Transport, discover, fetch_keys
from engine.services.oidc_tokens import IdentityClaims, InvalidIdToken, verify_id_token
from engine.services.sso_config import MAX_CODE, email_domain

SCOPE = "openid email profile"
MAX_PARAM = 2048
# reason -> the HTTP status of the page that says so
REASONS = {
    "sso_unavailable": 404,  # no such instansi, no provider, or it is disabled
    "state_mismatch": 400,  # no pending login in this browser, or not this one
    "issuer_mismatch": 400,  # the answer names another issuer (RFC 9207 `iss`)
    "provider_error": 401,  # the provider answered with an error (e.g. access_denied)
    "provider_unreachable": 502,  # discovery, token or key set could not be fetched
    "token_refused": 401,  # the token endpoint refused the code (used, expired, wrong client)
    "invalid_id_token": 401,  # signature, iss, aud, exp, nonce...
    "email_unverified": 403,  # first login, and the provider does not vouch for the email
    "email_domain": 403,  # first login, with an address outside the provider's domains
    "unknown_user": 403,  # no single active staff member of the instansi to sign in
}


class SsoRefused(DomainError):
    """An SSO login refused; `reason` is one of `REASONS`, `detail` the failed check."""

    code = "sso_refused"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"SSO login refused: {reason} ({detail})", status=REASONS[reason])
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PendingLogin:
    """A login sent to the provider and not back yet; kept by the browser, signed."""

    instansi_code: str
    state: str
    nonce: str
    code_verifier: str
    next: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> PendingLogin | None:
        if not isinstance(data, dict):
            return None
        values = {f.name: data.get(f.name) for f in fields(cls)}
        if not all(isinstance(v, str) and len(v) <= MAX_PARAM for v in values.values()):
            return None
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ProviderAnswer:
    """The query of the provider's redirect back to us."""

    state: str | None = None
    code: str | None = None
    error: str | None = None
    iss: str | None = None


@dataclass(frozen=True)
class SsoLogin:
    token: str
    expires_at: datetime
    user_id: int
    instansi_code: str
    found_by: str  # "subject" (linked before) or "email" (linked now)


@dataclass(frozen=True)
class _Provider:
    id: int
    instansi_id: int
    instansi_code: str
    issuer: str
    client_id: str
    client_secret: str
    email_domains: tuple[str, ...]


def _provider(session: Session, instansi_code: str) -> _Provider:
    """The enabled provider of an active instansi, read in its own short transaction."""
    with session.begin():
        found = None
        if isinstance(instansi_code, str) and 0 < len(instansi_code) <= MAX_CODE:
            found = session.execute(
                select(Instansi, OidcProvider)
                .join(OidcProvider, OidcProvider.instansi_id == Instansi.id)
                .where(Instansi.code == instansi_code)
            ).first()
        if found is None:
            raise SsoRefused("sso_unavailable", "no provider")
        instansi, row = found
        if not row.enabled or not instansi.active:
            raise SsoRefused("sso_unavailable", "disabled")
        return _Provider(
            row.id,
            instansi.id,
            instansi.code,
            row.issuer,
            row.client_id,
            row.client_secret,
            tuple(row.email_domains),
        )


def _metadata(issuer: str, transport: Transport) -> ProviderMetadata:
    try:
        return discover(issuer, transport)
    except DomainError as exc:
        raise SsoRefused("provider_unreachable", f"discovery: {exc.code}") from None


def _client(provider: _Provider, redirect_uri: str, transport: Transport, method: str) -> Any:
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        token_endpoint_auth_method=method,
        scope=SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        default_timeout=transport.timeout,
    )


def start_login(
    session: Session, *, instansi_code: str, redirect_uri: str, transport: Transport, next: str = ""
) -> tuple[str, PendingLogin]:
    """The provider's authorization URL for a new login, and what to keep until it answers."""
    provider = _provider(session, instansi_code)
    metadata = _metadata(provider.issuer, transport)
    pending = PendingLogin(
        instansi_code=provider.instansi_code,
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),  # 86 characters: RFC 7636 wants 43 to 128
        next=next,
    )
    with _client(provider, redirect_uri, transport, metadata.token_auth_method) as client:
        url, _state = client.create_authorization_url(
            metadata.authorization_endpoint,
            state=pending.state,
            code_verifier=pending.code_verifier,
            nonce=pending.nonce,
        )
    return str(url), pending


def _same(expected: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(
        expected.encode("utf-8"), presented.encode("utf-8", "surrogatepass")
    )


def _exchange(
    provider: _Provider,
    metadata: ProviderMetadata,
    code: str,
    pending: PendingLogin,
    redirect_uri: str,
    transport: Transport,
) -> dict[str, Any]:
    with _client(provider, redirect_uri, transport, metadata.token_auth_method) as client:
        try:
            token = client.fetch_token(
                metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=pending.code_verifier,
                allow_redirects=False,
            )
        except AuthlibBaseError as exc:
            raise SsoRefused("token_refused", f"token endpoint: {_short(exc.error)}") from None
        except (requests.RequestException, ValueError) as exc:
            raise SsoRefused("provider_unreachable", f"token: {type(exc).__name__}") from None
    return dict(token)


def _short(text: object) -> str:
    """A provider's error code, made safe for a log line."""
    value = str(text or "")[:64]
    return "".join(ch if ch.isalnum() or ch in "_-." else "?" for ch in value) or "?"


def finish_login(
    session: Session,
    *,
    pending: PendingLogin | None,
    answer: ProviderAnswer,
    redirect_uri: str,
    transport: Transport,
) -> SsoLogin:
    """Check the provider's answer to `pending` and sign its user in (see the module)."""
    if pending is None or not _same(pending.state, answer.state):
        raise SsoRefused("state_mismatch", "no pending login" if pending is None else "state")
    try:
        return _finish(session, pending, answer, redirect_uri, transport)
    except SsoRefused as refusal:
        with session.begin():
            audit.record(
                session,
                actor="system",
                action="sso.refused",
                data={
                    "instansi_code": pending.instansi_code,
                    "reason": refusal.reason,
                    "detail": refusal.detail,
                },
            )
        raise


def _finish(
    session: Session,
    pending: PendingLogin,
    answer: ProviderAnswer,
    redirect_uri: str,
    transport: Transport,
) -> SsoLogin:
    provider = _provider(session, pending.instansi_code)
    if answer.iss is not None and answer.iss != provider.issuer:
        raise SsoRefused("issuer_mismatch", "iss parameter")
    if answer.error is not None:
        raise SsoRefused("provider_error", f"error={_short(answer.error)}")
    if not answer.code or len(answer.code) > MAX_PARAM:
        raise SsoRefused("provider_error", "no code")
    metadata = _metadata(provider.issuer, transport)
    token = _exchange(provider, metadata, answer.code, pending, redirect_uri, transport)
    id_token = token.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise SsoRefused("invalid_id_token", "no id_token")
    try:
        keys = fetch_keys(metadata, transport)
    except DomainError as exc:
        raise SsoRefused("provider_unreachable", f"keys: {exc.code}") from None
    access_token = token.get("access_token")
    try:
        identity = verify_id_token(
            id_token,
            keys=keys,
            algorithms=metadata.signing_algorithms,
            issuer=provider.issuer,
            client_id=provider.client_id,
            nonce=pending.nonce,
            access_token=access_token if isinstance(access_token, str) else None,
            now=clock.now(),
        )
    except InvalidIdToken as exc:
        raise SsoRefused("invalid_id_token", exc.reason) from None
    return _sign_in(session, provider, identity)


def _member_ids(instansi_id: int) -> Any:
    return select(RoleMembership.user_id).where(RoleMembership.instansi_id == instansi_id)


def _is_member(session: Session, user_id: int, instansi_id: int) -> bool:
    found = session.scalar(
        select(RoleMembership.id)
        .where(RoleMembership.user_id == user_id, RoleMembership.instansi_id == instansi_id)
        .limit(1)
    )
    return found is not None


def _linked_user(session: Session, issuer: str, subject: str) -> OidcLink | None:
    return session.scalar(
        select(OidcLink).where(OidcLink.issuer == issuer, OidcLink.subject == subject)
    )


def _user_by_email(session: Session, provider: _Provider, identity: IdentityClaims) -> int:
    if identity.email is None:
        raise SsoRefused("unknown_user", "no email claim")
    if not identity.email_verified:
        raise SsoRefused("email_unverified", "email_verified is not true")
    if email_domain(identity.email) not in provider.email_domains:
        raise SsoRefused("email_domain", "email domain not covered")
    candidates = session.scalars(
        select(User.id)
        .where(
            func.lower(User.email) == identity.email.strip().lower(),
            User.active.is_(True),
            User.id.in_(_member_ids(provider.instansi_id)),
        )
        .limit(2)
    ).all()
    if len(candidates) != 1:
        raise SsoRefused("unknown_user", "no staff email match" if not candidates else "ambiguous")
    return int(candidates[0])


def _sign_in(session: Session, provider: _Provider, identity: IdentityClaims) -> SsoLogin:
    with session.begin():
        now = clock.now()
        link = _linked_user(session, provider.issuer, identity.subject)
        found_by = "subject"
        if link is None:
            user_id = _user_by_email(session, provider, identity)
            try:
                with session.begin_nested():  # a concurrent first login may link it too
                    link = OidcLink(
                        issuer=provider.issuer,
                        subject=identity.subject,
                        user_id=user_id,
                        created_at=now,
                    )
                    session.add(link)
                    session.flush()
                found_by = "email"
                audit.record(
                    session,
                    actor=audit.user_actor(user_id),
                    action="sso.linked",
                    data={"provider_id": provider.id, "link_id": link.id, "user_id": user_id},
                )
            except IntegrityError:
                link = _linked_user(session, provider.issuer, identity.subject)
                assert link is not None
        user = session.get(User, link.user_id)
        if user is None or not user.active:
            raise SsoRefused("unknown_user", "account disabled")
        if not _is_member(session, user.id, provider.instansi_id):
            raise SsoRefused("unknown_user", "no role in the instansi")
        link.last_login_at = now
        token, row = auth.issue_token(session, user_id=user.id, now=now)
        return SsoLogin(token, row.expires_at, user.id, provider.instansi_code, found_by)

"""An instansi's SSO settings (its OpenID provider): see, set, remove, and the list the login
page offers.

National admins manage every instansi's; an `admin_instansi` only their own. Staff with
another role in the instansi are refused (403); anyone else meets a 404, as for a missing
instansi. Setting a provider fetches its discovery document and key set first and refuses
(422, field `issuer`) one that cannot be reached or is not a usable OpenID provider, before
anything is stored. The client secret is write-only: stored sealed, never returned; a change
that leaves it out keeps the stored one. `email_domains` names the domains whose addresses the
provider vouches for (a first login links only those). Changes are audited with ids and URLs,
never the secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.models import Instansi
from engine.models.oidc import OidcProvider
from engine.services import audit
from engine.services.auth import Principal
from engine.services.oidc_discovery import Transport, check_url, discover, fetch_keys

NATIONAL_ADMIN = "admin_nasional"
MAX_CODE = 32
MAX_DOMAINS = 20
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class SsoConfigView:
    instansi_code: str
    configured: bool
    issuer: str | None = None
    client_id: str | None = None
    enabled: bool = False
    email_domains: list[str] = field(default_factory=list)
    has_client_secret: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class SsoChoice:
    """An instansi whose staff may sign in with its SSO."""

    code: str
    name: str
    email_domains: tuple[str, ...] = ()

    def covers(self, email: str) -> bool:
        """Whether an address (or a bare domain) lies in this instansi's SSO domains."""
        return email_domain(email) in self.email_domains


def email_domain(email: str) -> str:
    """The domain of an address, lower case ("" when it has none)."""
    return email.rpartition("@")[2].strip().lower()


def normalised_domains(domains: Iterable[str]) -> list[str]:
    """The domains, lower case, without repeats, in order; 422 naming `email_domains` for a
    value that is not a domain name, or for none or too many."""
    found: list[str] = []
    for raw in domains:
        domain = raw.strip().lower().removeprefix("@")
        if not DOMAIN.match(domain):
            raise InvalidInput(
                f"'{raw[:64]}' is not a domain name (like slemankab.go.id)",
                field="email_domains",
                code="invalid_domain",
            )
        if domain not in found:
            found.append(domain)
    if not 0 < len(found) <= MAX_DOMAINS:
        raise InvalidInput(
            f"name 1 to {MAX_DOMAINS} email domains", field="email_domains", code="invalid_domain"
        )
    return found


def _view(instansi: Instansi, row: OidcProvider | None) -> SsoConfigView:
    if row is None:
        return SsoConfigView(instansi.code, configured=False)
    return SsoConfigView(
        instansi.code,
        configured=True,
        issuer=row.issuer,
        client_id=row.client_id,
        enabled=row.enabled,
        email_domains=list(row.email_domains),
        has_client_secret=bool(row.client_secret),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _authorised_instansi(
    session: Session, principal: Principal, code: str, *, lock: bool = False
) -> Instansi:
    """The instansi if the principal manages its SSO: 403 for its other staff, 404 else."""
    instansi = None
    if isinstance(code, str) and 0 < len(code) <= MAX_CODE:
        query = select(Instansi).where(Instansi.code == code)
        instansi = session.scalar(query.with_for_update(key_share=True) if lock else query)
    if instansi is not None:
        if NATIONAL_ADMIN in principal.roles() or instansi.id in principal.administered():
            return instansi
        if any(m.instansi_id == instansi.id for m in principal.memberships):
            raise Forbidden("only the instansi's admins manage its SSO", field="code")
    raise NotFound(f"no instansi '{str(code)[:MAX_CODE]}'", field="code")


def _row(session: Session, instansi: Instansi) -> OidcProvider | None:
    return session.scalar(select(OidcProvider).where(OidcProvider.instansi_id == instansi.id))


def get_config(session: Session, *, principal: Principal, instansi_code: str) -> SsoConfigView:
    """The instansi's SSO settings (`configured` false when it has none)."""
    with session.begin():
        instansi = _authorised_instansi(session, principal, instansi_code)
        return _view(instansi, _row(session, instansi))


def set_config(
    session: Session,
    *,
    principal: Principal,
    instansi_code: str,
    issuer: str,
    client_id: str,
    email_domains: Iterable[str],
    client_secret: str | None = None,
    enabled: bool = True,
    transport: Transport,
) -> SsoConfigView:
    """Create or replace the instansi's provider, after checking it answers as one."""
    with session.begin():
        instansi = _authorised_instansi(session, principal, instansi_code)
        had_secret = _row(session, instansi) is not None
    domains = normalised_domains(email_domains)
    if client_secret is None and not had_secret:
        raise InvalidInput("a new SSO configuration needs its client_secret", field="client_secret")
    check_url(issuer, transport)
    metadata = discover(issuer, transport)  # no transaction is held while the provider answers
    fetch_keys(metadata, transport)
    with session.begin():
        instansi = _authorised_instansi(session, principal, instansi_code, lock=True)
        row, now = _row(session, instansi), clock.now()
        if row is None:
            if client_secret is None:  # removed meanwhile
                raise InvalidInput(
                    "a new SSO configuration needs its client_secret", field="client_secret"
                )
            row = OidcProvider(instansi_id=instansi.id, created_at=now)
            session.add(row)
        row.issuer, row.client_id, row.enabled, row.updated_at = issuer, client_id, enabled, now
        row.email_domains = domains
        if client_secret is not None:
            row.client_secret = client_secret
        session.flush()
        audit.record(
            session,
            actor=principal.actor,
            action="sso.configured",
            data={
                "instansi_code": instansi.code,
                "provider_id": row.id,
                "issuer": issuer,
                "client_id": client_id,
                "enabled": enabled,
                "email_domains": domains,
                "secret_changed": client_secret is not None,
            },
        )
        return _view(instansi, row)


def remove_config(session: Session, *, principal: Principal, instansi_code: str) -> None:
    """Remove the instansi's provider (nothing happens when it has none). Links of its staff's
    identities stay, so a provider set again later knows them."""
    with session.begin():
        instansi = _authorised_instansi(session, principal, instansi_code, lock=True)
        row = _row(session, instansi)
        if row is None:
            return
        audit.record(
            session,
            actor=principal.actor,
            action="sso.removed",
            data={"instansi_code": instansi.code, "provider_id": row.id, "issuer": row.issuer},
        )
        session.delete(row)


def enabled_choices(session: Session) -> list[SsoChoice]:
    """The active instansi whose SSO is enabled, by name: what the login page offers."""
    with session.begin():
        rows = session.execute(
            select(Instansi.code, Instansi.name, OidcProvider.email_domains)
            .join(OidcProvider, OidcProvider.instansi_id == Instansi.id)
            .where(OidcProvider.enabled.is_(True), Instansi.active.is_(True))
            .order_by(Instansi.name, Instansi.code)
        ).all()
    return [SsoChoice(code, name, tuple(domains)) for code, name, domains in rows]

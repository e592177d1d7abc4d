"""Staff login with an instansi's SSO, against a real OpenID provider (tests/oidc_provider.py,
Authlib's server on a loopback port): the whole authorization code dance (PKCE, state, nonce),
linking by verified email then by subject, every refusal page, and the management API.

The Flask test client plays the browser on our side; `requests` follows it to the provider's
authorization endpoint and reads where the provider sends it back.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest.mock import ANY
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, text, update
from werkzeug.serving import make_server

from api.web import session as web_session
from api.web.sso_pages import PENDING_COOKIE, PENDING_PATH
from engine import clock
from engine.models import AuditEvent, AuthToken, RoleMembership, User
from engine.models.oidc import OidcLink, OidcProvider
from engine.seed.loader import DEMO_PASSWORD
from engine.services import auth
from tests.browser.conftest import CHROMIUM_ARGS, TIMEOUT_MS, QuietHandler, chromium_path
from tests.conftest import build_app
from tests.helpers import ensure_user, problem_of
from tests.oidc_provider import OidcTestProvider, ProviderUser, rsa_key, serve_provider

SLEMAN, BADUNG = "34.04", "51.03"
OFFICER, OFFICER_EMAIL = "sso.sleman", "petugas.sso@slemankab.go.id"
OTHER, OTHER_EMAIL = "sso.badung", "petugas.sso@badungkab.go.id"
CLIENT_ID, CLIENT_SECRET = "lapor-sleman", "rahasia-klien-sleman-2026"
DOMAINS = ["slemankab.go.id", "sleman.example.id"]
SSO_URL = f"/api/v1/instansi/{SLEMAN}/sso"
DISCOVERY = "/.well-known/openid-configuration"


@pytest.fixture(scope="module")
def app(database_url: str) -> Iterator[Flask]:
    """One app for the module (each test still gets a fresh client, without cookies)."""
    from api.db import db

    application = build_app(database_url)
    yield application
    db.engine(application).dispose()


@pytest.fixture(scope="module")
def staff(db_engine: Any) -> Iterator[dict[str, int]]:
    """An officer of a Sleman unit and an admin of Badung, each with an email address."""
    from engine.db import make_session_factory

    factory = make_session_factory(db_engine)
    made = {
        OFFICER: ensure_user(factory, OFFICER, [("admin_unit", None, "34.04-DPUPKP")]),
        OTHER: ensure_user(factory, OTHER, [("admin_instansi", BADUNG, None)]),
    }
    with factory() as s, s.begin():
        s.execute(update(User).where(User.id == made[OFFICER]).values(email=OFFICER_EMAIL))
        s.execute(update(User).where(User.id == made[OTHER]).values(email=OTHER_EMAIL))
    yield made
    with factory() as s, s.begin():
        ids = list(made.values())
        s.execute(delete(OidcLink).where(OidcLink.user_id.in_(ids)))
        s.execute(delete(AuthToken).where(AuthToken.user_id.in_(ids)))
        s.execute(delete(RoleMembership).where(RoleMembership.user_id.in_(ids)))
        s.execute(delete(User).where(User.id.in_(ids)))


@pytest.fixture(autouse=True)
def no_sso_left(db_engine: Any) -> Iterator[None]:
    """SSO settings and links are not among conftest's dynamic tables: remove them here."""
    yield
    with db_engine.begin() as conn:
        conn.execute(delete(OidcLink))
        conn.execute(delete(OidcProvider))


@pytest.fixture()
def provider(staff: dict[str, int]) -> Iterator[OidcTestProvider]:
    with serve_provider() as served:
        served.user = ProviderUser("sub-sleman-0001", "Petugas.SSO@SlemanKab.go.id")
        yield served


def token_of(client: FlaskClient, username: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def configure(
    client: FlaskClient, provider: OidcTestProvider, expect: int = 200, **body: Any
) -> dict[str, Any]:
    """Set Sleman's provider as the national admin, and register our callback there."""
    payload = {
        "issuer": provider.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "email_domains": DOMAINS,
        **body,
    }
    response = client.put(SSO_URL, json=payload, headers=token_of(client, "nasional"))
    assert response.status_code == expect, response.get_data(as_text=True)
    shown: dict[str, Any] = response.get_json()
    if expect == 200:
        provider.add_client(CLIENT_ID, CLIENT_SECRET, shown["redirect_uri"])
    return shown


def to_provider(client: FlaskClient, code: str = SLEMAN, query: str = "") -> str:
    """Start the login here and follow it to the provider: where the provider sends back."""
    start = client.get(f"/masuk/sso/{code}{query}")
    assert start.status_code == 302, start.get_data(as_text=True)
    asked = parse_qs(urlsplit(start.location).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["nonce"] and asked["state"]
    answer = requests.get(start.location, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/masuk/sso/callback"
    return f"{back.path}?{back.query}"


def dance(client: FlaskClient, query: str = "") -> Any:
    """The whole login: ours, the provider's approval, and our callback's answer."""
    return client.get(to_provider(client, query=query))


def refused(response: Any, status: int, reason: str) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == status, html
    assert response.mimetype == "text/html" and f'data-reason="{reason}"' in html
    assert "nonce-" not in response.headers["Content-Security-Policy"]
    return html


def tokens(factory: Any) -> list[AuthToken]:
    """The login tokens of the SSO test officers (admins' API logins are left out)."""
    with factory() as s:
        made = select(User.id).where(User.username.in_([OFFICER, OTHER]))
        return list(s.scalars(select(AuthToken).where(AuthToken.user_id.in_(made))))


# -- the whole dance --------------------------------------------------------------------------


def test_first_login_links_by_verified_email_and_reaches_the_inbox(
    client: FlaskClient, provider: OidcTestProvider, staff: dict[str, int], factory: Any
) -> None:
    configure(client, provider)
    page = client.get("/login?next=/tugas").get_data(as_text=True)
    assert '<a class="sso-login" href="/masuk/sso/34.04?next=/tugas">' in page
    assert "Masuk dengan SSO Kabupaten Sleman" in page
    chooser = client.get("/masuk/sso?next=/tugas").get_data(as_text=True)
    assert 'href="/masuk/sso/34.04?next=/tugas"' in chooser and "Kabupaten Sleman" in chooser

    response = dance(client, "?next=/tugas")
    assert response.status_code == 303 and response.location == "/tugas"
    cookie = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("lapor_session=")]
    assert len(cookie) == 1 and "HttpOnly" in cookie[0] and "SameSite=Lax" in cookie[0]
    assert any(h.startswith(f"{PENDING_COOKIE}=;") for h in response.headers.getlist("Set-Cookie"))
    inbox = client.get("/tugas")
    assert inbox.status_code == 200
    assert f"Masuk sebagai <strong>{OFFICER}</strong>" in inbox.get_data(as_text=True)

    with factory() as s:
        link = s.scalars(select(OidcLink)).one()
    [issued] = tokens(factory)
    assert (link.issuer, link.subject, link.user_id) == (
        provider.issuer,
        "sub-sleman-0001",
        staff[OFFICER],
    )
    assert link.last_login_at is not None
    # the same session a password login makes: one token, the same lifetime, the same cookie
    assert issued.user_id == staff[OFFICER] and issued.revoked_at is None
    assert issued.expires_at - issued.created_at == auth.TOKEN_LIFETIME
    session_token = client.get_cookie(web_session.COOKIE).value
    assert issued.token_hash == auth.token_hash(session_token)
    assert provider.codes == {}  # the code was used, once
    with factory() as s:
        [linked] = s.scalars(select(AuditEvent).where(AuditEvent.action == "sso.linked")).all()
    assert linked.actor == f"user:{staff[OFFICER]}"
    assert linked.data == {"provider_id": ANY, "link_id": link.id, "user_id": staff[OFFICER]}


def test_later_logins_find_the_user_by_subject_even_when_the_email_changed(
    client: FlaskClient, provider: OidcTestProvider, staff: dict[str, int], factory: Any
) -> None:
    configure(client, provider)
    assert dance(client).status_code == 303
    provider.user = ProviderUser("sub-sleman-0001", "nama.baru@example.org", email_verified=False)
    fresh = client.application.test_client()
    response = dance(fresh)
    assert response.status_code == 303 and response.location == "/login"
    assert "Anda sudah masuk" in fresh.get("/login").get_data(as_text=True)
    with factory() as s:
        assert [link.user_id for link in s.scalars(select(OidcLink))] == [staff[OFFICER]]
    assert {t.user_id for t in tokens(factory)} == {staff[OFFICER]}


def test_signing_in_again_ends_the_session_this_browser_had(
    client: FlaskClient, provider: OidcTestProvider, factory: Any
) -> None:
    configure(client, provider)
    assert dance(client).status_code == 303
    assert dance(client).status_code == 303
    assert sorted(t.revoked_at is None for t in tokens(factory)) == [False, True]


# -- refusals ---------------------------------------------------------------------------------


def test_a_callback_with_another_state_is_refused(
    client: FlaskClient, provider: OidcTestProvider, factory: Any, caplog: Any
) -> None:
    configure(client, provider)
    back = urlsplit(to_provider(client))
    query = parse_qs(back.query)
    query["state"] = ["dipalsukan"]
    with caplog.at_level(logging.WARNING, logger="api.web.sso_pages"):
        response = client.get(f"{back.path}?{urlencode(query, doseq=True)}")
    html = refused(response, 400, "state_mismatch")
    assert "Proses masuk dengan SSO sudah kedaluwarsa" in html
    assert tokens(factory) == [] and provider.token_requests == 0
    with factory() as s:  # only logged: anyone can send a callback
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "sso.refused")).all() == []
    logged = [r.getMessage() for r in caplog.records if "SSO login refused" in r.getMessage()]
    assert logged == ["SSO login refused: instansi=34.04 reason=state_mismatch detail=state"]


def test_a_callback_without_a_pending_login_is_refused_in_english_on_request(
    client: FlaskClient, provider: OidcTestProvider
) -> None:
    configure(client, provider)
    response = client.get("/masuk/sso/callback?state=abc&code=def&lang=en")
    html = refused(response, 400, "state_mismatch")
    assert '<html lang="en">' in html and "The SSO sign-in has expired" in html


def test_a_replayed_code_is_refused_by_the_provider(
    client: FlaskClient, provider: OidcTestProvider, factory: Any, caplog: Any
) -> None:
    configure(client, provider)
    callback = to_provider(client)
    pending = client.get_cookie(PENDING_COOKIE, path=PENDING_PATH)
    assert pending is not None
    assert client.get(callback).status_code == 303
    client.set_cookie(PENDING_COOKIE, pending.value, path=PENDING_PATH)
    with caplog.at_level(logging.WARNING, logger="api.web.sso_pages"):
        response = client.get(callback)
    refused(response, 401, "token_refused")
    assert provider.token_requests == 2
    assert "detail=token endpoint: invalid_grant" in caplog.text
    assert len(tokens(factory)) == 1


@pytest.mark.parametrize(
    ("tamper", "detail"),
    [
        ({"signing_key": "other"}, "signature: bad_signature"),
        ({"aud": "aplikasi-lain"}, "claims: aud"),
        ({"nonce": "bukan-nonce-kita"}, "claims: nonce"),
        ({"iss": "http://127.0.0.1:9/lain"}, "claims: iss"),
    ],
    ids=["another-key", "wrong-audience", "wrong-nonce", "wrong-issuer"],
)
def test_an_id_token_that_does_not_hold_is_refused(
    client: FlaskClient,
    provider: OidcTestProvider,
    factory: Any,
    caplog: Any,
    tamper: dict[str, str],
    detail: str,
) -> None:
    configure(client, provider)
    if "signing_key" in tamper:
        provider.signing_key = rsa_key(tamper["signing_key"])
    else:
        provider.claim_overrides = dict(tamper)
    with caplog.at_level(logging.WARNING, logger="api.web.sso_pages"):
        response = dance(client)
    html = refused(response, 401, "invalid_id_token")
    assert "Identitas dari penyedia SSO tidak dapat diverifikasi." in html
    assert f"detail={detail}" in caplog.text
    assert tokens(factory) == []
    with factory() as s:
        assert s.scalars(select(OidcLink)).all() == []


def test_an_expired_id_token_is_refused(
    client: FlaskClient, provider: OidcTestProvider, factory: Any
) -> None:
    configure(client, provider)
    callback = to_provider(client)
    clock.set_clock(clock.now() + timedelta(hours=2))  # the id_token lives one hour
    refused(client.get(callback), 401, "invalid_id_token")
    assert tokens(factory) == []


def test_an_unverified_email_links_no_one(
    client: FlaskClient, provider: OidcTestProvider, factory: Any, caplog: Any
) -> None:
    configure(client, provider)
    provider.user = ProviderUser("sub-sleman-0002", OFFICER_EMAIL, email_verified=False)
    with caplog.at_level(logging.INFO, logger="api.web.sso_pages"):
        html = refused(dance(client), 403, "email_unverified")
    assert "belum memverifikasi alamat email Anda" in html
    assert OFFICER_EMAIL not in caplog.text and "sub-sleman" not in caplog.text
    with factory() as s:
        [audited] = s.scalars(select(AuditEvent).where(AuditEvent.action == "sso.refused")).all()
    assert (audited.actor, audited.report_id) == ("system", None)
    assert audited.data == {
        "instansi_code": SLEMAN,
        "reason": "email_unverified",
        "detail": "email_verified is not true",
    }
    with factory() as s:
        assert s.scalars(select(OidcLink)).all() == []
    assert tokens(factory) == []


def test_an_address_outside_the_providers_domains_links_no_one(
    client: FlaskClient, provider: OidcTestProvider, factory: Any
) -> None:
    configure(client, provider, email_domains=["sleman.example.id"])
    html = refused(dance(client), 403, "email_domain")
    assert "tidak termasuk domain yang dilayani SSO instansi ini" in html
    with factory() as s:
        assert s.scalars(select(OidcLink)).all() == []
    assert tokens(factory) == []


def test_the_email_of_another_instansis_officer_is_refused(
    client: FlaskClient, provider: OidcTestProvider, factory: Any
) -> None:
    configure(client, provider, email_domains=[*DOMAINS, "badungkab.go.id"])  # domain alone
    provider.user = ProviderUser("sub-badung-0001", OTHER_EMAIL)  # is not enough
    html = refused(dance(client), 403, "unknown_user")
    assert "Hubungi admin instansi Anda." in html
    assert tokens(factory) == []


def test_an_unknown_email_and_a_missing_email_are_refused(
    client: FlaskClient, provider: OidcTestProvider, factory: Any
) -> None:
    configure(client, provider)
    provider.user = ProviderUser("sub-x", "tidak.dikenal@slemankab.go.id")
    refused(dance(client), 403, "unknown_user")
    provider.user = ProviderUser("sub-y", None)
    refused(dance(client), 403, "unknown_user")
    assert tokens(factory) == []


def test_a_linked_user_who_was_deactivated_is_refused(
    client: FlaskClient, provider: OidcTestProvider, staff: dict[str, int], factory: Any
) -> None:
    configure(client, provider)
    assert dance(client).status_code == 303
    with factory() as s, s.begin():
        s.execute(update(User).where(User.id == staff[OFFICER]).values(active=False))
    try:
        refused(dance(client.application.test_client()), 403, "unknown_user")
    finally:
        with factory() as s, s.begin():
            s.execute(update(User).where(User.id == staff[OFFICER]).values(active=True))


def test_a_provider_error_is_refused(client: FlaskClient, provider: OidcTestProvider) -> None:
    configure(client, provider)
    provider.deny = True
    html = refused(dance(client), 401, "provider_error")
    assert "Penyedia SSO instansi menolak atau membatalkan proses masuk." in html


def test_disabled_or_missing_sso_offers_no_login(
    client: FlaskClient, provider: OidcTestProvider, factory: Any
) -> None:
    configure(client, provider)
    callback = to_provider(client)
    configure(client, provider, enabled=False)
    refused(client.get(callback), 404, "sso_unavailable")  # disabled between start and answer
    html = refused(client.get(f"/masuk/sso/{SLEMAN}?lang=en"), 404, "sso_unavailable")
    assert "This instansi does not offer SSO sign-in" in html
    refused(client.get(f"/masuk/sso/{BADUNG}"), 404, "sso_unavailable")
    assert "/masuk/sso/" not in client.get("/login").get_data(as_text=True)
    chooser = client.get("/masuk/sso?lang=id").get_data(as_text=True)
    assert "Belum ada instansi yang menyediakan" in chooser
    assert tokens(factory) == []


def test_the_chooser_filters_and_the_pages_keep_the_strict_policy(
    client: FlaskClient, provider: OidcTestProvider
) -> None:
    configure(client, provider)
    found = client.get("/masuk/sso?q=sleman")
    assert "Masuk melalui Kabupaten Sleman" in found.get_data(as_text=True)
    policy = found.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "form-action 'self'" in policy
    by_email = client.get("/masuk/sso?q=Petugas@Sleman.Example.id").get_data(as_text=True)
    assert "Masuk melalui Kabupaten Sleman" in by_email
    missing = client.get("/masuk/sso?q=badung").get_data(as_text=True)
    assert "Tidak ada instansi yang cocok." in missing and "Kabupaten Sleman" not in missing


# -- the management API -----------------------------------------------------------------------


def test_settings_are_shown_without_the_secret_which_is_sealed_at_rest(
    client: FlaskClient, provider: OidcTestProvider, factory: Any
) -> None:
    headers = token_of(client, "sleman")  # Sleman's own admin
    empty = client.get(SSO_URL, headers=headers)
    assert empty.status_code == 200
    assert empty.get_json() == {
        "instansi_code": SLEMAN,
        "configured": False,
        "issuer": None,
        "client_id": None,
        "enabled": False,
        "email_domains": [],
        "has_client_secret": False,
        "redirect_uri": "http://localhost/masuk/sso/callback",
        "created_at": None,
        "updated_at": None,
    }
    body = {
        "issuer": provider.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "email_domains": [" SlemanKab.go.id", "@slemankab.go.id"],
    }
    saved = client.put(SSO_URL, json=body, headers=headers)
    assert saved.status_code == 200, saved.get_json()
    shown = saved.get_json()
    assert CLIENT_SECRET not in saved.get_data(as_text=True) and "client_secret" not in shown
    assert shown["configured"] and shown["enabled"] and shown["has_client_secret"]
    assert (shown["issuer"], shown["client_id"]) == (provider.issuer, CLIENT_ID)
    assert shown["email_domains"] == ["slemankab.go.id"]
    with factory() as s:
        stored = s.execute(text("SELECT client_secret FROM oidc_provider")).scalar_one()
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "sso.configured")).all()
    assert stored.startswith("v1:") and CLIENT_SECRET not in stored
    assert len(events) == 1 and CLIENT_SECRET not in str(events[0].data)
    again = client.get(SSO_URL, headers=headers).get_json()
    assert again == shown


def test_a_change_without_the_secret_keeps_it_and_a_new_config_needs_one(
    client: FlaskClient, provider: OidcTestProvider, factory: Any
) -> None:
    body = {"issuer": provider.issuer, "client_id": CLIENT_ID, "email_domains": DOMAINS}
    problem = problem_of(client.put(SSO_URL, json=body, headers=token_of(client, "nasional")), 422)
    assert problem["field"] == "client_secret"
    configure(client, provider)
    kept = client.put(SSO_URL, json=body, headers=token_of(client, "nasional"))
    assert kept.status_code == 200 and kept.get_json()["has_client_secret"]
    assert dance(client).status_code == 303  # the kept secret still authenticates us


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("issuer", "tamper", "code"),
    [
        ("http://sso.slemankab.go.id", {}, "insecure_url"),
        ("https://user:pw@sso.slemankab.go.id", {}, "insecure_url"),
        ("ftp://127.0.0.1/sso", {}, "insecure_url"),
        ("CLOSED", {}, "discovery_unreachable"),
        ("PROVIDER/tidak-ada", {}, "discovery_unreachable"),
        ("PROVIDER", {"issuer": "https://lain.example.id"}, "issuer_mismatch"),
        ("PROVIDER", {"code_challenge_methods_supported": ["plain"]}, "discovery_invalid"),
        ("PROVIDER", {"response_types_supported": ["token"]}, "discovery_invalid"),
        ("PROVIDER", {"id_token_signing_alg_values_supported": ["HS256"]}, "discovery_invalid"),
        ("PROVIDER", {"token_endpoint": "http://sso.example.id/token"}, "discovery_invalid"),
        ("PROVIDER", {"jwks_uri": "JWKS_MISSING"}, "discovery_unreachable"),
        ("PROVIDER", {"jwks_uri": "NOT_KEYS"}, "discovery_invalid"),
    ],
)
def test_a_provider_that_is_unreachable_or_invalid_is_refused_with_a_problem(
    client: FlaskClient,
    provider: OidcTestProvider,
    factory: Any,
    issuer: str,
    tamper: dict[str, Any],
    code: str,
) -> None:
    base = provider.issuer
    issuer = issuer.replace("CLOSED", f"http://127.0.0.1:{free_port()}")
    issuer = issuer.replace("PROVIDER", base)
    provider.metadata_overrides = {
        key: value.replace("JWKS_MISSING", f"{base}/tidak-ada").replace(
            "NOT_KEYS", base + DISCOVERY
        )
        if isinstance(value, str)
        else value
        for key, value in tamper.items()
    }
    body = {
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "email_domains": DOMAINS,
    }
    response = client.put(SSO_URL, json=body, headers=token_of(client, "nasional"))
    problem = problem_of(response, 422)
    assert (problem["code"], problem["field"]) == (code, "issuer")
    with factory() as s:
        assert s.scalars(select(OidcProvider)).all() == []


def test_plain_http_on_the_loopback_needs_testing_or_the_setting(
    database_url: str, make_app: Any, provider: OidcTestProvider
) -> None:
    body = {
        "issuer": provider.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "email_domains": DOMAINS,
    }
    strict = make_app(database_url, TESTING=False).test_client()
    problem = problem_of(strict.put(SSO_URL, json=body, headers=token_of(strict, "nasional")), 422)
    assert problem["code"] == "insecure_url"
    allowed = make_app(database_url, TESTING=False, OIDC_ALLOW_HTTP_LOCALHOST=True).test_client()
    response = allowed.put(SSO_URL, json=body, headers=token_of(allowed, "nasional"))
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"issuer": None}, "issuer"),
        ({"client_id": None}, "client_id"),
        ({"client_id": ""}, "client_id"),
        ({"issuer": "x" * 300}, "issuer"),
        ({"enabled": "kadang"}, "enabled"),
        ({"email_domains": None}, "email_domains"),
        ({"email_domains": []}, "email_domains"),
        ({"email_domains": ["slemankab.go.id"] * 21}, "email_domains"),
        ({"email_domains": ["bukan domain"]}, "email_domains"),
        ({"email_domains": ["localhost"]}, "email_domains"),
    ],
)
def test_a_bad_body_is_refused_naming_the_field(
    client: FlaskClient, changes: dict[str, Any], field: str
) -> None:
    body = {
        "issuer": "https://sso.example.id",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "email_domains": DOMAINS,
    }
    body.update(changes)
    body = {name: value for name, value in body.items() if value is not None}  # None: left out
    response = client.put(SSO_URL, json=body, headers=token_of(client, "nasional"))
    problem = problem_of(response, 422)
    assert problem["field"] == field


def test_another_instansis_settings_are_not_found_and_its_staff_are_refused(
    client: FlaskClient, provider: OidcTestProvider, factory: Any
) -> None:
    configure(client, provider)
    badung = token_of(client, "badung")
    for method in ("GET", "PUT", "DELETE"):
        body = (
            {"issuer": provider.issuer, "client_id": "x", "email_domains": DOMAINS}
            if method == "PUT"
            else None
        )
        problem = problem_of(client.open(SSO_URL, method=method, json=body, headers=badung), 404)
        assert problem["field"] == "code"
    problem_of(client.get(SSO_URL, headers=token_of(client, "sleman.pu")), 403)
    problem_of(client.get("/api/v1/instansi/99.99/sso", headers=badung), 404)
    problem_of(client.get(SSO_URL), 401)
    assert client.get(f"/api/v1/instansi/{BADUNG}/sso", headers=badung).status_code == 200


def test_removing_the_settings_ends_sso_and_is_audited(
    client: FlaskClient, provider: OidcTestProvider, factory: Any
) -> None:
    configure(client, provider)
    headers = token_of(client, "sleman")
    assert client.delete(SSO_URL, headers=headers).status_code == 204
    assert client.delete(SSO_URL, headers=headers).status_code == 204  # nothing left to remove
    assert client.get(SSO_URL, headers=headers).get_json()["configured"] is False
    refused(client.get(f"/masuk/sso/{SLEMAN}"), 404, "sso_unavailable")
    with factory() as s:
        removed = s.scalars(select(AuditEvent).where(AuditEvent.action == "sso.removed")).all()
    assert len(removed) == 1 and removed[0].data["instansi_code"] == SLEMAN


# -- in a real browser ------------------------------------------------------------------------


def test_a_person_signs_in_with_sso_in_chromium(
    app: Flask, client: FlaskClient, provider: OidcTestProvider
) -> None:
    from playwright.sync_api import sync_playwright

    configure(client, provider)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    base = f"http://127.0.0.1:{server.server_port}"
    provider.add_client(CLIENT_ID, CLIENT_SECRET, f"{base}/masuk/sso/callback")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
            )
            try:
                tab = browser.new_page(base_url=base, locale="id-ID")
                tab.set_default_timeout(TIMEOUT_MS)
                tab.goto("/login?next=/tugas")
                tab.get_by_role("link", name="Masuk dengan SSO Kabupaten Sleman").click()
                tab.wait_for_url(f"{base}/tugas")
                assert tab.get_by_text(f"Masuk sebagai {OFFICER}").is_visible()
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

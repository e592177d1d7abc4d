"""Security headers on every kind of answer: pages get a strict Content-Security-Policy (no
inline scripts or styles unless they carry this request's nonce), JSON forbids everything,
framing and sniffing are off everywhere, HSTS over https, session cookies HttpOnly and SameSite."""

from __future__ import annotations

import re
from typing import Any

from api.headers import DATA_POLICY
from api.web import session as web_session
from api.web.i18n import LANG_COOKIE

STRICT = ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'")


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_common(response: Any) -> None:
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_allow_no_inline_script_or_style(fresh_client: Any) -> None:
    with fresh_client() as client:
        for path in ("/", "/lapor", "/lacak", "/publik", "/login"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert_common(response)
            policy = response.headers["Content-Security-Policy"]
            assert all(rule in policy for rule in STRICT), (path, policy)
            parsed = directives(policy)
            assert parsed["script-src"] == ["'self'"], (path, policy)  # no nonce used, none given
            assert parsed["style-src"] == ["'self'"], (path, policy)
            assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
            assert response.headers["Cache-Control"] == "no-store"


def test_the_api_docs_inline_script_carries_the_nonce_of_its_own_request(
    fresh_client: Any,
) -> None:
    with fresh_client() as client:
        nonces = []
        for _ in range(2):
            response = client.get("/api/docs")
            assert response.status_code == 200
            script_src = directives(response.headers["Content-Security-Policy"])["script-src"]
            assert len(script_src) == 2 and script_src[0] == "'self'"
            body_nonces = re.findall(r'<script nonce="([^"]+)"', response.get_data(as_text=True))
            assert len(body_nonces) == 1
            assert script_src[1] == f"'nonce-{body_nonces[0]}'"
            nonces.append(body_nonces[0])
        assert nonces[0] != nonces[1] and len(nonces[0]) >= 22


def test_json_answers_forbid_everything(fresh_client: Any) -> None:
    with fresh_client() as client:
        for path in ("/api/openapi.json", "/healthz", "/api/v1/reports/nope"):
            response = client.get(path)
            assert response.headers["Content-Security-Policy"] == DATA_POLICY, path
            assert_common(response)


def test_hsts_only_over_https(fresh_client: Any) -> None:
    with fresh_client() as client:
        assert "Strict-Transport-Security" not in client.get("/healthz").headers
        secure = client.get("/healthz", base_url="https://lapor.example")
        assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_language_and_login_cookies_are_httponly_and_samesite(fresh_client: Any) -> None:
    with fresh_client() as client:
        cookies = [
            *client.get("/?lang=en").headers.getlist("Set-Cookie"),
            *client.get("/login").headers.getlist("Set-Cookie"),
        ]
    names = {cookie.split("=", 1)[0] for cookie in cookies}
    assert {LANG_COOKIE, web_session.LOGIN_CSRF_COOKIE} <= names, cookies
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
        assert "Secure" not in cookie  # plain http in tests; see the next test


def test_with_secure_cookies_every_cookie_is_secure(make_app: Any, database_url: str) -> None:
    client = make_app(database_url, SESSION_COOKIE_SECURE=True).test_client()
    cookies = [
        *client.get("/?lang=en", base_url="https://lapor.example").headers.getlist("Set-Cookie"),
        *client.get("/login", base_url="https://lapor.example").headers.getlist("Set-Cookie"),
    ]
    assert len(cookies) >= 2
    assert all("Secure" in cookie for cookie in cookies), cookies


def test_behind_a_proxy_the_forwarded_https_and_address_count(
    make_app: Any, database_url: str
) -> None:
    client = make_app(database_url, PROXY_HOPS=1).test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    answer = client.get("/healthz", headers=forwarded)
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    direct = make_app(database_url).test_client().get("/healthz", headers=forwarded)
    assert "Strict-Transport-Security" not in direct.headers  # without PROXY_HOPS: not trusted

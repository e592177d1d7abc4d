"""Staff login pages: CSRF-protected form, session cookie flags, logout that ends the session,
the language switch, the REST API accepting the cookie only with the page's CSRF header, the
lockout after repeated failures, and the password reset pages (mail read from a real SMTP
server)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from api.web import session as web_session
from api.web.auth_pages import safe_next
from engine import clock
from engine.models import AuthToken, User
from engine.seed.loader import DEMO_PASSWORD
from engine.services import auth
from sla.mailer import SmtpSettings
from sla.outbox import deliver_due
from tests.browser.conftest import sign_in
from tests.helpers import ensure_user, problem_of
from tests.smtp_server import SmtpServer


def login_form(client: FlaskClient, query: str = "") -> str:
    """GET the form; returns its hidden CSRF token (the double-submit cookie is now set)."""
    response = client.get(f"/login{query}")
    assert response.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert found
    return found.group(1)


def sign_in_client(client: FlaskClient, username: str, **form: str) -> Any:
    token = login_form(client)
    data = {"csrf_token": token, "username": username, "password": DEMO_PASSWORD, **form}
    return client.post("/login", data=data)


def set_cookie(response: Any, name: str) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return str(headers[0])


def csrf_of(client: FlaskClient, path: str = "/designer") -> str:
    found = re.search(
        r'<meta name="csrf-token" content="([^"]+)">', client.get(path).get_data(as_text=True)
    )
    assert found
    return found.group(1)


def test_login_form_is_indonesian_with_csrf_cookie_and_safe_headers(client: FlaskClient) -> None:
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert '<html lang="id">' in html and "Masuk petugas" in html and "Kata sandi" in html
    assert 'href="/login?lang=en"' in html  # the language switch
    cookie = set_cookie(response, web_session.LOGIN_CSRF_COOKIE)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert f'value="{client.get_cookie(web_session.LOGIN_CSRF_COOKIE).value}"' in html
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_login_without_the_form_token_is_refused(client: FlaskClient) -> None:
    login_form(client)
    data = {"username": "designer", "password": DEMO_PASSWORD, "csrf_token": "forged" * 8}
    response = client.post("/login", data=data)
    assert response.status_code == 400
    assert "Formulir sudah kedaluwarsa" in response.get_data(as_text=True)
    assert client.get_cookie(web_session.COOKIE) is None


def test_wrong_password_is_shown_on_the_page(client: FlaskClient, factory: Any) -> None:
    token = login_form(client)
    data = {"csrf_token": token, "username": "designer", "password": "salah"}
    response = client.post("/login", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 401 and response.mimetype == "text/html"
    assert "Nama pengguna atau kata sandi salah." in html and 'role="alert"' in html
    assert "Traceback" not in html and 'value="designer"' in html
    assert client.get_cookie(web_session.COOKIE) is None
    with factory() as s:
        assert s.scalars(select(AuthToken)).all() == []


def test_login_starts_a_server_side_session_in_a_strict_cookie(
    client: FlaskClient, factory: Any
) -> None:
    response = sign_in_client(client, "designer")
    assert response.status_code == 303 and response.location == "/designer"
    cookie = set_cookie(response, web_session.COOKIE)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    token = client.get_cookie(web_session.COOKIE).value
    with factory() as s:
        rows = s.scalars(select(AuthToken)).all()
    assert [row.token_hash for row in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    page = client.get("/designer")
    assert page.status_code == 200
    assert "Masuk sebagai <strong>designer</strong>" in page.get_data(as_text=True)


def test_cookie_is_secure_when_the_config_says_so(database_url: str, make_app: Any) -> None:
    client = make_app(database_url, SESSION_COOKIE_SECURE=True).test_client()
    response = sign_in_client(client, "designer")
    assert "Secure" in set_cookie(response, web_session.COOKIE)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/designer?key=sop-default", "/designer?key=sop-default"),
        ("//evil.example/x", "/home"),
        ("/\\evil.example", "/home"),
        ("https://evil.example/", "/home"),
        ("javascript:alert(1)", "/home"),
        ("/designer\r\nX-Injected: 1", "/home"),
        ("", "/home"),
        (None, "/home"),
    ],
)
def test_next_is_only_followed_to_paths_of_this_site(target: str | None, expected: str) -> None:
    assert safe_next(target, "/home") == expected


def test_login_redirects_to_a_safe_next_only(app: Any) -> None:
    safe = sign_in_client(app.test_client(), "designer", next="/designer?x=1")
    assert safe.location == "/designer?x=1"
    evil = sign_in_client(app.test_client(), "designer", next="//evil.example")
    assert evil.location == "/designer"


def test_logout_ends_the_session_on_the_server(client: FlaskClient, factory: Any) -> None:
    sign_in_client(client, "designer")
    token = client.get_cookie(web_session.COOKIE).value
    csrf = csrf_of(client)

    refused = client.post("/logout", data={"csrf_token": "nope"})
    assert refused.status_code == 400
    assert client.get("/designer").status_code == 200  # still signed in

    response = client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.location == "/login"
    assert client.get_cookie(web_session.COOKIE) is None
    with factory() as s:
        row = s.scalar(select(AuthToken))
        assert row is not None and row.revoked_at is not None
    # the old cookie, replayed, no longer opens anything
    client.set_cookie(web_session.COOKIE, token)
    assert client.get("/designer").status_code == 302
    problem_of(client.get("/api/v1/tasks"), 401)


def test_designer_page_needs_a_designer(client: FlaskClient) -> None:
    anonymous = client.get("/designer?key=sop-default")
    assert anonymous.status_code == 302
    assert anonymous.location == "/login?next=/designer?key%3Dsop-default"

    sign_in_client(client, "sleman")
    refused = client.get("/designer")
    assert refused.status_code == 403 and "Akses ditolak" in refused.get_data(as_text=True)

    client.post("/logout", data={"csrf_token": csrf_of(client, "/login")})
    sign_in_client(client, "designer")
    html = client.get("/designer").get_data(as_text=True)
    assert '<meta name="csrf-token"' in html
    assert "/vendor/bpmn-js/dist/bpmn-modeler.production.min.js" in html
    for asset in ("/vendor/bpmn-js/dist/bpmn-modeler.production.min.js", "/web/static/designer.js"):
        with client.get(asset) as served:
            assert served.status_code == 200


def test_english_after_switching_and_remembered(client: FlaskClient) -> None:
    assert "Masuk petugas" in client.get("/login").get_data(as_text=True)
    switched = client.get("/login?lang=en")
    html = switched.get_data(as_text=True)
    assert '<html lang="en">' in html and "Staff sign-in" in html and "Password" in html
    assert "lapor_lang=en" in set_cookie(switched, "lapor_lang")
    assert "Staff sign-in" in client.get("/login").get_data(as_text=True)  # from the cookie
    token = login_form(client)
    wrong = client.post("/login", data={"csrf_token": token, "username": "x", "password": "y"})
    assert "Wrong username or password." in wrong.get_data(as_text=True)
    assert "Masuk petugas" in client.get("/login?lang=id").get_data(as_text=True)


def test_api_accepts_the_cookie_but_unsafe_methods_need_the_csrf_header(
    client: FlaskClient,
) -> None:
    sign_in_client(client, "sleman")
    csrf = csrf_of(client, "/login")
    assert client.get("/api/v1/tasks").status_code == 200  # safe: the cookie is enough

    missing = problem_of(client.post("/api/v1/tasks/999999/claim"), 403)
    assert missing["field"] == "X-CSRF-Token" and "X-CSRF-Token" in missing["detail"]
    wrong = client.post("/api/v1/tasks/999999/claim", headers={"X-CSRF-Token": "0" * 64})
    assert problem_of(wrong, 403)["field"] == "X-CSRF-Token"
    # with the page's token the request is authenticated and reaches the endpoint
    problem_of(client.post("/api/v1/tasks/999999/claim", headers={"X-CSRF-Token": csrf}), 404)
    # a bearer header is used as before, cookie or not
    token = client.post(
        "/api/v1/auth/login", json={"username": "sleman", "password": DEMO_PASSWORD}
    ).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    problem_of(client.post("/api/v1/tasks/999999/claim", headers=bearer), 404)


def test_login_and_logout_in_a_real_browser(page: Any) -> None:
    sign_in(page, "designer", "salah")
    assert page.get_by_role("alert").inner_text() == "Nama pengguna atau kata sandi salah."

    page.get_by_role("link", name="English").click()
    assert page.get_by_role("heading").inner_text() == "Staff sign-in"
    page.get_by_label("Username").fill("designer")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/designer")
    assert page.locator("html").get_attribute("lang") == "en"
    (cookie,) = [c for c in page.context.cookies() if c["name"] == web_session.COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.get_by_role("link", name="Bahasa Indonesia").click()
    assert page.get_by_role("heading", name="Definisi proses").is_visible()
    page.get_by_role("button", name="Keluar").click()
    page.wait_for_url("**/login")
    assert page.get_by_role("heading").inner_text() == "Masuk petugas"
    assert [c for c in page.context.cookies() if c["name"] == web_session.COOKIE] == []
    page.goto("/designer")
    page.wait_for_url("**/login?next=/designer")


# --- lockout and password reset ------------------------------------------------------------

RESET_USER, RESET_EMAIL = "reset.halaman", "reset.halaman@slemankab.go.id"
NEW_PASSWORD = "sandi-baru-halaman-2026"
RESET_LINK = re.compile(r"http://127\.0\.0\.1:5000(/sandi-baru\?token=[A-Za-z0-9_-]+)")


@pytest.fixture()
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture()
def reset_account(factory: Any) -> Iterator[None]:
    """An officer with an email address and the demo password, set back afterwards."""
    user_id = ensure_user(factory, RESET_USER, [("pejabat_penghubung", None, "34.04-DPUPKP")])

    def restore() -> None:
        with factory() as s, s.begin():
            user = s.get(User, user_id)
            assert user is not None
            user.email, user.password_hash = RESET_EMAIL, auth.hash_password(DEMO_PASSWORD)

    restore()
    yield
    restore()


def reset_path(factory: Any, smtp: SmtpServer) -> str:
    """The path of the newest reset link mailed to the account."""
    deliver_due(factory, smtp=SmtpSettings(host=smtp.host, port=smtp.port))
    links = [RESET_LINK.findall(str(mail.get_content())) for mail in smtp.received()]
    return [link for found in links for link in found][-1]


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_a_locked_login_is_told_in_the_visitors_language(client: FlaskClient) -> None:
    clock.set_clock(datetime(2026, 2, 2, 2, 0, tzinfo=UTC))
    token = login_form(client)
    for _ in range(4):
        wrong = {"csrf_token": token, "username": "designer", "password": "salah"}
        assert client.post("/login", data=wrong).status_code == 401
    locked = client.post("/login", data=wrong)
    html = locked.get_data(as_text=True)
    assert locked.status_code == 429 and 'role="alert"' in html
    assert "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam 15 menit." in html
    right = {"csrf_token": token, "username": "designer", "password": DEMO_PASSWORD}
    assert client.post("/login", data=right).status_code == 429
    assert client.get_cookie(web_session.COOKIE) is None
    client.get("/login?lang=en")
    html = client.post("/login", data=right).get_data(as_text=True)
    assert "Too many failed sign-in attempts. Try again in 15 minute(s)." in html
    # an unknown username locks just the same
    nobody = {"csrf_token": token, "username": "tidak-ada", "password": "salah"}
    answers = [client.post("/login", data=nobody).status_code for _ in range(6)]
    assert answers == [401, 401, 401, 401, 429, 429]


def test_reset_forms_check_csrf_and_show_errors_next_to_fields(
    client: FlaskClient, factory: Any, smtp: SmtpServer, reset_account: None
) -> None:
    page = client.get("/lupa-sandi")
    assert page.status_code == 200 and "Lupa kata sandi" in page.get_data(as_text=True)
    csrf = form_token(page.get_data(as_text=True))
    assert client.post("/lupa-sandi", data={"login": RESET_USER}).status_code == 400
    empty = client.post("/lupa-sandi", data={"csrf_token": csrf, "login": " "})
    html = empty.get_data(as_text=True)
    assert empty.status_code == 422 and 'aria-invalid="true"' in html
    assert (
        '<p class="field-error" id="login-error">Isi nama pengguna atau alamat email.</p>' in html
    )
    known = client.post("/lupa-sandi", data={"csrf_token": csrf, "login": RESET_USER})
    unknown = client.post("/lupa-sandi", data={"csrf_token": csrf, "login": "tidak-ada"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert "Tautan berlaku 60 menit dan hanya sekali." in known.get_data(as_text=True)

    path = reset_path(factory, smtp)
    form = client.get(path)
    assert form.status_code == 200 and "Pilih kata sandi baru" in form.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', form.get_data(as_text=True))
    assert token
    data = {"csrf_token": csrf, "token": token.group(1)}
    assert client.post("/sandi-baru", data={**data, "csrf_token": "x"}).status_code == 400
    short = client.post(
        "/sandi-baru", data={**data, "password": "pendek", "password_again": "pendek"}
    )
    assert short.status_code == 422
    assert 'id="password-error">Kata sandi baru paling sedikit 12 karakter.' in short.get_data(
        as_text=True
    )
    differ = client.post(
        "/sandi-baru", data={**data, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD + "x"}
    )
    assert differ.status_code == 422
    assert 'id="password_again-error">Kedua kata sandi tidak sama.' in differ.get_data(as_text=True)

    client.get("/login?lang=en")
    done = client.post(
        "/sandi-baru", data={**data, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert done.status_code == 200 and "Password changed" in done.get_data(as_text=True)
    again = client.get(path)
    assert again.status_code == 200 and "This link does not work" in again.get_data(as_text=True)
    used = {**data, "password": "sandi-lain-lagi-2026", "password_again": "sandi-lain-lagi-2026"}
    reused = client.post("/sandi-baru", data=used)
    assert reused.status_code == 422 and "This link does not work" in reused.get_data(as_text=True)


def test_forgotten_password_in_a_real_browser(
    page: Any, factory: Any, smtp: SmtpServer, reset_account: None
) -> None:
    page.goto("/login")
    page.get_by_role("link", name="Lupa kata sandi?").click()
    page.get_by_label("Nama pengguna atau alamat email").fill(RESET_EMAIL)
    page.get_by_role("button", name="Kirim tautan atur ulang").click()
    assert "telah dikirim" in page.get_by_role("status").inner_text()

    page.goto(reset_path(factory, smtp))
    page.get_by_label("Kata sandi baru", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Ulangi kata sandi baru").fill("bukan-yang-sama-2026")
    page.get_by_role("button", name="Simpan kata sandi").click()
    assert page.locator("#password_again-error").inner_text() == "Kedua kata sandi tidak sama."
    page.get_by_label("Kata sandi baru", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Ulangi kata sandi baru").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Simpan kata sandi").click()
    page.get_by_role("link", name="Masuk dengan kata sandi baru").click()

    sign_in(page, RESET_USER, DEMO_PASSWORD)
    assert page.get_by_role("alert").inner_text() == "Nama pengguna atau kata sandi salah."
    sign_in(page, RESET_USER, NEW_PASSWORD)
    assert page.get_by_role("heading").inner_text() == "Anda sudah masuk"
    assert [c for c in page.context.cookies() if c["name"] == web_session.COOKIE]

"""Browser-test fixtures: the app in a real HTTP server thread and a headless Chromium.

Chromium is Debian's package (`make chromium` installs it); Playwright drives it through
`executable_path` and never downloads a browser. The server runs the session's test database.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.conftest import build_app

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class LiveServer:
    def __init__(self, app: Flask, server: BaseWSGIServer) -> None:
        self.app = app
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def live_server(database_url: str) -> Iterator[LiveServer]:
    """The app served over HTTP on a free loopback port, in a thread, for one test module."""
    from api.db import db

    app = build_app(database_url)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        db.engine(app).dispose()


def chromium_path() -> str:
    found = os.environ.get("LAPOR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(found):
        pytest.fail(f"Chromium not found at {found}: run `make chromium` (Debian package)")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium; per module, so Playwright's event loop ends before other tests run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture()
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser context (no cookies) whose page fails the test on any script error."""
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    errors: list[str] = []

    def console(message: Any) -> None:  # failed loads are judged by `response` below
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def response(answer: Any) -> None:  # pages may answer 4xx; their scripts and styles may not
        if answer.status >= 400 and answer.request.resource_type in {"script", "stylesheet"}:
            errors.append(f"{answer.status} {answer.url}")

    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", console)
    tab.on("response", response)
    yield tab
    context.close()
    assert not errors, f"errors in the page: {errors}"


def sign_in(tab: Any, username: str, password: str) -> None:
    """Fill in and send the login form as a person would."""
    tab.goto("/login")
    tab.get_by_label("Nama pengguna").fill(username)
    tab.get_by_label("Kata sandi").fill(password)
    tab.get_by_role("button", name="Masuk").click()


# The development server under these tests drops the open file of a static asset (our CSS and
# JS) when the browser abandons or revalidates its request mid-flight; the file is closed when
# collected, and the warning about it lands in whichever test runs then. Only that is ignored.
STATIC_FILE_LEFT_OPEN = (
    "ignore:unclosed file <_io.BufferedReader name='[^']*/api/web/static/:ResourceWarning",
    "ignore:Exception ignored in. <_io.FileIO name='[^']*/api/web/static/"
    ":pytest.PytestUnraisableExceptionWarning",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in item.nodeid.replace("\\", "/"):
            for rule in STATIC_FILE_LEFT_OPEN:
                item.add_marker(pytest.mark.filterwarnings(rule))

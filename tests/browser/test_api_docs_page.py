"""The API docs page (Swagger UI from npm) runs under the strict Content-Security-Policy: its one
inline script is allowed by the request's nonce, and nothing else inline runs (the `page` fixture
fails the test on any console error, which is how Chromium reports a CSP refusal)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import LiveServer


def test_swagger_ui_renders_every_operation_under_the_strict_policy(page: Any) -> None:
    answer = page.goto("/api/docs")
    assert answer is not None and answer.status == 200
    policy = answer.headers["content-security-policy"]
    assert "'nonce-" in policy and "'unsafe-inline'" not in policy
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() > 20
    assert page.evaluate("() => typeof window.ui") == "object"


def test_an_inline_script_without_the_nonce_is_refused(
    browser: Any, live_server: LiveServer
) -> None:
    """The control: a script injected into the same page is blocked by Chromium."""
    context = browser.new_context(base_url=live_server.url)
    try:
        tab = context.new_page()
        refused: list[str] = []
        tab.on("console", lambda message: refused.append(message.text))
        tab.goto("/api/docs")
        tab.evaluate(
            """() => { const s = document.createElement('script');
                       s.textContent = 'window.injected = true'; document.body.append(s); }"""
        )
        tab.wait_for_timeout(100)
        assert tab.evaluate("() => window.injected === undefined")
        assert any("Content Security Policy" in text for text in refused), refused
    finally:
        context.close()

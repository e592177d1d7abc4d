"""Rate limits (Flask-Limiter) on the doors anyone can knock on: public filing and staff login.

The limited routes are listed once, in `LIMITED`, by path and method, so the REST API and the
web form share one budget per client address (password and SSO logins share the login budget).
The counters live where `LAPOR_RATELIMIT_STORAGE_URI` says: `memory://` for `make run` and
tests, `redis://...` when several processes must agree (the docker compose file). A refusal is
a 429 with `Retry-After`: problem+json under `/api`, a translated page elsewhere. Agency apps
filing with a valid API key (a gateway files for many citizens from one address) are not
counted (`EXEMPT`).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, render_template, request
from flask_babel import gettext as _
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from api import errors
from engine.errors import DomainError

# (path, method) -> the setting holding its limit; routes sharing a setting share one budget.
LIMITED: dict[tuple[str, str], str] = {
    ("/api/v1/reports", "POST"): "RATELIMIT_FILING",
    ("/lapor", "POST"): "RATELIMIT_FILING",
    ("/api/v1/auth/login", "POST"): "RATELIMIT_LOGIN",
    ("/login", "POST"): "RATELIMIT_LOGIN",
    ("/masuk/sso/<code>", "GET"): "RATELIMIT_LOGIN",  # starting an SSO login
    ("/masuk/sso/callback", "GET"): "RATELIMIT_LOGIN",  # the provider's answer
}


def filed_by_an_app() -> bool:
    """Whether this request carries a valid API key allowed here (an agency app or gateway)."""
    from api.rest import auth  # here: api.rest imports the app's modules

    header = request.headers.get("Authorization", "")
    if not request.headers.get(auth.API_KEY_HEADER) and not header.lower().startswith(
        "bearer lapork_"
    ):
        return False
    try:
        return auth.current_principal().api_key_id is not None
    except DomainError:
        return False  # a wrong key is counted like anyone else, then refused by the view


# settings whose budget a request may skip, and the test that says when
EXEMPT = {"RATELIMIT_FILING": filed_by_an_app}


def init_app(app: Flask, settings: Any) -> Limiter:
    """Attach a limiter to `app` and wrap every route of `LIMITED` (a missing route is a bug)."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.RATELIMIT_STORAGE_URI,
        enabled=settings.RATELIMIT_ENABLED,
        headers_enabled=True,
        key_prefix="lapor",
        in_memory_fallback_enabled=True,  # Redis down: count in this process, keep serving
    )
    app.extensions["lapor_limiter"] = limiter  # the wrapped views hold only a weak reference
    found: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods or ()):
            name = LIMITED.get((rule.rule, method))
            if name is None:
                continue
            budget = limiter.shared_limit(
                getattr(settings, name),
                scope=name.lower(),
                methods=[method],
                exempt_when=EXEMPT.get(name),
            )
            app.view_functions[rule.endpoint] = budget(app.view_functions[rule.endpoint])
            found.add((rule.rule, method))
    missing = set(LIMITED) - found
    if missing:
        raise RuntimeError(f"rate-limited routes not in the URL map: {sorted(missing)}")
    app.register_error_handler(RateLimitExceeded, refused)
    return limiter


def refused(exc: RateLimitExceeded) -> Response | tuple[str, int]:
    """429: problem+json for the API, a page in the user's language for the web forms."""
    if request.path.startswith("/api/"):
        return errors.handle_http_exception(exc)
    page = render_template(
        "message.html",
        title=_("Terlalu banyak percobaan"),
        text=_("Terlalu banyak permintaan dari alamat Anda. Silakan coba lagi nanti."),
    )
    return page, 429

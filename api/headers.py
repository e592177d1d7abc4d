"""Security headers on every response, and the per-request nonce of the Content-Security-Policy.

Pages allow scripts and styles from this site only, plus inline `<script>` blocks that carry this
request's nonce (`{{ csp_nonce() }}` in a template; the API docs page is the one that needs it).
JSON answers forbid everything, since a browser should never render them as a document. A view
that needs its own policy (attachments are served sandboxed) sets it and is left alone.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'{nonce}; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = "max-age=31536000; includeSubDomains"


def csp_nonce() -> str:
    """This request's script nonce, made on first use (a template calls it)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return str(nonce)


def policy_for(response: Response) -> str:
    """The page policy for HTML, with the nonce only if the page used one; else the data policy."""
    if response.mimetype != "text/html":
        return DATA_POLICY
    nonce = g.get("csp_nonce")
    return PAGE_POLICY.format(nonce=f" 'nonce-{nonce}'" if nonce else "")


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", policy_for(response))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(add_security_headers)

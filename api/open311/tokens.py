"""Open311 tokens: `tokens/{token}` answers the service_request_id a POST was given.

A token is the report's tracking id and an HMAC-SHA256 of it (keyed with the app's
`SECRET_KEY`, under a label of its own), so it needs no table and only tokens this server issued
resolve: `ABCD234567-<20 hex digits>`. It reveals nothing the filing client was not told.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app

from engine.services.reports import is_tracking_id

LABEL = b"open311-token\x00"
DIGEST_CHARS = 20
SEPARATOR = "-"
HEX = frozenset("0123456789abcdef")


def _digest(tracking_id: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    mac = hmac.new(key, LABEL + tracking_id.encode("ascii"), hashlib.sha256)
    return mac.hexdigest()[:DIGEST_CHARS]


def issue(tracking_id: str) -> str:
    return f"{tracking_id}{SEPARATOR}{_digest(tracking_id)}"


def tracking_id_of(token: str) -> str | None:
    """The tracking id a token was issued for, or None when this server did not issue it."""
    tracking_id, separator, digest = token.partition(SEPARATOR)
    if not separator or not is_tracking_id(tracking_id) or len(digest) != DIGEST_CHARS:
        return None
    if not set(digest) <= HEX:  # compare_digest takes ASCII text only
        return None
    return tracking_id if hmac.compare_digest(digest, _digest(tracking_id)) else None

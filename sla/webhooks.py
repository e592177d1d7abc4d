"""Signed webhook delivery: one POST of a JSON event to an instansi's endpoint.

Every request carries these headers (documented in the README):

- `X-Lapor-Event-Id`: the event's stable id, the same on every retry (receivers drop duplicates);
- `X-Lapor-Timestamp`: unix seconds when this attempt was signed;
- `X-Lapor-Signature`: `sha256=` + hex HMAC-SHA256 with the endpoint secret over
  `"{timestamp}."` followed by the raw request body.

`verify` is the reference check a receiver can copy.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.request
from email.message import Message
from typing import IO
from urllib.error import HTTPError

from engine import clock
from sla.models import OutboxMessage, WebhookEndpoint

TIMEOUT_SECONDS = 10.0
SIGNATURE_PREFIX = "sha256="
USER_AGENT = "LAPOR-Flow-Webhook/1"


class WebhookError(Exception):
    """The receiver did not accept the event (non-2xx answer or a redirect)."""


def sign(secret: str, timestamp: str, raw_body: bytes) -> str:
    """Hex HMAC-SHA256 of `"{timestamp}." + raw_body` with `secret`."""
    payload = f"{timestamp}.".encode() + raw_body
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: str,
    raw_body: bytes,
    signature_header: str,
    *,
    tolerance_seconds: int = 300,
    now: float | None = None,
) -> bool:
    """True when `signature_header` signs `raw_body` at `timestamp` and the timestamp is fresh.

    Compares in constant time; a timestamp more than `tolerance_seconds` away from `now`
    (default: the clock) is rejected, so a captured request cannot be replayed later.
    """
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = clock.now().timestamp() if now is None else now
    if abs(current - sent_at) > tolerance_seconds:
        return False
    if not signature_header.startswith(SIGNATURE_PREFIX):
        return False
    expected = sign(secret, timestamp, raw_body)
    return hmac.compare_digest(expected, signature_header[len(SIGNATURE_PREFIX) :])


def signed_headers(secret: str, event_id: str, raw_body: bytes) -> dict[str, str]:
    """The request headers of one attempt, signed now (per the clock)."""
    timestamp = str(int(clock.now().timestamp()))
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Lapor-Event-Id": event_id,
        "X-Lapor-Timestamp": timestamp,
        "X-Lapor-Signature": SIGNATURE_PREFIX + sign(secret, timestamp, raw_body),
    }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer we do not follow: a signed POST must reach the configured URL."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect())


def post_webhook(
    message: OutboxMessage, endpoint: WebhookEndpoint, *, timeout: float = TIMEOUT_SECONDS
) -> int:
    """POST the message body, signed with the endpoint's secret; returns the 2xx status.

    Raises `WebhookError` on any other answer and `OSError` (URLError, timeouts) when the
    endpoint cannot be reached.
    """
    if not endpoint.url.lower().startswith(("http://", "https://")):
        raise WebhookError(f"webhook URL must be http(s): {endpoint.url!r}")
    raw_body = message.body.encode()
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        endpoint.url,
        data=raw_body,
        headers=signed_headers(endpoint.secret, message.event_id, raw_body),
        method="POST",
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = int(response.status)
            response.read()
    except HTTPError as exc:
        detail = _snippet(exc)
        exc.close()
        raise WebhookError(f"HTTP {exc.code} from {endpoint.url}{detail}") from None
    if not 200 <= status < 300:
        raise WebhookError(f"HTTP {status} from {endpoint.url}")
    return status


def _snippet(exc: HTTPError) -> str:
    """The start of an error answer's body, for the operator's `last_error`."""
    try:
        text = exc.read(300).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return f": {text}" if text else ""

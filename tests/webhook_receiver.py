"""A real HTTP server for webhook tests: records each POST (headers and raw body) and can
answer 500 for the next few requests, to play a receiver that is failing for a while."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered


class WebhookReceiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._failures_left = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "receiver not started"
        return f"http://{HOST}:{self._server.server_address[1]}"

    def fail_next(self, count: int) -> None:
        """Answer 500 to the next `count` requests (they are still recorded)."""
        with self._lock:
            self._failures_left = count

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            status = 500 if self._failures_left > 0 else 200
            self._failures_left = max(0, self._failures_left - 1)
            self.requests.append(Received(path, headers, body, status))
        return status

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server hook name)
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                status = receiver._handle(self.path, dict(self.headers.items()), body)
                answer = b"ok" if status == 200 else b"receiver failing"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # keep test output quiet

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

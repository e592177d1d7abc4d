"""What the Open311 tests share: API keys made through the API, an FMS-style filing form, the
calls in either format, and the app served on a loopback port for real HTTP clients."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import WSGIRequestHandler, make_server

from engine import clock
from tests.helpers import Api
from tests.open311_spec import check_errors, parse

MONDAY = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)  # 09:00 WIB, no holiday for weeks
BASE = "/open311/v2"
FORMATS = ("xml", "json")
SLEMAN, BADUNG = "34.04", "51.03"
ALL_SERVICES = 3 * 11  # three classifications, the form's eleven categories
# an FMS-style filing: what FixMyStreet's Open311 client sends (jurisdiction, api_key in the
# form, first/last name, lat/long, description with title and detail)
FILING = {
    "service_code": "pengaduan-infrastruktur",
    "jurisdiction_id": SLEMAN,
    "lat": "-7.7156",
    "long": "110.3856",
    "address_string": "Jalan Kaliurang km 10, Ngaglik",
    "email": "warga.sleman@example.org",
    "first_name": "Warga",
    "last_name": "Sleman",
    "phone": "+62 812 3456 7890",
    "description": "Jalan berlubang besar di depan pasar Ngaglik\n\n"
    "Lubang sedalam 20 cm sejak Januari, sudah dua pengendara motor jatuh.",
    "media_url": "https://foto.example.org/lubang-ngaglik.jpg",
    "device_id": "tt222111",
    "account_id": "123456",
}


class Open311:
    """Calls the facade through a Flask test client, as an agency app would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.api = Api(lambda: nullcontext(client))
        self.keys: dict[tuple[str, tuple[str, ...]], str] = {}
        clock.set_clock(MONDAY)

    def key(self, instansi: str = SLEMAN, permissions: tuple[str, ...] = ("reports:write",)) -> str:
        """An API key of `instansi` with `permissions`, made by the national admin (once)."""
        if (instansi, permissions) not in self.keys:
            response = self.api.call(
                "POST",
                "/api/v1/api-keys",
                token=self.api.login("nasional"),
                json={
                    "instansi": instansi,
                    "name": f"Aplikasi {instansi}",
                    "permissions": list(permissions),
                },
            )
            assert response.status_code == 201, response.get_json()
            self.keys[(instansi, permissions)] = response.get_json()["key"]
        return self.keys[(instansi, permissions)]

    def get(self, path: str, fmt: str = "json", **query: Any) -> Any:
        return self.client.get(f"{BASE}/{path}.{fmt}", query_string=query)

    def read(self, path: str, fmt: str = "json", **query: Any) -> Any:
        response = self.get(path, fmt, **query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return parse(response, fmt)

    def post(self, fmt: str = "json", key: str | None = "own", **fields: Any) -> Any:
        form = {**FILING, **fields}
        if key is not None:
            form["api_key"] = self.key() if key == "own" else key
        form = {k: v for k, v in form.items() if v is not None}
        return self.client.post(f"{BASE}/requests.{fmt}", data=form)

    def file(self, fmt: str = "json", **fields: Any) -> dict[str, Any]:
        response = self.post(fmt, **fields)
        assert response.status_code == 200, response.get_data(as_text=True)
        created = parse(response, fmt)
        assert len(created) == 1
        return dict(created[0])

    def refused(self, response: Any, status: int, fmt: str = "json") -> list[str]:
        assert response.status_code == status, response.get_data(as_text=True)
        return check_errors(parse(response, fmt), status)

    def forward(self, tracking_id: str, instansi: str = SLEMAN) -> None:
        self.api.complete(
            "nasional", tracking_id, {"outcome": "forward", "target_instansi": instansi}
        )


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """The app over real HTTP on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="open311-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

"""The webhook pages in a real browser: an instansi admin adds an endpoint (its secret shown
once), presses "send test", and sees the delivery in the log once the outbox delivered it to a
real local receiver, signed with that secret; the same pages in English."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest

from engine.seed.loader import DEMO_PASSWORD
from sla.outbox import deliver_due
from tests.browser.conftest import sign_in
from tests.webhook_receiver import WebhookReceiver


@pytest.fixture()
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def test_admin_adds_a_webhook_sends_a_test_and_reads_the_log(
    page: Any, factory: Any, receiver: WebhookReceiver
) -> None:
    sign_in(page, "sleman", DEMO_PASSWORD)
    page.goto("/admin/webhook")
    page.get_by_label("Kode instansi").fill("34.04")
    page.get_by_label("Alamat (URL http atau https)").fill(f"{receiver.url}/sleman")
    page.get_by_label("report.forwarded").check()
    page.get_by_role("button", name="Tambah").click()
    secret = page.locator("#webhook-secret").inner_text().strip()
    assert len(secret) >= 43
    assert page.get_by_role("cell", name="report.forwarded").is_visible()

    page.get_by_role("link", name="Log pengiriman").click()
    assert page.get_by_text("Belum ada pengiriman.").is_visible()
    page.get_by_role("button", name="Kirim peristiwa uji").click()
    assert page.get_by_role("status").inner_text().startswith("Peristiwa uji dimasukkan")
    assert page.get_by_role("cell", name="menunggu").is_visible()

    assert deliver_due(factory).sent == 1
    page.reload()
    assert page.get_by_role("cell", name="terkirim").is_visible()
    [request] = receiver.received()
    stamp, raw = request.headers["X-Lapor-Timestamp"], request.body
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    assert request.headers["X-Lapor-Signature"] == f"sha256={mac}"
    assert json.loads(raw)["type"] == "test"

    page.goto(page.url.split("?")[0] + "?lang=en")
    assert page.get_by_role("heading", name="Webhook delivery log").is_visible()
    assert page.get_by_role("cell", name="sent", exact=True).is_visible()
    page.get_by_role("button", name="Deactivate").click()
    assert page.get_by_role("status").inner_text() == "Webhook deactivated."
    assert page.get_by_role("button", name="Send a test event").count() == 0


def test_a_bad_address_is_named_next_to_its_field(page: Any) -> None:
    sign_in(page, "sleman", DEMO_PASSWORD)
    page.goto("/admin/webhook")
    page.get_by_label("Kode instansi").fill("34.04")
    page.get_by_label("Alamat (URL http atau https)").fill("ftp://example.org/hook")
    page.get_by_role("button", name="Tambah").click()
    assert page.locator("#url-error").is_visible()
    assert page.get_by_label("Alamat (URL http atau https)").get_attribute("aria-invalid") == "true"

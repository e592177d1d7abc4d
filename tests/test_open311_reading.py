"""The Open311 facade's reading side: lists and single requests as the public views show them
(published, non-rahasia; masked, redacted; no anonim identity), status and status notes through
a report's life with the SLA due moment, and existing clients reading (and FixMyStreet filing)
over real HTTP. Filing, services and errors: tests/test_open311.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from georeport import GeoReport

from engine import clock
from tests.open311_spec import check_requests, xml_root
from tests.open311_world import ALL_SERVICES, BADUNG, FILING, FORMATS, SLEMAN, Open311, served


@pytest.fixture()
def o311(client: FlaskClient) -> Open311:
    return Open311(client)


# -- reading -----------------------------------------------------------------------------------


def test_lists_hold_only_published_non_rahasia_reports_and_filter_as_the_spec_says(
    o311: Open311,
) -> None:
    api = o311.api
    road = api.file(title="Jalan rusak di Jalan Kaliurang km 10")["tracking_id"]
    clock.set_clock(datetime(2026, 2, 3, 2, 0, tzinfo=UTC))
    clinic = api.file(category="kesehatan", title="Antrean panjang di puskesmas Depok")
    hidden = api.file(rahasia=True, title="Dugaan pungutan liar di kantor kecamatan")
    pending = api.file(title="Lampu jalan mati di Jalan Magelang")["tracking_id"]
    bali = api.file(region_code=BADUNG, target_instansi=BADUNG, title="Sampah di pantai Kuta")
    for tracking in (road, clinic["tracking_id"], hidden["tracking_id"]):
        o311.forward(tracking)
    o311.forward(bali["tracking_id"], BADUNG)

    for fmt in FORMATS:
        listed = o311.read("requests", fmt)
        check_requests(listed)
        newest_first = [item["service_request_id"] for item in listed]
        assert newest_first == [bali["tracking_id"], clinic["tracking_id"], road]
    text = o311.get("requests", "xml").get_data(as_text=True)
    assert hidden["tracking_id"] not in text and "pungutan" not in text
    assert pending not in text  # not verified yet: not published

    def ids(**query: Any) -> list[str]:
        return [item["service_request_id"] for item in o311.read("requests", **query)]

    assert ids(jurisdiction_id=SLEMAN) == [clinic["tracking_id"], road]
    assert ids(jurisdiction_id="34") == [clinic["tracking_id"], road]  # the province's regions
    assert ids(jurisdiction_id=BADUNG) == [bali["tracking_id"]]
    assert ids(jurisdiction_id="KEMENKES") == []
    assert ids(service_code="pengaduan-kesehatan,aspirasi-lingkungan") == [clinic["tracking_id"]]
    assert ids(service_code="tidak-ada") == []
    assert ids(status="closed") == [] and len(ids(status="open,closed")) == 3
    assert ids(start_date="2026-02-03T00:00:00Z") == [bali["tracking_id"], clinic["tracking_id"]]
    assert ids(end_date="2026-02-02T23:59:59+07:00") == [road]
    assert ids(start_date="2026-02-02", end_date="2026-02-02T23:59:59Z") == [road]
    assert ids(page_size="1", page="2") == [clinic["tracking_id"]]
    # service_request_id overrides every other parameter; a rahasia report is never found
    asked = f"{road},{hidden['tracking_id']},{pending},NOTANID"
    assert ids(service_request_id=asked, status="closed") == [road, pending]
    assert o311.refused(o311.get("requests", jurisdiction_id="NOPE"), 404)
    for fmt in FORMATS:
        assert o311.refused(o311.get(f"requests/{hidden['tracking_id']}", fmt), 404, fmt) == [
            f"service_request_id: no service request '{hidden['tracking_id']}'"
        ]


@pytest.mark.parametrize(
    ("query", "description"),
    [
        ({"start_date": "2025-01-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "end_date:"),
        ({"start_date": "2026-02-02T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "start_date:"),
        ({"start_date": "2026-02-02T09:00:00"}, "start_date: must include its time zone"),
        ({"end_date": "kemarin"}, "end_date: a W3C date-time"),
        ({"end_date": "0001-01-01T00:00:00+14:00"}, "end_date: a year from 1970 to 9000"),
        ({"start_date": "9999-12-31T23:59:59Z"}, "start_date: a year from 1970 to 9000"),
        ({"start_date": "2026-02-30"}, "start_date: a W3C date-time"),
        ({"status": "pending"}, "status: Must be one of: open, closed."),
        ({"page_size": "5000"}, "page_size:"),
        ({"service_request_id": ",".join(["ABCDEFGHJK"] * 101)}, "service_request_id: at most"),
    ],
)
def test_bad_list_parameters_are_400(
    o311: Open311, query: dict[str, str], description: str
) -> None:
    for fmt in FORMATS:
        (found,) = o311.refused(o311.get("requests", fmt, **query), 400, fmt)
        assert found.startswith(description), found


def test_status_notes_and_the_sla_follow_the_report_to_closed(o311: Open311) -> None:
    api = o311.api
    filed = api.file()  # through the REST API, which gives the pelapor's secret to rate with
    tracking = filed["tracking_id"]
    o311.forward(tracking)
    (forwarded,) = o311.read(f"requests/{tracking}")
    assert forwarded["status_notes"] == "Diteruskan ke Kabupaten Sleman"
    assert forwarded["agency_responsible"] == "Kabupaten Sleman"
    disposition = api.task_for("sleman", tracking)
    assert datetime.fromisoformat(forwarded["expected_datetime"]) == datetime.fromisoformat(
        disposition["due_at"]
    )
    api.complete("sleman", tracking, {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"})
    (handled,) = o311.read(f"requests/{tracking}")
    assert handled["status_notes"].startswith("Sedang ditangani oleh Dinas Pekerjaan Umum")
    follow_up = "Lubang sudah ditambal; hubungi 0812-3456-7890 bila rusak lagi."
    api.complete("sleman.pu", tracking, {"tindak_lanjut": follow_up})
    (answered,) = o311.read(f"requests/{tracking}", "xml")
    assert answered["status"] == "open"
    assert answered["status_notes"] == (
        "Ditindaklanjuti: Lubang sudah ditambal; hubungi 0•••-••••-••90 bila rusak lagi."
    )
    clock.set_clock(datetime(2026, 2, 9, 2, 0, tzinfo=UTC))
    api.reply(tracking, filed["secret"], kind="rating", rating=5, satisfied=True)
    for fmt in FORMATS:
        (closed,) = o311.read(f"requests/{tracking}", fmt)
        assert (closed["status"], closed["status_notes"]) == ("closed", "Selesai")
        assert closed["expected_datetime"] in (None, "")
        assert closed["updated_datetime"] == "2026-02-09T09:00:00+07:00"  # when it closed
        assert tracking in [r["service_request_id"] for r in o311.read("requests", fmt)]
    assert [r["service_request_id"] for r in o311.read("requests", status="closed")] == [tracking]


def test_an_anonim_identity_and_a_rahasia_report_never_reach_open311(o311: Open311) -> None:
    name, email, phone = "Kartini Sentinelwati", "kartini.sentinel@example.org", "+62 813 5550 4242"
    anonim = o311.file(
        first_name="Kartini",
        last_name="Sentinelwati",
        email=email,
        phone=phone,
        description=f"Jalan rusak parah di depan rumah, hubungi {phone} atau {email}.",
        **{"attribute[anonim]": "true"},
    )["service_request_id"]
    rahasia = o311.file(**{"attribute[rahasia]": "true"})
    for tracking in (anonim, rahasia["service_request_id"]):
        o311.forward(tracking)
    answers = []
    for fmt in FORMATS:
        for path, query in (
            ("requests", {}),
            ("requests", {"service_request_id": f"{anonim},{rahasia['service_request_id']}"}),
            (f"requests/{anonim}", {}),
            ("requests", {"jurisdiction_id": SLEMAN}),
        ):
            response = o311.get(path, fmt, **query)
            assert response.status_code == 200
            answers.append(response.get_data(as_text=True))
    for text in answers:
        assert anonim in text and rahasia["service_request_id"] not in text
        for sentinel in (name, "Sentinelwati", email, "5550 4242", "81355504242"):
            assert sentinel not in text, sentinel
        assert "lubang-ngaglik.jpg" not in text  # an anonim report's media link is left out
    assert o311.refused(o311.get(f"requests/{rahasia['service_request_id']}"), 404)
    # the token of a rahasia report still answers its id to the app that filed it, nothing more
    (resolved,) = o311.read(f"tokens/{rahasia['token']}")
    assert resolved["service_request_id"] == rahasia["service_request_id"]


def test_descriptions_keep_to_the_spec_length(o311: Open311) -> None:
    """The REST API takes bodies up to 20,000 characters; Open311 answers at most 4,000."""
    long_body = "Jalan rusak di banyak titik. " * 500
    tracking = o311.api.file(body=long_body)["tracking_id"]
    for fmt in FORMATS:
        (shown,) = o311.read(f"requests/{tracking}", fmt)
        assert len(shown["description"]) == 4000 and shown["description"].endswith("...")


def test_redactions_apply_to_open311_text(o311: Open311) -> None:
    tracking = o311.file(description="Jalan di depan rumah Pak Joko Susilo berlubang sejak lama.")
    tracking_id = tracking["service_request_id"]
    o311.forward(tracking_id)
    response = o311.api.call(
        "POST",
        f"/api/v1/reports/{tracking_id}/redactions",
        token=o311.api.login("sleman"),
        json={"phrases": ["Joko Susilo"]},
    )
    assert response.status_code == 201, response.get_json()
    for fmt in FORMATS:
        (shown,) = o311.read(f"requests/{tracking_id}", fmt)
        assert "Joko" not in shown["description"] and "[disamarkan]" in shown["description"]


# -- existing clients, over real HTTP ------------------------------------------------------------


@pytest.fixture()
def base_url(app: Flask) -> Any:
    with served(app) as url:
        yield url


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_georeport_client_from_pypi_reads_every_resource(
    o311: Open311, base_url: str, fmt: str
) -> None:
    tracking = o311.file()["service_request_id"]
    o311.forward(tracking)
    client = GeoReport(f"{base_url}/open311/v2", jurisdiction=SLEMAN, output_format=fmt)
    services = client.get_service_list()
    assert len(services) == ALL_SERVICES
    assert services[0]["service_code"] == "pengaduan-infrastruktur"
    definition = client.get_service_definition("pengaduan-infrastruktur")
    assert definition["service_code"] == "pengaduan-infrastruktur"
    listed = client.get_service_requests(status="open")
    found = listed if isinstance(listed, list) else [listed]  # xmltodict: one item is a dict
    assert [r["service_request_id"] for r in found] == [tracking]
    one = client.get_service_request(tracking)
    assert one["service_request_id"] == tracking and one["status"] == "open"
    assert one["status_notes"] == "Diteruskan ke Kabupaten Sleman"


def test_an_fms_client_posts_a_form_and_reads_the_id_as_fixmystreet_does(
    o311: Open311, base_url: str
) -> None:
    """FixMyStreet's Open311 client: POST form-encoded with jurisdiction_id and api_key, read
    `request/service_request_id` (else `request/token`, then `tokens/{token}.xml`) with an
    XML::Simple-style parse; an error's `error/code` and `error/description`."""
    key = o311.key()
    posted = requests.post(
        f"{base_url}/open311/v2/requests.xml",
        data={**FILING, "api_key": key, "attribute[judul]": "Jalan berlubang di Ngaglik"},
        timeout=30,
    )
    assert posted.ok, posted.text
    request = xml_root(posted.content).find("request")
    assert request is not None
    service_request_id = request.findtext("service_request_id")
    token = request.findtext("token")
    assert service_request_id and token
    by_token = requests.get(
        f"{base_url}/open311/v2/tokens/{token}.xml",
        params={"jurisdiction_id": SLEMAN},
        timeout=30,
    )
    assert xml_root(by_token.content).findtext("request/service_request_id") == (service_request_id)
    updates = requests.get(
        f"{base_url}/open311/v2/requests.xml",
        params={"jurisdiction_id": SLEMAN, "service_request_id": service_request_id},
        timeout=30,
    )
    assert xml_root(updates.content).findtext("request/status") == "open"
    refused = requests.post(
        f"{base_url}/open311/v2/requests.xml",
        data={**FILING, "api_key": key, "service_code": "999"},
        timeout=30,
    )
    assert refused.status_code == 404
    error = xml_root(refused.content).find("error")
    assert error is not None and error.findtext("code") == "404"
    assert error.findtext("description") == "service_code: no service '999'"

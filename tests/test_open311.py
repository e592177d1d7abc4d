"""The Open311 GeoReport v2 facade: discovery, services and filing in XML and JSON, checked
against the spec's field lists and errors (tests/open311_spec.py): the mapping of a POST onto a
report (service, jurisdiction, region, privacy, identity, location), API keys and who may file
where, tokens, bad input answering Open311 errors (never a 500), and the answers' headers.
Reading (lists, one request, status and SLA, privacy) and existing clients over real HTTP:
tests/test_open311_reading.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from api.headers import DATA_POLICY
from engine.models import AuditEvent, Instansi, Report, TimelineEntry
from tests.open311_spec import (
    CREATED_FIELDS,
    DISCOVERY_FIELDS,
    ENDPOINT_FIELDS,
    TOKEN_FIELDS,
    check_definition,
    check_requests,
    check_services,
    flag,
    parse,
)
from tests.open311_world import ALL_SERVICES, BADUNG, BASE, FILING, FORMATS, SLEMAN, Open311

VERIFICATION_DUE = "2026-02-05T23:59:59+07:00"  # 3 working days from Monday 2 Feb, WIB


@pytest.fixture()
def o311(client: FlaskClient) -> Open311:
    return Open311(client)


# -- discovery and services -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_the_v2_endpoint_and_its_formats(client: FlaskClient, fmt: str) -> None:
    response = client.get(f"/open311/discovery.{fmt}")
    assert response.status_code == 200
    document = parse(response, fmt)
    assert tuple(document) == DISCOVERY_FIELDS
    (endpoint,) = document["endpoints"]
    assert tuple(endpoint) == ENDPOINT_FIELDS
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://localhost/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]


def test_services_are_classification_and_category_in_both_formats(o311: Open311) -> None:
    answers = {fmt: o311.read("services", fmt) for fmt in FORMATS}
    for items in answers.values():
        check_services(items)
        assert len(items) == ALL_SERVICES
    first = answers["json"][0]
    assert first == {
        "service_code": "pengaduan-infrastruktur",
        "service_name": "Pengaduan: Infrastruktur",
        "description": "Keluhan atas pelayanan publik yang buruk, lambat, atau tidak sesuai "
        "aturan. Kategori: Infrastruktur.",
        "metadata": True,
        "type": "realtime",
        "keywords": "Pengaduan, Infrastruktur",
        "group": "Pengaduan",
    }
    xml_first = answers["xml"][0]
    assert xml_first["metadata"] == "true"
    assert {k: v for k, v in xml_first.items() if k != "metadata"} == {
        k: v for k, v in first.items() if k != "metadata"
    }
    codes = [item["service_code"] for item in answers["json"]]
    assert "permintaan_informasi-bantuan_sosial" in codes and len(set(codes)) == ALL_SERVICES
    assert {item["group"] for item in answers["json"]} == {
        "Pengaduan",
        "Aspirasi",
        "Permintaan informasi",
    }
    # a known jurisdiction changes nothing; an unknown one is a 404
    assert o311.read("services", "json", jurisdiction_id=SLEMAN) == answers["json"]
    for fmt in FORMATS:
        descriptions = o311.refused(o311.get("services", fmt, jurisdiction_id="NOPE"), 404, fmt)
        assert descriptions == ["jurisdiction_id: no instansi or region with code 'NOPE'"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_lists_the_optional_attributes(o311: Open311, fmt: str) -> None:
    document = o311.read("services/aspirasi-lingkungan", fmt)
    check_definition(document, "aspirasi-lingkungan")
    attributes = {a["code"]: a for a in document["attributes"]}
    assert list(attributes) == ["judul", "anonim", "rahasia"]
    assert not any(flag(a["required"]) for a in attributes.values())
    assert [v["key"] for v in attributes["anonim"]["values"]] == ["true", "false"]
    assert "values" not in attributes["judul"]
    missing = o311.refused(o311.get("services/aspirasi-olahraga", fmt), 404, fmt)
    assert missing == ["service_code: no service 'aspirasi-olahraga'"]


@pytest.mark.parametrize(
    ("path", "status", "description"),
    [
        ("/open311/v2/services.csv", 400, "format: '.csv' is not offered"),
        ("/open311/v2/services", 400, "format: missing"),
        ("/open311/v2/requests", 400, "format: missing"),
        ("/open311/v2/services/pengaduan-infrastruktur", 400, "format: missing"),
        ("/open311/v2/requests/ABCDEFGHJK.yaml", 400, "format: '.yaml' is not offered"),
        ("/open311/v2/tokens/abc", 400, "format: missing"),
        ("/open311/discovery.html", 400, "format: '.html' is not offered"),
        ("/open311/v2/reports.xml", 404, "no Open311 resource '/open311/v2/reports.xml'"),
        ("/open311/v3/services.json", 404, "no Open311 resource"),
    ],
)
def test_unknown_formats_and_resources_answer_open311_errors(
    client: FlaskClient, path: str, status: int, description: str
) -> None:
    response = client.get(path)
    fmt = "json" if path.endswith(".json") else "xml"  # errors: XML unless JSON was asked
    assert response.status_code == status
    (error,) = parse(response, fmt)
    assert int(error["code"]) == status and error["description"].startswith(description)


# -- filing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_fms_style_post_files_a_report_and_answers_its_tracking_id(
    o311: Open311, factory: Any, fmt: str
) -> None:
    created = o311.file(fmt)
    assert set(created) <= CREATED_FIELDS and {"service_request_id", "token"} <= set(created)
    tracking = created["service_request_id"]
    assert created["service_notice"] == (
        f"Laporan diterima dan menunggu verifikasi admin nasional, paling lambat "
        f"{VERIFICATION_DUE}."
    )
    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking))
        assert report is not None
        target = s.get(Instansi, report.target_instansi_id)
        assert (report.classification, report.category) == ("pengaduan", "infrastruktur")
        assert report.title == "Jalan berlubang besar di depan pasar Ngaglik"
        assert report.body == FILING["description"]
        assert (report.region_code, target and target.code) == (SLEMAN, SLEMAN)
        assert (report.anonim, report.rahasia) == (False, False)
        assert (report.pelapor_name, report.pelapor_email, report.pelapor_phone) == (
            "Warga Sleman",
            "warga.sleman@example.org",
            "+62 812 3456 7890",
        )
        location = s.scalar(
            select(TimelineEntry).where(
                TimelineEntry.report_id == report.id, TimelineEntry.kind == "open311"
            )
        )
        assert location is not None and not location.public
        assert location.data == {
            "lat": -7.7156,
            "long": 110.3856,
            "address_string": "Jalan Kaliurang km 10, Ngaglik",
            "media_url": "https://foto.example.org/lubang-ngaglik.jpg",
            "service_code": "pengaduan-infrastruktur",
        }
        assert "tt222111" not in str(location.text) and "Kaliurang km 10" in str(location.text)
        audited = s.scalars(
            select(AuditEvent.action).where(AuditEvent.report_id == report.id)
        ).all()
        assert "report.filed_open311" in audited and "report.filed" in audited

    (shown,) = o311.read(f"requests/{tracking}", fmt)
    check_requests([shown])
    assert shown["service_request_id"] == tracking
    assert (shown["status"], shown["status_notes"]) == (
        "open",
        "Menunggu verifikasi admin nasional",
    )
    assert shown["service_code"] == "pengaduan-infrastruktur"
    assert shown["service_name"] == "Pengaduan: Infrastruktur"
    assert shown["description"] == FILING["description"]  # the title is its first line
    assert shown["requested_datetime"] == "2026-02-02T09:00:00+07:00"
    assert shown["expected_datetime"] == VERIFICATION_DUE  # the SLA: the intake task's due
    rest = o311.api.report(tracking)
    assert datetime.fromisoformat(rest["current_due_at"]) == datetime.fromisoformat(
        VERIFICATION_DUE
    )
    assert shown["address"] == "Jalan Kaliurang km 10, Ngaglik, Kabupaten Sleman"
    assert shown["address_id"] == SLEMAN
    assert float(shown["lat"]) == -7.7156 and float(shown["long"]) == 110.3856
    assert shown["media_url"] == "https://foto.example.org/lubang-ngaglik.jpg"
    assert shown["agency_responsible"] is None  # not forwarded yet

    for token_fmt in FORMATS:
        (resolved,) = o311.read(f"tokens/{created['token']}", token_fmt)
        assert tuple(resolved) == TOKEN_FIELDS
        assert resolved == {"service_request_id": tracking, "token": created["token"]}


def test_attributes_set_title_and_privacy_and_the_key_may_come_as_a_header(
    o311: Open311, factory: Any
) -> None:
    response = o311.client.post(
        f"{BASE}/requests.json",
        data={
            **FILING,
            "service_code": "aspirasi-transportasi",
            "attribute[judul]": "Tambah halte bus di Ngaglik",
            "attribute[anonim]": "TRUE",
            "attribute[rahasia]": "false",
            "attribute[unknown]": "ignored",
            "lat": "",  # an empty optional parameter is as good as none
            "long": "",
        },
        headers={"X-API-Key": o311.key()},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    tracking = parse(response, "json")[0]["service_request_id"]
    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking))
        assert report is not None
        assert (report.classification, report.category) == ("aspirasi", "transportasi")
        assert report.title == "Tambah halte bus di Ngaglik"
        assert (report.anonim, report.rahasia) == (True, False)
    (shown,) = o311.read(f"requests/{tracking}")
    assert shown["lat"] is None and shown["media_url"] is None  # anonim: no media link
    assert shown["description"].startswith("Tambah halte bus di Ngaglik\n\nJalan berlubang")


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_api_keys_are_403(o311: Open311, fmt: str) -> None:
    missing = o311.refused(o311.post(fmt, key=None), 403, fmt)
    assert missing[0].startswith("api_key: missing")
    assert o311.refused(o311.post(fmt, key="lapork_0000_bukan"), 403, fmt) == [
        "api_key: the API key is unknown or revoked"
    ]
    reader = o311.key(permissions=("reports:read",))
    assert o311.refused(o311.post(fmt, key=reader), 403, fmt) == [
        "api_key: this API key lacks the 'reports:write' permission"
    ]
    badung = o311.key(BADUNG)
    assert o311.refused(o311.post(fmt, key=badung), 403, fmt) == [
        "jurisdiction_id: this api_key may not file reports to '34.04'"
    ]
    staff = o311.client.post(
        f"{BASE}/requests.{fmt}",
        data=FILING,
        headers={"Authorization": f"Bearer {o311.api.login('sleman')}"},
    )
    assert o311.refused(staff, 403, fmt)[0].startswith("api_key: missing")  # keys only


def test_a_revoked_key_files_nothing(o311: Open311) -> None:
    key = o311.key()
    listed = o311.api.call("GET", "/api/v1/api-keys", token=o311.api.login("nasional"))
    key_id = next(k["id"] for k in listed.get_json() if key.startswith(k["prefix"]))
    revoked = o311.api.call(
        "DELETE", f"/api/v1/api-keys/{key_id}", token=o311.api.login("nasional")
    )
    assert revoked.status_code == 200, revoked.get_json()
    assert o311.refused(o311.post(), 403) == ["api_key: the API key is unknown or revoked"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_filings_answer_400_or_404_naming_what_is_wrong(o311: Open311, fmt: str) -> None:
    def refused(status: int, **fields: Any) -> list[str]:
        return o311.refused(o311.post(fmt, **fields), status, fmt)

    # lat/long and no jurisdiction or region: which instansi or region is it for?
    (only_lat_long,) = refused(400, jurisdiction_id=None, address_string=None)
    assert only_lat_long.startswith("jurisdiction_id: missing.")
    assert "address_id" in only_lat_long
    assert refused(404, service_code="pengaduan-olahraga") == [
        "service_code: no service 'pengaduan-olahraga'"
    ]
    assert refused(404, jurisdiction_id="99.99") == [
        "jurisdiction_id: no instansi or region with code '99.99'"
    ]
    kemenkes = o311.key("KEMENKES")
    (central,) = refused(400, key=kemenkes, jurisdiction_id="KEMENKES")
    assert central.startswith("address_id: missing. 'KEMENKES' is a central instansi")
    assert refused(400, address_id="51.03") == [
        "address_id: region '51.03' is outside jurisdiction '34.04'"
    ]
    assert refused(400, address_id="99") == ["address_id: no region with code '99'"]
    assert refused(400, long=None) == ["long: lat and long are sent together"]
    assert refused(400, lat=None, long=None, address_string=None) == [
        "location: a location is required: lat and long, address_string or address_id"
    ]
    several = refused(400, description="Rusak", lat="91", email="bukan-email")
    assert sorted(d.split(":")[0] for d in several) == ["description", "email", "lat"]
    assert refused(400, **{"attribute[anonim]": "mungkin", "attribute[judul]": "Ab"}) == [
        "attribute[judul]: Length must be between 5 and 200.",
        "attribute[anonim]: Must be one of: true, false.",
    ]
    assert refused(400, description="Jalan rusak parah \x00 di depan pasar") == [
        "description: Text must not contain NUL characters."
    ]
    assert refused(400, media_url="javascript:alert(1)") == ["media_url: Not a valid URL."]


def test_who_may_file_where(o311: Open311) -> None:
    """A key files to its own instansi, one it supervises (a province for its regencies,
    KemenPANRB anywhere), or a region it governs; a central instansi names the region."""
    province = o311.key("34")
    national = o311.key("KEMENPANRB")
    kemenkes = o311.key("KEMENKES")
    assert o311.file(key=province)  # DI Yogyakarta supervises Sleman
    assert o311.file(key=national, jurisdiction_id=BADUNG, address_id=None)
    assert o311.file(key=kemenkes, jurisdiction_id="KEMENKES", address_id=BADUNG)
    assert o311.file(jurisdiction_id=None, address_id=SLEMAN)  # Sleman's own region
    refused = o311.refused(o311.post(key=kemenkes, jurisdiction_id=SLEMAN), 403)
    assert refused == ["jurisdiction_id: this api_key may not file reports to '34.04'"]
    assert o311.refused(o311.post(jurisdiction_id="34"), 403)  # Sleman does not supervise DIY


@pytest.mark.parametrize(
    ("token", "fmt"), [("ABCDEFGHJK-0123456789abcdef0123", "xml"), ("x", "json")]
)
def test_tokens_this_server_did_not_issue_are_404(o311: Open311, token: str, fmt: str) -> None:
    assert o311.refused(o311.get(f"tokens/{token}", fmt), 404, fmt) == [
        f"token: no token '{token}'"
    ]


def test_answers_carry_the_security_headers_and_cors_for_reading(o311: Open311) -> None:
    read = o311.get("services", "xml")
    assert read.headers["Content-Security-Policy"] == DATA_POLICY
    assert read.headers["X-Content-Type-Options"] == "nosniff"
    assert read.headers["Access-Control-Allow-Origin"] == "*"
    posted = o311.post()
    assert posted.headers["Content-Security-Policy"] == DATA_POLICY
    assert "Access-Control-Allow-Origin" not in posted.headers


def test_every_text_is_xml_safe(o311: Open311) -> None:
    tracking = o311.file(description="Tanda \x0b aneh <b>dan</b> & simbol di jalan Kaliurang")
    o311.forward(tracking["service_request_id"])
    (shown,) = o311.read(f"requests/{tracking['service_request_id']}", "xml")
    assert shown["description"].startswith("Tanda  aneh <b>dan</b> & simbol")


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
POST_FIELDS = (
    *FILING,
    "attribute[judul]",
    "attribute[anonim]",
    "attribute[rahasia]",
    "address_id",
)
LIST_FIELDS = (
    "jurisdiction_id",
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "status",
    "page",
    "page_size",
)
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(POST_FIELDS), TEXT, max_size=4))
def test_no_filing_input_makes_a_500(o311: Open311, changes: dict[str, str]) -> None:
    for fmt in FORMATS:
        response = o311.post(fmt, **changes)
        assert response.status_code in (200, 400, 403, 404), response.get_data(as_text=True)
        parse(response, fmt)


@FUZZ
@given(query=st.dictionaries(st.sampled_from(LIST_FIELDS), TEXT, max_size=4))
def test_no_list_parameter_makes_a_500(o311: Open311, query: dict[str, str]) -> None:
    for fmt in FORMATS:
        response = o311.get("requests", fmt, **query)
        assert response.status_code in (200, 400, 404), response.get_data(as_text=True)
        parse(response, fmt)

"""The pelapor's name, email and phone are encrypted at rest: the raw columns (read with SQL, no
ORM) hold no plaintext, the pelapor still sees their data, re-sent links still find reports by
email (a keyed blind index), a wrong key fails loudly, and migration 0009 seals existing rows
(and its downgrade opens them again)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from api.config import Settings
from engine import personal_data, schema
from engine.db import make_engine
from engine.models import Report
from engine.personal_data import PersonalDataKeyError
from sla.models import OutboxMessage
from tests.helpers import REPORT, Api

PLAIN = (REPORT["pelapor_name"], REPORT["pelapor_email"], REPORT["pelapor_phone"])
RAW = text(
    "SELECT pelapor_name, pelapor_email, pelapor_phone, pelapor_email_hmac FROM report "
    "WHERE tracking_id = :t"
)
KEY = Settings.from_env().PERSONAL_DATA_KEY
OTHER_KEY = "another-key-of-at-least-thirty-two-characters"


@pytest.fixture()
def api(app: Flask) -> Api:
    client = app.test_client()
    return Api(lambda: nullcontext(client))


@pytest.fixture()
def other_key() -> Iterator[None]:
    personal_data.configure(OTHER_KEY)
    try:
        yield
    finally:
        personal_data.configure(KEY)


def raw_row(db_engine: Any, tracking_id: str) -> Any:
    with db_engine.connect() as conn:
        return conn.execute(RAW, {"t": tracking_id}).one()


def test_raw_columns_hold_no_plaintext_and_the_pelapor_still_sees_their_data(
    api: Api, db_engine: Any, factory: Any
) -> None:
    filed = api.file()
    tracking, secret = filed["tracking_id"], filed["secret"]
    row = raw_row(db_engine, tracking)
    stored = " ".join(row)
    for value in (*PLAIN, "Sentinel", "sentinel", "0000 1111"):
        assert value not in stored
    assert all(v.startswith("v1:") for v in row[:3])
    assert len(row.pelapor_email_hmac) == 64 and row.pelapor_email_hmac != PLAIN[1]
    assert row.pelapor_email_hmac == personal_data.email_index(" SENTINEL@example.ORG ")

    with factory() as s:  # the ORM opens them
        report = s.scalar(select(Report).where(Report.tracking_id == tracking))
        assert report is not None
        assert (report.pelapor_name, report.pelapor_email, report.pelapor_phone) == PLAIN

    shown = api.call("GET", f"/api/v1/reports/{tracking}/personal-data", query={"secret": secret})
    assert shown.status_code == 200, shown.get_json()
    assert shown.get_json()["identity"] == dict(
        zip(("pelapor_name", "pelapor_email", "pelapor_phone"), PLAIN, strict=True)
    )

    again = api.file()  # the same value seals differently every time (fresh nonce)
    assert raw_row(db_engine, again["tracking_id"])[0] != row[0]


def test_resend_link_finds_reports_by_the_blind_index(api: Api, factory: Any) -> None:
    mine = api.file()
    api.file(pelapor_email="orang.lain@example.org")
    response = api.call(
        "POST", "/api/v1/reports/resend-link", json={"email": "Sentinel@Example.org"}
    )
    assert response.status_code == 202
    with factory() as s:
        [mail] = s.scalars(select(OutboxMessage)).all()
    assert mail.recipient == PLAIN[1]
    assert mine["tracking_id"] in mail.body and "orang.lain" not in mail.body


def test_a_wrong_key_fails_loudly(api: Api, factory: Any, other_key: None) -> None:
    personal_data.configure(KEY)
    filed = api.file()
    personal_data.configure(OTHER_KEY)
    with factory() as s, pytest.raises(PersonalDataKeyError, match="LAPOR_PERSONAL_DATA_KEY"):
        s.scalar(select(Report).where(Report.tracking_id == filed["tracking_id"]))
    # and a lookup by email under the wrong key finds nothing rather than the wrong thing
    assert personal_data.email_index(PLAIN[1]) != raw_row_index(factory, filed["tracking_id"])


def raw_row_index(factory: Any, tracking_id: str) -> str:
    with factory() as s:
        return str(
            s.scalar(select(Report.pelapor_email_hmac).where(Report.tracking_id == tracking_id))
        )


def test_no_key_no_personal_data() -> None:
    saved = personal_data._keys
    personal_data._keys = None
    try:
        with pytest.raises(PersonalDataKeyError, match="no personal data key configured"):
            personal_data.seal("x", column="report.pelapor_name")
    finally:
        personal_data._keys = saved
    with pytest.raises(PersonalDataKeyError, match="at least 32"):
        personal_data.configure("short")


def test_a_value_moved_to_another_column_does_not_open() -> None:
    sealed = personal_data.seal("Sentinel", column="report.pelapor_name")
    assert personal_data.open_sealed(sealed, column="report.pelapor_name") == "Sentinel"
    with pytest.raises(PersonalDataKeyError, match="cannot decrypt report.pelapor_phone"):
        personal_data.open_sealed(sealed, column="report.pelapor_phone")
    with pytest.raises(PersonalDataKeyError, match="not sealed"):
        personal_data.open_sealed("Sentinel", column="report.pelapor_name")


def test_migration_0009_seals_existing_rows_and_its_downgrade_opens_them(
    new_database: Any,
) -> None:
    url = new_database("lapor_personal_data")
    schema.upgrade(url, "0008")
    engine = make_engine(url)
    at = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO region (code, name, kind, timezone) "
                    "VALUES ('34', 'DI Yogyakarta', 'province', 'Asia/Jakarta')"
                )
            )
            for n, (name, email, phone) in enumerate(
                [PLAIN, (None, " Budi@Example.ORG", None), (None, None, None)]
            ):
                conn.execute(
                    text(
                        "INSERT INTO report (tracking_id, secret_hash, classification, category,"
                        " title, body, region_code, anonim, rahasia, pelapor_name, pelapor_email,"
                        " pelapor_phone, status, reopen_count, created_at, updated_at) VALUES"
                        " (:t, :h, 'pengaduan', 'infrastruktur', 'Judul', 'Isi', '34', :f, :f,"
                        " :name, :email, :phone, 'pending_verification', 0, :at, :at)"
                    ),
                    {
                        "t": f"MIGRATE{n:03d}",
                        "h": "0" * 64,
                        "f": False,
                        "name": name,
                        "email": email,
                        "phone": phone,
                        "at": at,
                    },
                )
        schema.upgrade(url)
        order = text(
            "SELECT pelapor_name, pelapor_email, pelapor_phone, pelapor_email_hmac FROM report "
            "ORDER BY tracking_id"
        )
        with engine.connect() as conn:
            rows = conn.execute(order).all()
        assert all(v is None or v.startswith("v1:") for row in rows for v in row[:3])
        assert "Sentinel" not in str(rows) and "Budi" not in str(rows)
        assert rows[1].pelapor_email_hmac == personal_data.email_index("budi@example.org")
        assert rows[2] == (None, None, None, None)
        with engine.connect() as conn:
            from sqlalchemy.orm import Session

            reports = Session(conn).scalars(select(Report).order_by(Report.tracking_id)).all()
            assert [(r.pelapor_name, r.pelapor_email, r.pelapor_phone) for r in reports] == [
                PLAIN,
                (None, " Budi@Example.ORG", None),
                (None, None, None),
            ]

        schema.downgrade(url, "0008")
        plain = text(
            "SELECT pelapor_name, pelapor_email, pelapor_phone FROM report ORDER BY tracking_id"
        )
        with engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(plain)] == [
                PLAIN,
                (None, " Budi@Example.ORG", None),
                (None, None, None),
            ]
    finally:
        engine.dispose()

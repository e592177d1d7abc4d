"""pelapor contact data encrypted at rest, with a blind index for email lookups

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 09:00:00

The pelapor's name, email and phone become sealed text (AES-256-GCM, format v1 of
engine.personal_data, copied here so that this migration never changes with the code), and
`pelapor_email_hmac` holds the keyed HMAC-SHA256 of the normalised email. The key comes from
LAPOR_PERSONAL_DATA_KEY, with the same development default as api.config: the migration must
run with the key the application will use.

The old columns are renamed, the new ones added and filled, the old ones dropped: no table is
rebuilt (SQLite cannot rebuild `report` under its foreign keys).
"""

import base64
import hashlib
import hmac
import os
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

DEV_KEY = "dev-only-personal-data-key-NOT-FOR-PRODUCTION"
PREFIX = "v1:"
BATCH = 1000
COLUMNS = {"pelapor_name": 200, "pelapor_email": 254, "pelapor_phone": 32}


def _root() -> bytes:
    secret = os.environ.get("LAPOR_PERSONAL_DATA_KEY") or DEV_KEY
    if len(secret) < 32:
        raise SystemExit("LAPOR_PERSONAL_DATA_KEY must be at least 32 characters")
    return secret.encode("utf-8")


def _derive(label: bytes) -> bytes:
    return hmac.new(_root(), label, hashlib.sha256).digest()


def _seal(cipher: AESGCM, plain: str, column: str) -> str:
    nonce = os.urandom(12)
    sealed = cipher.encrypt(nonce, plain.encode("utf-8"), f"report.{column}".encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def _open(cipher: AESGCM, stored: str, column: str) -> str:
    raw = base64.urlsafe_b64decode(stored[len(PREFIX) :])
    return cipher.decrypt(raw[:12], raw[12:], f"report.{column}".encode()).decode("utf-8")


def _rename(old: str, new: str) -> None:
    op.execute(f"ALTER TABLE report RENAME COLUMN {old} TO {new}")


def _drop(column: str) -> None:
    op.execute(f"ALTER TABLE report DROP COLUMN {column}")


def _copy(
    conn: sa.Connection, source: str, convert: Callable[[str, str], str], with_index: bool
) -> None:
    """Fill the new columns from `<name>{source}` in id batches, converting each value."""
    report = sa.table(
        "report",
        sa.column("id", sa.Integer()),
        *(sa.column(name, sa.Text()) for name in COLUMNS),
        *(sa.column(name + source, sa.Text()) for name in COLUMNS),
        sa.column("pelapor_email_hmac", sa.String()),
    )
    index_key = _derive(b"lapor personal data: email blind index v1")
    last = 0
    while True:
        rows = list(
            conn.execute(
                sa.select(report.c.id, *(report.c[name + source] for name in COLUMNS))
                .where(report.c.id > last)
                .order_by(report.c.id)
                .limit(BATCH)
            )
        )
        if not rows:
            return
        updates = []
        for row in rows:
            values: dict[str, object] = {"row_id": row.id}
            for name in COLUMNS:
                value = row._mapping[name + source]
                values[name] = None if value is None else convert(value, name)
            if with_index:
                email = row._mapping["pelapor_email" + source]
                values["pelapor_email_hmac"] = (
                    None
                    if email is None
                    else hmac.new(
                        index_key, email.strip().lower().encode("utf-8"), hashlib.sha256
                    ).hexdigest()
                )
            updates.append(values)
        targets: dict[str, object] = {name: sa.bindparam(name) for name in COLUMNS}
        if with_index:
            targets["pelapor_email_hmac"] = sa.bindparam("pelapor_email_hmac")
        conn.execute(
            report.update().where(report.c.id == sa.bindparam("row_id")).values(**targets),
            updates,
        )
        last = rows[-1].id


def upgrade() -> None:
    cipher = AESGCM(_derive(b"lapor personal data: AES-256-GCM v1"))
    for name in COLUMNS:
        _rename(name, f"{name}_plain")
        op.add_column("report", sa.Column(name, sa.Text(), nullable=True))
    op.add_column("report", sa.Column("pelapor_email_hmac", sa.String(length=64), nullable=True))
    _copy(op.get_bind(), "_plain", lambda v, n: _seal(cipher, v, n), with_index=True)
    for name in COLUMNS:
        _drop(f"{name}_plain")
    op.create_index(
        op.f("ix_report_pelapor_email_hmac"), "report", ["pelapor_email_hmac"], unique=False
    )


def downgrade() -> None:
    cipher = AESGCM(_derive(b"lapor personal data: AES-256-GCM v1"))
    op.drop_index(op.f("ix_report_pelapor_email_hmac"), table_name="report")
    for name, length in COLUMNS.items():
        _rename(name, f"{name}_sealed")
        op.add_column("report", sa.Column(name, sa.String(length=length), nullable=True))
    _copy(op.get_bind(), "_sealed", lambda v, n: _open(cipher, v, n), with_index=False)
    for name in COLUMNS:
        _drop(f"{name}_sealed")
    _drop("pelapor_email_hmac")

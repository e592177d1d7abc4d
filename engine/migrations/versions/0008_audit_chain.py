"""audit hash chain and HMAC checkpoints

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 09:30:00

Existing events are chained here, in id order per report (and one chain for the events without
a report), with the same canonical encoding as engine.services.audit (format 1, copied so that
this migration never changes with the code), so an upgraded database verifies clean.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
BATCH = 1000  # reports per round trip while chaining existing events

events = sa.table(
    "audit_event",
    sa.column("id", sa.Integer()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("report_id", sa.Integer()),
    sa.column("instance_id", sa.Integer()),
    sa.column("task_id", sa.Integer()),
    sa.column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
    sa.column("seq", sa.Integer()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(Decimal(repr(value)))
    return value


def _hash(row: Any, seq: int, prev_hash: str) -> str:
    at = row.at if row.at.tzinfo is not None else row.at.replace(tzinfo=UTC)  # SQLite: UTC
    document = {
        "v": 1,
        "seq": seq,
        "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": row.actor,
        "action": row.action,
        "report_id": row.report_id,
        "instance_id": row.instance_id,
        "task_id": row.task_id,
        "data": row.data,
        "prev_hash": prev_hash,
    }
    encoded = json.dumps(
        _plain(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()
    return hashlib.sha256(encoded).hexdigest()


def _chain_rows(conn: sa.Connection, rows: list[Any]) -> None:
    """Number and hash `rows` (events sorted by chain, then id)."""
    updates, chain, seq, prev = [], object(), 0, GENESIS
    for row in rows:
        if row.report_id != chain:
            chain, seq, prev = row.report_id, 0, GENESIS
        seq += 1
        digest = _hash(row, seq, prev)
        updates.append({"row_id": row.id, "seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
    if updates:
        stmt = (
            events.update()
            .where(events.c.id == sa.bindparam("row_id"))
            .values(
                seq=sa.bindparam("seq"),
                prev_hash=sa.bindparam("prev_hash"),
                hash=sa.bindparam("hash"),
            )
        )
        conn.execute(stmt, updates)


def _chain_existing(conn: sa.Connection) -> None:
    columns = [c for c in events.c if c.name not in {"seq", "prev_hash", "hash"}]
    no_report = events.c.report_id.is_(None)
    _chain_rows(
        conn, list(conn.execute(sa.select(*columns).where(no_report).order_by(events.c.id)))
    )
    last = 0
    while True:
        ids = list(
            conn.scalars(
                sa.select(events.c.report_id)
                .where(events.c.report_id > last)
                .distinct()
                .order_by(events.c.report_id)
                .limit(BATCH)
            )
        )
        if not ids:
            return
        stmt = sa.select(*columns).where(events.c.report_id.between(ids[0], ids[-1]))
        _chain_rows(conn, list(conn.execute(stmt.order_by(events.c.report_id, events.c.id))))
        last = ids[-1]


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))

    _chain_existing(op.get_bind())

    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        # the unique (report_id, seq) index serves every lookup by report_id
        batch_op.drop_index(batch_op.f("ix_audit_event_report_id"))
        batch_op.create_unique_constraint(
            batch_op.f("uq_audit_event_report_id_seq"), ["report_id", "seq"]
        )
        batch_op.create_index(
            "uq_audit_event_seq_no_report",
            ["seq"],
            unique=True,
            sqlite_where=sa.text("report_id IS NULL"),
            postgresql_where=sa.text("report_id IS NULL"),
        )

    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_audit_checkpoint_report_id_report")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoint")),
    )
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_checkpoint_report_id_seq", ["report_id", "seq"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_checkpoint_report_id_seq")

    op.drop_table("audit_checkpoint")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("uq_audit_event_seq_no_report")
        batch_op.drop_constraint(batch_op.f("uq_audit_event_report_id_seq"), type_="unique")
        batch_op.create_index(batch_op.f("ix_audit_event_report_id"), ["report_id"], unique=False)
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")

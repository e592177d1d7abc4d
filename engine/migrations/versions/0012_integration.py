"""idempotent filing, report channels, the change feed and webhook subscriptions

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 09:00:00

New tables only, plus three nullable/defaulted columns on `webhook_endpoint`: additive, so a
running older release keeps working while this migration runs.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_channel",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("external_ref", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_key.id"], name=op.f("fk_report_channel_api_key_id_api_key")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_report_channel_report_id_report")
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_report_channel")),
    )
    op.create_index(
        op.f("ix_report_channel_api_key_id"), "report_channel", ["api_key_id"], unique=False
    )
    op.create_table(
        "idempotency_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caller", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_idempotency_record_report_id_report")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_record")),
        sa.UniqueConstraint("caller", "key", name="uq_idempotency_record_caller_key"),
    )
    op.create_index(
        op.f("ix_idempotency_record_created_at"),
        "idempotency_record",
        ["created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_idempotency_record_report_id"), "idempotency_record", ["report_id"], unique=False
    )
    op.create_table(
        "change_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("instansi_id", sa.Integer(), nullable=True),
        sa.Column("channel_key_id", sa.Integer(), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_key_id"], ["api_key.id"], name=op.f("fk_change_event_channel_key_id_api_key")
        ),
        sa.ForeignKeyConstraint(
            ["instansi_id"], ["instansi.id"], name=op.f("fk_change_event_instansi_id_instansi")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_change_event_report_id_report")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_change_event_event_id")),
        sa.UniqueConstraint("seq", name=op.f("uq_change_event_seq")),
    )
    op.create_index(
        "ix_change_event_instansi_seq", "change_event", ["instansi_id", "seq"], unique=False
    )
    op.create_index(
        "ix_change_event_channel_seq", "change_event", ["channel_key_id", "seq"], unique=False
    )
    op.create_index(op.f("ix_change_event_report_id"), "change_event", ["report_id"], unique=False)
    op.create_table(
        "change_sequence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_sequence")),
    )
    op.execute("INSERT INTO change_sequence (id, last_seq) VALUES (1, 0)")
    op.add_column(
        "webhook_endpoint",
        sa.Column("source", sa.String(length=16), server_default="instansi", nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":  # SQLite adds a reference only inline
        op.execute(
            "ALTER TABLE webhook_endpoint ADD COLUMN api_key_id INTEGER "
            "CONSTRAINT fk_webhook_endpoint_api_key_id_api_key REFERENCES api_key (id)"
        )
    else:
        op.add_column("webhook_endpoint", sa.Column("api_key_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_webhook_endpoint_api_key_id_api_key"),
            "webhook_endpoint",
            "api_key",
            ["api_key_id"],
            ["id"],
        )
    op.add_column("webhook_endpoint", sa.Column("event_types", JSON, nullable=True))
    op.create_index(
        op.f("ix_webhook_endpoint_api_key_id"), "webhook_endpoint", ["api_key_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_endpoint_api_key_id"), table_name="webhook_endpoint")
    with op.batch_alter_table("webhook_endpoint") as batch_op:
        batch_op.drop_column("event_types")
        batch_op.drop_column("api_key_id")
        batch_op.drop_column("source")
    op.drop_table("change_sequence")
    op.drop_index(op.f("ix_change_event_report_id"), table_name="change_event")
    op.drop_index("ix_change_event_channel_seq", table_name="change_event")
    op.drop_index("ix_change_event_instansi_seq", table_name="change_event")
    op.drop_table("change_event")
    op.drop_index(op.f("ix_idempotency_record_report_id"), table_name="idempotency_record")
    op.drop_index(op.f("ix_idempotency_record_created_at"), table_name="idempotency_record")
    op.drop_table("idempotency_record")
    op.drop_index(op.f("ix_report_channel_api_key_id"), table_name="report_channel")
    op.drop_table("report_channel")

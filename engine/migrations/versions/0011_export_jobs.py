"""background report exports

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 09:00:00

One new table (`export_job`): additive, so a running older release keeps working meanwhile.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("scope", JSON, nullable=False),
        sa.Column("filters", JSON, nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=64), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["app_user.id"], name=op.f("fk_export_job_requester_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_job")),
    )
    op.create_index(
        op.f("ix_export_job_requester_id"), "export_job", ["requester_id"], unique=False
    )
    op.create_index(op.f("ix_export_job_state"), "export_job", ["state"], unique=False)
    op.create_index(op.f("ix_export_job_finished_at"), "export_job", ["finished_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_export_job_finished_at"), table_name="export_job")
    op.drop_index(op.f("ix_export_job_state"), table_name="export_job")
    op.drop_index(op.f("ix_export_job_requester_id"), table_name="export_job")
    op.drop_table("export_job")

"""report duplicates: a report can be linked to a main report (bursts of the same complaint)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 07:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duplicate_of_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_report_duplicate_of_id"), ["duplicate_of_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_report_duplicate_of_id_report"), "report", ["duplicate_of_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_report_duplicate_of_id_report"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_report_duplicate_of_id"))
        batch_op.drop_column("duplicate_of_id")

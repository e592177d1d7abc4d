"""instance incidents

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:12:05.311842
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("incident", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("incident_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_column("incident_at")
        batch_op.drop_column("incident")

"""definition releases: which version of a key is current (deploy or roll back)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_definition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("release_seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE process_definition SET release_seq = version, released_at = created_at")
    with op.batch_alter_table("process_definition", schema=None) as batch_op:
        batch_op.alter_column("release_seq", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column(
            "released_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_process_definition_key_release_seq"), ["key", "release_seq"]
        )


def downgrade() -> None:
    with op.batch_alter_table("process_definition", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_process_definition_key_release_seq"), type_="unique"
        )
        batch_op.drop_column("released_at")
        batch_op.drop_column("release_seq")

"""OpenID Connect login per instansi

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 09:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oidc_provider",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instansi_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("client_secret", sa.Text(), nullable=False),  # sealed (AES-256-GCM)
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "email_domains",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instansi_id"], ["instansi.id"], name=op.f("fk_oidc_provider_instansi_id_instansi")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_provider")),
        sa.UniqueConstraint("instansi_id", name=op.f("uq_oidc_provider_instansi_id")),
    )
    op.create_table(
        "oidc_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_oidc_link_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_link")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_oidc_link_issuer_subject")),
    )
    with op.batch_alter_table("oidc_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_link_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oidc_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_link_user_id"))
    op.drop_table("oidc_link")
    op.drop_table("oidc_provider")

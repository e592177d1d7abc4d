"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 03:47:12.078033
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "region",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=16), nullable=True),
        sa.Column("timezone", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["region.code"], name=op.f("fk_region_parent_code_region")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_region")),
    )
    with op.batch_alter_table("region", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_region_parent_code"), ["parent_code"], unique=False)

    op.create_table(
        "scheduler_heartbeat",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_heartbeat")),
    )
    op.create_table(
        "auth_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_auth_token_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_token_token_hash")),
    )
    with op.batch_alter_table("auth_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "instansi",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("timezone", sa.String(length=32), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(length=16), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["region.code"], name=op.f("fk_instansi_region_code_region")
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"], ["instansi.id"], name=op.f("fk_instansi_supervisor_id_instansi")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instansi")),
        sa.UniqueConstraint("code", name=op.f("uq_instansi_code")),
    )
    with op.batch_alter_table("instansi", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instansi_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_instansi_region_code"), ["region_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_instansi_supervisor_id"), ["supervisor_id"], unique=False
        )

    op.create_table(
        "process_definition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("instansi_id", sa.Integer(), nullable=True),
        sa.Column("process_id", sa.String(length=128), nullable=False),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column(
            "task_meta", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instansi_id"],
            ["instansi.id"],
            name=op.f("fk_process_definition_instansi_id_instansi"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_definition")),
        sa.UniqueConstraint("key", "checksum", name=op.f("uq_process_definition_key_checksum")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_process_definition_key_version")),
    )
    with op.batch_alter_table("process_definition", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_process_definition_instansi_id"), ["instansi_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_process_definition_key"), ["key"], unique=False)

    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instansi_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["instansi_id"], ["instansi.id"], name=op.f("fk_unit_instansi_id_instansi")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_unit_code")),
    )
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_instansi_id"), ["instansi_id"], unique=False)

    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracking_id", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("classification", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("target_instansi_id", sa.Integer(), nullable=True),
        sa.Column("current_instansi_id", sa.Integer(), nullable=True),
        sa.Column("current_unit_id", sa.Integer(), nullable=True),
        sa.Column("anonim", sa.Boolean(), nullable=False),
        sa.Column("rahasia", sa.Boolean(), nullable=False),
        sa.Column("pelapor_name", sa.String(length=200), nullable=True),
        sa.Column("pelapor_email", sa.String(length=254), nullable=True),
        sa.Column("pelapor_phone", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["current_instansi_id"],
            ["instansi.id"],
            name=op.f("fk_report_current_instansi_id_instansi"),
        ),
        sa.ForeignKeyConstraint(
            ["current_unit_id"], ["unit.id"], name=op.f("fk_report_current_unit_id_unit")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["region.code"], name=op.f("fk_report_region_code_region")
        ),
        sa.ForeignKeyConstraint(
            ["target_instansi_id"],
            ["instansi.id"],
            name=op.f("fk_report_target_instansi_id_instansi"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report")),
        sa.UniqueConstraint("tracking_id", name=op.f("uq_report_tracking_id")),
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_report_current_instansi_id"), ["current_instansi_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_report_current_unit_id"), ["current_unit_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_report_region_code"), ["region_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_report_target_instansi_id"), ["target_instansi_id"], unique=False
        )

    op.create_table(
        "role_membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("instansi_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["instansi_id"], ["instansi.id"], name=op.f("fk_role_membership_instansi_id_instansi")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_role_membership_unit_id_unit")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_role_membership_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_membership")),
        sa.UniqueConstraint(
            "user_id",
            "role",
            "instansi_id",
            "unit_id",
            name=op.f("uq_role_membership_user_id_role_instansi_id_unit_id"),
        ),
    )
    with op.batch_alter_table("role_membership", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_role_membership_instansi_id"), ["instansi_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_role_membership_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_role_membership_user_id"), ["user_id"], unique=False)

    op.create_table(
        "process_instance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("instansi_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("serializer_version", sa.String(length=16), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["process_definition.id"],
            name=op.f("fk_process_instance_definition_id_process_definition"),
        ),
        sa.ForeignKeyConstraint(
            ["instansi_id"], ["instansi.id"], name=op.f("fk_process_instance_instansi_id_instansi")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["process_instance.id"],
            name=op.f("fk_process_instance_parent_id_process_instance"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_process_instance_report_id_report")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_instance")),
    )
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_process_instance_definition_id"), ["definition_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_process_instance_instansi_id"), ["instansi_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_process_instance_parent_id"), ["parent_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_process_instance_report_id"), ["report_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_process_instance_status"), ["status"], unique=False)

    op.create_table(
        "timeline_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_timeline_entry_report_id_report")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_entry")),
    )
    with op.batch_alter_table("timeline_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_timeline_entry_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "human_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("task_guid", sa.String(length=36), nullable=False),
        sa.Column("bpmn_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lane", sa.String(length=128), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("milestone", sa.String(length=32), nullable=True),
        sa.Column("instansi_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_by_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["app_user.id"], name=op.f("fk_human_task_assignee_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["completed_by_id"],
            ["app_user.id"],
            name=op.f("fk_human_task_completed_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_human_task_instance_id_process_instance"),
        ),
        sa.ForeignKeyConstraint(
            ["instansi_id"], ["instansi.id"], name=op.f("fk_human_task_instansi_id_instansi")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_human_task_report_id_report")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_human_task_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_human_task")),
        sa.UniqueConstraint("task_guid", name=op.f("uq_human_task_task_guid")),
    )
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_human_task_assignee_id"), ["assignee_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_human_task_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_human_task_instance_id"), ["instance_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_human_task_instansi_id"), ["instansi_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_human_task_report_id"), ["report_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_human_task_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_human_task_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_audit_event_instance_id_process_instance"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_audit_event_report_id_report")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["human_task.id"], name=op.f("fk_audit_event_task_id_human_task")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_report_id"), ["report_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_report_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))

    op.drop_table("audit_event")
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_human_task_unit_id"))
        batch_op.drop_index(batch_op.f("ix_human_task_status"))
        batch_op.drop_index(batch_op.f("ix_human_task_report_id"))
        batch_op.drop_index(batch_op.f("ix_human_task_instansi_id"))
        batch_op.drop_index(batch_op.f("ix_human_task_instance_id"))
        batch_op.drop_index(batch_op.f("ix_human_task_due_at"))
        batch_op.drop_index(batch_op.f("ix_human_task_assignee_id"))

    op.drop_table("human_task")
    with op.batch_alter_table("timeline_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_timeline_entry_report_id"))

    op.drop_table("timeline_entry")
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_instance_status"))
        batch_op.drop_index(batch_op.f("ix_process_instance_report_id"))
        batch_op.drop_index(batch_op.f("ix_process_instance_parent_id"))
        batch_op.drop_index(batch_op.f("ix_process_instance_instansi_id"))
        batch_op.drop_index(batch_op.f("ix_process_instance_definition_id"))

    op.drop_table("process_instance")
    with op.batch_alter_table("role_membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_membership_user_id"))
        batch_op.drop_index(batch_op.f("ix_role_membership_unit_id"))
        batch_op.drop_index(batch_op.f("ix_role_membership_instansi_id"))

    op.drop_table("role_membership")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_target_instansi_id"))
        batch_op.drop_index(batch_op.f("ix_report_status"))
        batch_op.drop_index(batch_op.f("ix_report_region_code"))
        batch_op.drop_index(batch_op.f("ix_report_current_unit_id"))
        batch_op.drop_index(batch_op.f("ix_report_current_instansi_id"))
        batch_op.drop_index(batch_op.f("ix_report_created_at"))

    op.drop_table("report")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_instansi_id"))

    op.drop_table("unit")
    with op.batch_alter_table("process_definition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_definition_key"))
        batch_op.drop_index(batch_op.f("ix_process_definition_instansi_id"))

    op.drop_table("process_definition")
    with op.batch_alter_table("instansi", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instansi_supervisor_id"))
        batch_op.drop_index(batch_op.f("ix_instansi_region_code"))
        batch_op.drop_index(batch_op.f("ix_instansi_name"))

    op.drop_table("instansi")
    with op.batch_alter_table("auth_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_token_user_id"))

    op.drop_table("auth_token")
    op.drop_table("scheduler_heartbeat")
    with op.batch_alter_table("region", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_region_parent_code"))

    op.drop_table("region")
    op.drop_table("app_user")

"""sla tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 04:14:33.785698
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clock_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fixed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offset_seconds", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clock_setting")),
    )
    op.create_table(
        "calendar_adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=True),
        sa.Column("instansi_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_calendar_adjustment_created_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["instansi_id"],
            ["instansi.id"],
            name=op.f("fk_calendar_adjustment_instansi_id_instansi"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["region.code"], name=op.f("fk_calendar_adjustment_region_code_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_adjustment")),
    )
    with op.batch_alter_table("calendar_adjustment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_adjustment_day"), ["day"], unique=False)

    op.create_table(
        "office_hours",
        sa.Column("instansi_id", sa.Integer(), nullable=False),
        sa.Column("opens", sa.String(length=5), nullable=False),
        sa.Column("closes", sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ["instansi_id"], ["instansi.id"], name=op.f("fk_office_hours_instansi_id_instansi")
        ),
        sa.PrimaryKeyConstraint("instansi_id", name=op.f("pk_office_hours")),
    )
    op.create_table(
        "sla_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instansi_id", sa.Integer(), nullable=True),
        sa.Column("milestone", sa.String(length=32), nullable=False),
        sa.Column("classification", sa.String(length=32), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=2), nullable=False),
        sa.Column("reminder", sa.Integer(), nullable=False),
        sa.Column("escalation_every", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instansi_id"], ["instansi.id"], name=op.f("fk_sla_policy_instansi_id_instansi")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policy")),
        sa.UniqueConstraint(
            "instansi_id",
            "milestone",
            "classification",
            name=op.f("uq_sla_policy_instansi_id_milestone_classification"),
        ),
    )
    with op.batch_alter_table("sla_policy", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sla_policy_instansi_id"), ["instansi_id"], unique=False
        )

    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instansi_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instansi_id"], ["instansi.id"], name=op.f("fk_webhook_endpoint_instansi_id_instansi")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoint")),
    )
    with op.batch_alter_table("webhook_endpoint", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_endpoint_instansi_id"), ["instansi_id"], unique=False
        )

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_outbox_message_report_id_report")
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhook_endpoint.id"],
            name=op.f("fk_outbox_message_webhook_id_webhook_endpoint"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_message_event_id")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_message_report_id"), ["report_id"], unique=False
        )
        batch_op.create_index("ix_outbox_pending_next", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "deadline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_deadline_instance_id_process_instance"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_deadline_report_id_report")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["human_task.id"], name=op.f("fk_deadline_task_id_human_task")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline")),
    )
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.create_index("ix_deadline_pending_due", ["status", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_deadline_report_id"), ["report_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deadline_task_id"), ["task_id"], unique=False)

    op.create_table(
        "escalation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("from_instansi_id", sa.Integer(), nullable=True),
        sa.Column("to_instansi_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_instansi_id"],
            ["instansi.id"],
            name=op.f("fk_escalation_from_instansi_id_instansi"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_escalation_report_id_report")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["human_task.id"], name=op.f("fk_escalation_task_id_human_task")
        ),
        sa.ForeignKeyConstraint(
            ["to_instansi_id"], ["instansi.id"], name=op.f("fk_escalation_to_instansi_id_instansi")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation")),
    )
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalation_report_id"), ["report_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_escalation_task_id"), ["task_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_escalation_to_instansi_id"), ["to_instansi_id"], unique=False
        )

    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["escalation_id"], ["escalation.id"], name=op.f("fk_alert_escalation_id_escalation")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_alert_report_id_report")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_alert_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_report_id"), ["report_id"], unique=False)
        batch_op.create_index("ix_alert_user_unread", ["user_id", "read_at"], unique=False)

    op.create_table(
        "deadline_firing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deadline_id", sa.Integer(), nullable=False),
        sa.Column("scheduler", sa.String(length=128), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deadline_id"], ["deadline.id"], name=op.f("fk_deadline_firing_deadline_id_deadline")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_firing")),
    )
    with op.batch_alter_table("deadline_firing", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deadline_firing_deadline_id"), ["deadline_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("deadline_firing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadline_firing_deadline_id"))

    op.drop_table("deadline_firing")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_user_unread")
        batch_op.drop_index(batch_op.f("ix_alert_report_id"))

    op.drop_table("alert")
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_to_instansi_id"))
        batch_op.drop_index(batch_op.f("ix_escalation_task_id"))
        batch_op.drop_index(batch_op.f("ix_escalation_report_id"))

    op.drop_table("escalation")
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadline_task_id"))
        batch_op.drop_index(batch_op.f("ix_deadline_report_id"))
        batch_op.drop_index("ix_deadline_pending_due")

    op.drop_table("deadline")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending_next")
        batch_op.drop_index(batch_op.f("ix_outbox_message_report_id"))

    op.drop_table("outbox_message")
    with op.batch_alter_table("webhook_endpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_endpoint_instansi_id"))

    op.drop_table("webhook_endpoint")
    with op.batch_alter_table("sla_policy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_policy_instansi_id"))

    op.drop_table("sla_policy")
    op.drop_table("office_hours")
    with op.batch_alter_table("calendar_adjustment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_adjustment_day"))

    op.drop_table("calendar_adjustment")
    op.drop_table("clock_setting")

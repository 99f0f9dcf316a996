"""alert rules, alerts, deliveries and the inbox (store/alerts.py)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tables = set(sa.inspect(op.get_bind()).get_table_names())
    if "alert_rules" not in tables:
        op.create_table(
            "alert_rules",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("kind", sa.String(32), nullable=False),
            sa.Column("scope", sa.JSON(), nullable=False),
            sa.Column("thresholds", sa.JSON(), nullable=False),
            sa.Column("channels", sa.JSON(), nullable=False),
            sa.Column("enabled", sa.Boolean(), nullable=False),
            sa.Column("created_by", sa.String(255), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_by", sa.String(255), nullable=True),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        )
    if "alerts" not in tables:
        op.create_table(
            "alerts",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column(
                "rule_id",
                sa.Integer(),
                sa.ForeignKey("alert_rules.id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column("subject", sa.String(255), nullable=False),
            sa.Column("subject_name", sa.String(255), nullable=True),
            sa.Column("state", sa.String(16), nullable=False),
            sa.Column("message", sa.Text(), nullable=False),
            sa.Column("details", sa.JSON(), nullable=False),
            sa.Column("first_fired_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("acknowledged_by", sa.String(255), nullable=True),
            sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        )
        op.create_index("ix_alerts_rule_id", "alerts", ["rule_id"])
        op.create_index("ix_alerts_rule_state", "alerts", ["rule_id", "state"])
        op.create_index("ix_alerts_first_fired_at", "alerts", ["first_fired_at"])
    if "deliveries" not in tables:
        op.create_table(
            "deliveries",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("rule_id", sa.Integer(), nullable=True),
            sa.Column("alert_id", sa.Integer(), nullable=True),
            sa.Column("alert_ids", sa.JSON(), nullable=False),
            sa.Column("channel", sa.String(16), nullable=False),
            sa.Column("target", sa.String(500), nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("http_status", sa.Integer(), nullable=True),
            sa.Column("detail", sa.Text(), nullable=True),
            sa.Column("attempt_log", sa.JSON(), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        )
        op.create_index("ix_deliveries_rule_id", "deliveries", ["rule_id"])
        op.create_index("ix_deliveries_alert_id", "deliveries", ["alert_id"])
        op.create_index("ix_deliveries_at", "deliveries", ["at"])


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("alerts")
    op.drop_table("alert_rules")

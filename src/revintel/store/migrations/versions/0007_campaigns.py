"""campaigns, their members (treated / holdout), tasks and custom templates (store/campaigns.py)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tables = set(sa.inspect(op.get_bind()).get_table_names())
    if "campaigns" not in tables:
        op.create_table(
            "campaigns",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("template", sa.String(64), nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("source", sa.String(16), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("created_by", sa.String(255), nullable=False),
            sa.Column("start_date", sa.Date(), nullable=False),
            sa.Column("end_date", sa.Date(), nullable=True),
            sa.Column("segment_id", sa.Integer(), nullable=True),
            sa.Column("audience", sa.JSON(), nullable=False),
            sa.Column("steps", sa.JSON(), nullable=False),
            sa.Column("owners", sa.JSON(), nullable=False),
            sa.Column("success_criteria", sa.JSON(), nullable=False),
            sa.Column("holdout_share", sa.Float(), nullable=False),
            sa.Column("seed", sa.Integer(), nullable=False),
            sa.Column("cost_per_customer", sa.Float(), nullable=False),
            sa.Column("as_of_month", sa.String(7), nullable=True),
            sa.Column("description", sa.Text(), nullable=True),
        )
    if "campaign_members" not in tables:
        op.create_table(
            "campaign_members",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column(
                "campaign_id",
                sa.Integer(),
                sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column("customer_id", sa.String(255), nullable=False),
            sa.Column("group", sa.String(8), nullable=False),
            sa.Column("risk_tier", sa.String(16), nullable=True),
            sa.Column("risk_at_start", sa.Float(), nullable=True),
            sa.Column("mrr_at_start", sa.Float(), nullable=True),
            sa.Column("owner", sa.String(255), nullable=True),
            sa.Column("customer_name", sa.String(255), nullable=True),
        )
        op.create_index("ix_campaign_members_campaign_id", "campaign_members", ["campaign_id"])
        op.create_index("ix_campaign_members_customer_id", "campaign_members", ["customer_id"])
    if "campaign_tasks" not in tables:
        op.create_table(
            "campaign_tasks",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column(
                "campaign_id",
                sa.Integer(),
                sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column("customer_id", sa.String(255), nullable=False),
            sa.Column("owner", sa.String(255), nullable=True),
            sa.Column("step", sa.Integer(), nullable=False),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("title", sa.String(200), nullable=False),
            sa.Column("due_date", sa.Date(), nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("outcome", sa.Text(), nullable=True),
            sa.Column("script", sa.Text(), nullable=True),
            sa.Column("subject", sa.String(300), nullable=True),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("updated_by", sa.String(255), nullable=True),
        )
        op.create_index("ix_campaign_tasks_campaign_id", "campaign_tasks", ["campaign_id"])
        op.create_index("ix_campaign_tasks_customer_id", "campaign_tasks", ["customer_id"])
        op.create_index("ix_campaign_tasks_owner", "campaign_tasks", ["owner"])
    if "campaign_templates" not in tables:
        op.create_table(
            "campaign_templates",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(64), nullable=False, unique=True),
            sa.Column("label", sa.String(200), nullable=False),
            sa.Column("description", sa.Text(), nullable=True),
            sa.Column("target", sa.Text(), nullable=True),
            sa.Column("steps", sa.JSON(), nullable=False),
            sa.Column("based_on", sa.String(64), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("created_by", sa.String(255), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("updated_by", sa.String(255), nullable=True),
        )


def downgrade() -> None:
    op.drop_table("campaign_templates")
    op.drop_table("campaign_tasks")
    op.drop_table("campaign_members")
    op.drop_table("campaigns")

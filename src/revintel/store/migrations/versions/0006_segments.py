"""saved segments and their monthly tracking (the segments area)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tables = set(sa.inspect(op.get_bind()).get_table_names())
    if "segments" not in tables:
        op.create_table(
            "segments",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(200), nullable=False, unique=True),
            sa.Column("description", sa.Text(), nullable=True),
            sa.Column("rule", sa.Text(), nullable=False),
            sa.Column("builder", sa.JSON(), nullable=True),
            sa.Column("source", sa.String(16), nullable=False),
            sa.Column("shared", sa.Boolean(), nullable=False),
            sa.Column("created_by", sa.String(255), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        )
    if "segment_snapshots" not in tables:
        op.create_table(
            "segment_snapshots",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column(
                "segment_id",
                sa.Integer(),
                sa.ForeignKey("segments.id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column("month", sa.String(7), nullable=False),
            sa.Column("rule", sa.Text(), nullable=False),
            sa.Column("customers", sa.Integer(), nullable=False),
            sa.Column("mrr", sa.Float(), nullable=False),
            sa.Column("average_risk", sa.Float(), nullable=True),
            sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
            sa.UniqueConstraint("segment_id", "month", name="uq_segment_snapshot_month"),
        )
        op.create_index("ix_segment_snapshots_segment_id", "segment_snapshots", ["segment_id"])


def downgrade() -> None:
    op.drop_table("segment_snapshots")
    op.drop_table("segments")

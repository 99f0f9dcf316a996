"""scheduled job runs and the one-run-at-a-time lock (store/jobs.py)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tables = set(sa.inspect(op.get_bind()).get_table_names())
    if "job_locks" not in tables:
        op.create_table(
            "job_locks",
            sa.Column("name", sa.String(64), primary_key=True),
            sa.Column("holder", sa.String(255), nullable=False),
            sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        )
    if "job_runs" not in tables:
        op.create_table(
            "job_runs",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("job", sa.String(64), nullable=False),
            sa.Column("trigger", sa.String(16), nullable=False),
            sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("duration_seconds", sa.Float(), nullable=True),
            sa.Column("error", sa.Text(), nullable=True),
            sa.Column("summary", sa.JSON(), nullable=False),
            sa.Column("holder", sa.String(255), nullable=True),
        )
        op.create_index("ix_job_runs_job", "job_runs", ["job"])
        op.create_index("ix_job_runs_started_at", "job_runs", ["started_at"])


def downgrade() -> None:
    op.drop_table("job_runs")
    op.drop_table("job_locks")

"""load runs record their process (pid, host, process start) to reconcile killed loads

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = (
    ("pid", sa.Integer()),
    ("host", sa.String(255)),
    ("process_started", sa.Float()),
)


def upgrade() -> None:
    # Only the columns the table lacks, so a store whose version row was set back (by hand, or
    # by a test) migrates again without failing.
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("load_runs")}
    with op.batch_alter_table("load_runs") as batch:
        for name, type_ in COLUMNS:
            if name not in present:
                batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("load_runs") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)

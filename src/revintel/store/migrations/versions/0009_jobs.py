"""scheduled job runs and the one-run-at-a-time lock (the jobs area)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa  # noqa: F401  (used once the area fills upgrade())
from alembic import op  # noqa: F401

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled by the jobs area: create its tables, skipping any that exist.
    pass


def downgrade() -> None:
    pass

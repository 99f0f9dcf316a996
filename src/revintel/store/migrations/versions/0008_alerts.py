"""alert rules, alerts, deliveries and the inbox (the alerts area)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa  # noqa: F401  (used once the area fills upgrade())
from alembic import op  # noqa: F401

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled by the alerts area: create its tables, skipping any that exist.
    pass


def downgrade() -> None:
    pass

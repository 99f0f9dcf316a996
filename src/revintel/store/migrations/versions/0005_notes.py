"""notes and logged actions on accounts (the notes area)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa  # noqa: F401  (used once the area fills upgrade())
from alembic import op  # noqa: F401

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled by the notes area: create its tables, skipping any that exist.
    pass


def downgrade() -> None:
    pass

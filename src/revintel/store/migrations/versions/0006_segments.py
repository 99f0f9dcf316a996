"""saved segments and their monthly tracking (the segments area)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa  # noqa: F401  (used once the area fills upgrade())
from alembic import op  # noqa: F401

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled by the segments area: create its tables, skipping any that exist.
    pass


def downgrade() -> None:
    pass

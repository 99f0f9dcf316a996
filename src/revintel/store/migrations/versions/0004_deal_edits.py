"""deal edits: who changed which fields of a deal, and when (PATCH /deals/{id})

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "deal_edits" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "deal_edits",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("deal_id", sa.String(255), nullable=False),
        sa.Column("edited_by", sa.String(255), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("etag_before", sa.String(64), nullable=False),
        sa.Column("etag_after", sa.String(64), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
    )
    op.create_index("ix_deal_edits_deal_id", "deal_edits", ["deal_id"])


def downgrade() -> None:
    op.drop_index("ix_deal_edits_deal_id", table_name="deal_edits")
    op.drop_table("deal_edits")

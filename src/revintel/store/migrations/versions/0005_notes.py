"""notes and logged actions on accounts (store/notes.py)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "account_notes" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "account_notes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("follow_up", sa.Date(), nullable=True),
        sa.Column("follow_up_done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_account_notes_account_id", "account_notes", ["account_id"])
    op.create_index("ix_account_notes_author", "account_notes", ["author"])
    op.create_index(
        "ix_account_notes_follow_up", "account_notes", ["follow_up", "follow_up_done_at"]
    )


def downgrade() -> None:
    op.drop_table("account_notes")

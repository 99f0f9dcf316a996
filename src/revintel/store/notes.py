"""Notes and logged actions on accounts in the app store (migration ``0005``).

Written and read by :mod:`revintel.app.retention.notes` (validation, the author-only rule, the
follow-up reminders); a note belongs to a warehouse customer by its ``account_id``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from revintel.store.models import Base


class AccountNote(Base):
    """One note or logged action (call, email, meeting, offer) on an account."""

    __tablename__ = "account_notes"
    __table_args__ = (Index("ix_account_notes_follow_up", "follow_up", "follow_up_done_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # note | call | email | meeting | offer
    text: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    follow_up: Mapped[date | None] = mapped_column(Date, nullable=True)
    # When the follow-up was marked done (None: still open, or no follow-up).
    follow_up_done_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    author: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

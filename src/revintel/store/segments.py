"""Saved segments in the app store: a named rule (with its builder form) that anyone may reuse,
and the snapshots recorded of it month by month (docs/retention.md, Segments). Migration ``0006``.

Written and read by :mod:`revintel.app.retention.segments` only; campaigns keep a segment's id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from revintel.store.models import Base


class Segment(Base):
    """A saved segment: its rule in text (the source of truth) and the builder's form of it."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    rule: Mapped[str] = mapped_column(Text)
    builder: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="rule")  # rule | builder | discovery
    shared: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SegmentSnapshot(Base):
    """What a segment's rule selected as of one month (recorded when it is tracked)."""

    __tablename__ = "segment_snapshots"
    __table_args__ = (UniqueConstraint("segment_id", "month", name="uq_segment_snapshot_month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), index=True
    )
    month: Mapped[str] = mapped_column(String(7))
    rule: Mapped[str] = mapped_column(Text)
    customers: Mapped[int] = mapped_column(Integer)
    mrr: Mapped[float] = mapped_column(Float)
    average_risk: Mapped[float | None] = mapped_column(Float, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

"""Scheduled jobs in the app store: every run (``job_runs``) and the one-run-at-a-time lock
(``job_locks``), migration ``0009``.

Used by :mod:`revintel.app.retention.jobs`. The lock is a row per job name: taken by an INSERT
(the primary key lets one process win) or, when the row's lease has expired (its holder crashed),
by an UPDATE guarded by ``expires_at < now``; each is one statement in its own transaction, so it
is atomic on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from revintel.store.models import Base


class JobLock(Base):
    """Who runs a job now, and until when the lease holds unless renewed."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))  # host:pid:token
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JobRun(Base):
    """One run of a job: who started it, when, how it ended and what it did."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(64), index=True)
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | manual | api
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # running | success | failed | skipped
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    holder: Mapped[str | None] = mapped_column(String(255), nullable=True)

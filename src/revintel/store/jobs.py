"""Scheduled jobs in the app store: every run (``job_runs``) and the one-run-at-a-time lock
(``job_locks``), migration ``0009``.

Used by :mod:`revintel.app.retention.jobs`. The lock is a row per job name: taken by an INSERT
(the primary key lets one process win) or, when the row's lease has expired (its holder crashed),
by an UPDATE guarded by ``expires_at < now``; each is one statement in its own transaction, so it
is atomic on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    Float,
    Integer,
    String,
    Text,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
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


def _as_utc(value: datetime) -> datetime:
    # SQLite drops the timezone; every timestamp stored is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def acquire_lock(
    engine: Engine, name: str, holder: str, lease_seconds: float, now: datetime | None = None
) -> bool:
    """Take the lock of job ``name`` for ``holder`` for ``lease_seconds``; False when another
    holder has it and its lease has not expired.

    Two statements, each atomic in its own transaction: an INSERT of the lock row (one of two
    concurrent inserts fails on the primary key), else an UPDATE of the row only where its lease
    has expired (PostgreSQL re-checks the condition on the row it waited for; SQLite runs one
    writer at a time), so exactly one caller wins either way.
    """
    now = now or datetime.now(UTC)
    expires = now + timedelta(seconds=lease_seconds)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(JobLock).values(
                    name=name, holder=holder, acquired_at=now, expires_at=expires
                )
            )
        return True
    except IntegrityError:
        pass
    with engine.begin() as connection:
        taken = connection.execute(
            update(JobLock)
            .where(JobLock.name == name, JobLock.expires_at < now)
            .values(holder=holder, acquired_at=now, expires_at=expires)
        )
        return taken.rowcount == 1


def renew_lock(engine: Engine, name: str, holder: str, lease_seconds: float) -> bool:
    """Extend ``holder``'s lease of the lock; False when it no longer holds it."""
    expires = datetime.now(UTC) + timedelta(seconds=lease_seconds)
    with engine.begin() as connection:
        renewed = connection.execute(
            update(JobLock)
            .where(JobLock.name == name, JobLock.holder == holder)
            .values(expires_at=expires)
        )
        return renewed.rowcount == 1


def release_lock(engine: Engine, name: str, holder: str) -> None:
    """Free the lock if ``holder`` still holds it."""
    with engine.begin() as connection:
        connection.execute(delete(JobLock).where(JobLock.name == name, JobLock.holder == holder))


def lock_of(engine: Engine, name: str) -> tuple[str, datetime, datetime] | None:
    """Who holds the lock of ``name``, since when and until when (None: nobody)."""
    with engine.connect() as connection:
        row = connection.execute(
            select(JobLock.holder, JobLock.acquired_at, JobLock.expires_at).where(
                JobLock.name == name
            )
        ).first()
    if row is None:
        return None
    return row[0], _as_utc(row[1]), _as_utc(row[2])

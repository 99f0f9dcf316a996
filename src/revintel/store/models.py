"""ORM models of the app store. Every change to them comes with an Alembic migration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class LoadRun(Base):
    """One load (CLI, upload or demo): when, which files, how many rows, the result."""

    __tablename__ = "load_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # running | success | failed | interrupted
    mode: Mapped[str] = mapped_column(String(16))  # replace | append
    source: Mapped[str] = mapped_column(String(32), default="cli")  # cli | upload | demo | api
    files: Mapped[list[str]] = mapped_column(JSON, default=list)
    tables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # table -> rows loaded
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The process running the load, so a later one can tell a live load from a killed one
    # (AppStore.reconcile_loads): its pid, host name, and start time (seconds since the epoch,
    # which tells a reused pid apart).
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    process_started: Mapped[float | None] = mapped_column(Float, nullable=True)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "status": self.status,
            "mode": self.mode,
            "source": self.source,
            "files": list(self.files or []),
            "tables": dict(self.tables or {}),
            "message": self.message,
        }


def _iso(value: datetime | None) -> str | None:
    # SQLite drops the timezone; every timestamp stored is UTC.
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


class ChurnModelVersion(Base):
    """One churn model in the registry: its training window, data, parameters, metrics, status.

    The fitted model itself is a skops file at ``home / artifact`` (``revintel.churn.registry``).
    """

    __tablename__ = "churn_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)  # churn-1m-v3 | custom-v1
    kind: Mapped[str] = mapped_column(String(16))  # warehouse | table
    horizon_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))  # candidate | production | rejected | archived
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    training_from: Mapped[str | None] = mapped_column(String(16), nullable=True)  # 2025-01
    training_to: Mapped[str | None] = mapped_column(String(16), nullable=True)
    data_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of the training frame
    source: Mapped[str] = mapped_column(Text)  # warehouse, a table file, an imported file
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    features: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # column specs
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # held-out evaluation
    importance: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)  # mean |SHAP|
    reference: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # drift reference
    artifact: Mapped[str] = mapped_column(String(255))  # path relative to home
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    parent_version: Mapped[str | None] = mapped_column(String(64), nullable=True)


class DealEdit(Base):
    """One edit of a deal through the API (``PATCH /deals/{id}``): who, when, what changed.

    The deal row and its appended history row live in the warehouse; this is the audit trail
    (``docs/pipeline.md``, Deals → Editing a deal).
    """

    __tablename__ = "deal_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deal_id: Mapped[str] = mapped_column(String(255), index=True)
    edited_by: Mapped[str] = mapped_column(String(255))
    edited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    etag_before: Mapped[str] = mapped_column(String(64))
    etag_after: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # field -> [old, new]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "deal_id": self.deal_id,
            "edited_by": self.edited_by,
            "edited_at": _iso(self.edited_at),
            "etag_before": self.etag_before,
            "etag_after": self.etag_after,
            "changes": dict(self.changes or {}),
        }

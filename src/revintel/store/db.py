"""Engine, migrations and the few queries the app store answers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from revintel.core.config import Settings
from revintel.store.models import DealEdit, LoadRun

MIGRATIONS = Path(__file__).parent / "migrations"
APPLICATION_NAME = "revintel app store"  # as PostgreSQL's pg_stat_activity shows its connections
HEAD_REVISION = "0009"
"""The newest migration's revision (a test checks it is Alembic's head). A store already there
is not handed to Alembic: importing and configuring it costs ~0.4 s on every command."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite drops the timezone; every timestamp we store is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class AppStore:
    """The app database. ``open_store`` builds it and migrates to the newest schema."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def revision(self) -> str | None:
        """The schema revision the database is at, or None if it has none (or cannot say)."""
        try:
            with self.engine.connect() as connection:
                found = connection.execute(text("SELECT version_num FROM alembic_version"))
                return found.scalar_one_or_none()
        except SQLAlchemyError:  # no alembic_version table yet
            return None

    def migrate(self) -> None:
        if self.revision() == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    # -- load history ------------------------------------------------------------------------------
    def start_load(self, files: list[str], mode: str, source: str = "cli") -> int:
        pid, host, process_started = _this_process()
        with self.session() as s:
            run = LoadRun(
                started_at=_utcnow(),
                status="running",
                mode=mode,
                source=source,
                files=files,
                tables={},
                pid=pid,
                host=host,
                process_started=process_started,
            )
            s.add(run)
            s.flush()
            return run.id

    def finish_load(
        self,
        run_id: int,
        *,
        status: str,
        tables: dict[str, int] | None = None,
        message: str | None = None,
    ) -> None:
        with self.session() as s:
            run = s.get(LoadRun, run_id)
            if run is None:  # pragma: no cover - the run was created by start_load
                return
            run.finished_at = _utcnow()
            run.status = status
            run.tables = tables or {}
            run.message = message

    def reconcile_loads(self, now: datetime | None = None) -> list[int]:
        """Mark loads whose process is gone as ``interrupted``; return their ids.

        A ``running`` load is interrupted when it ran on this host and its process (pid, with the
        process start time recorded, so a reused pid does not count) no longer runs; when it has
        no process recorded (started by a revintel before 0003); or when it ran on another host
        and started over :data:`STALE_LOAD_HOURS` hours ago (no load takes that long; a load on
        another host cannot be checked sooner). Its ``finished_at`` is when this was noticed.
        """
        now = now or _utcnow()
        found: list[int] = []
        with self.session() as s:
            running = s.scalars(select(LoadRun).where(LoadRun.status == "running")).all()
            for run in running:
                if _load_is_alive(run, now):
                    continue
                who = f"process {run.pid} on {run.host}" if run.pid is not None else "its process"
                run.status = "interrupted"
                run.finished_at = now
                run.message = (
                    f"interrupted: {who} stopped before the load finished (noticed "
                    f"{now:%Y-%m-%d %H:%M:%S} UTC). A load is atomic: the warehouse holds the "
                    "data from before it, or all of it."
                )
                found.append(run.id)
        return found

    def load_history(self, limit: int = 50) -> list[dict[str, Any]]:
        self.reconcile_loads()
        with self.session() as s:
            rows = s.scalars(select(LoadRun).order_by(LoadRun.id.desc()).limit(limit)).all()
            return [r.as_dict() for r in rows]

    def last_loaded(self) -> dict[str, datetime]:
        """For each table, when a successful load last wrote it."""
        latest: dict[str, datetime] = {}
        with self.session() as s:
            # Two columns, not whole runs: a page run reads this, and a store keeps every load
            # (500 loads: 20 ms as objects).
            runs = s.execute(
                select(LoadRun.tables, LoadRun.finished_at)
                .where(LoadRun.status == "success")
                .order_by(LoadRun.id)
            ).all()
        for tables, finished_at in runs:
            when = _aware(finished_at)
            if when is not None:
                for table in tables or {}:
                    latest[table] = when
        return latest

    # -- deal edits (PATCH /deals/{id}) -----------------------------------------------------------
    def deal_edits(self, deal_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The newest edits of a deal first: who, when, which fields changed."""
        with self.session() as s:
            rows = s.scalars(
                select(DealEdit)
                .where(DealEdit.deal_id == deal_id)
                .order_by(DealEdit.id.desc())
                .limit(limit)
            ).all()
            return [r.as_dict() for r in rows]

    def dispose(self) -> None:
        self.engine.dispose()


STALE_LOAD_HOURS = 24


def _this_process() -> tuple[int, str, float]:
    import psutil

    me = psutil.Process()
    return me.pid, socket.gethostname(), me.create_time()


def _load_is_alive(run: LoadRun, now: datetime) -> bool:
    """Whether a running load's process may still be running it (see reconcile_loads)."""
    if run.pid is None or run.process_started is None:
        return False
    if run.host != socket.gethostname():
        started = _aware(run.started_at)
        return started is not None and (now - started).total_seconds() < STALE_LOAD_HOURS * 3600
    import psutil

    try:
        process = psutil.Process(run.pid)
        return (
            abs(process.create_time() - run.process_started) < 1.0
            and process.status() != psutil.STATUS_ZOMBIE
        )
    except psutil.NoSuchProcess:  # gone (a zombie too)
        return False
    except psutil.AccessDenied:  # another user's process with that pid: it runs
        return True


def open_store(settings: Settings, *, migrate: bool = True) -> AppStore:
    """Connect to the app database named by the settings and bring its schema up to date.

    Every connection is checked before use (``pool_pre_ping``): after a PostgreSQL restart the
    first request reconnects instead of failing. A PostgreSQL store keeps at most
    ``database_pool_size`` + ``database_pool_overflow`` connections per process.
    """
    url = settings.sqlalchemy_url
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        settings.home.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs.update(
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_overflow,
            pool_timeout=settings.database_pool_timeout,
        )
        if url.startswith("postgresql"):
            kwargs["connect_args"] = {"application_name": APPLICATION_NAME}
    store = AppStore(create_engine(url, **kwargs))
    if migrate:
        store.migrate()
    return store

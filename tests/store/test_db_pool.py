"""The app store's connection pool on PostgreSQL: bounded, and checked before each use."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import sqlalchemy.exc
from sqlalchemy import text

from revintel.core.config import Settings
from revintel.store import open_store
from revintel.store.db import APPLICATION_NAME
from tests.postgres_sessions import most_sessions_while
from tests.warehouse.proxy import PostgresProxy

pytestmark = pytest.mark.postgres


def test_concurrent_sessions_never_exceed_the_pool(
    postgres_databases: Callable[[], str], tmp_path: Path
) -> None:
    url = postgres_databases()
    settings = Settings(
        home=tmp_path / "home",
        warehouse_url=None,
        database_url=url,
        database_pool_size=2,
        database_pool_overflow=1,
    )
    store = open_store(settings)
    errors: list[Exception] = []

    def use() -> None:
        try:
            with store.session() as session:
                session.execute(text("SELECT pg_sleep(0.2)"))
        except Exception as exc:
            errors.append(exc)

    most = most_sessions_while(url, use, threads=8)
    with psycopg.connect(url, autocommit=True) as conn:
        names = conn.execute(
            "SELECT DISTINCT application_name FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    store.dispose()

    assert errors == []
    assert 1 <= most <= 3, f"{most} connections for a pool of 2 + 1"
    assert names == [(APPLICATION_NAME,)]


def test_after_a_restart_the_first_use_reconnects(
    postgres_databases: Callable[[], str], tmp_path: Path
) -> None:
    database = postgres_databases().rsplit("/", 1)[1]
    proxy = PostgresProxy()
    proxy.start()
    url = proxy.url(database)
    store = open_store(Settings(home=tmp_path / "home", warehouse_url=None, database_url=url))
    try:
        store.start_load(["customers.csv"], "replace")
        store.ping()

        proxy.stop()  # the server goes down: a clear error, at once
        started = time.monotonic()
        with pytest.raises(sqlalchemy.exc.OperationalError, match="refused"):
            store.load_history()
        assert time.monotonic() - started < 5

        proxy.start()  # and comes back: the pooled connection is found dead and replaced
        assert [r["files"] for r in store.load_history()] == [["customers.csv"]]
        store.ping()
    finally:
        store.dispose()
        proxy.stop()

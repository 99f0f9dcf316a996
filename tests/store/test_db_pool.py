"""The app store's connection pool on PostgreSQL: bounded, and checked before each use."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import sqlalchemy.exc
from sqlalchemy import text

from revintel.config import Settings
from revintel.store import open_store
from revintel.store.db import APPLICATION_NAME
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
    most, done, errors = 0, threading.Event(), []

    def use() -> None:
        try:
            with store.session() as session:
                session.execute(text("SELECT pg_sleep(0.2)"))
        except Exception as exc:
            errors.append(exc)

    def watch() -> None:
        nonlocal most
        with psycopg.connect(url, autocommit=True) as conn:
            while not done.is_set():
                found = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                ).fetchone()
                most = max(most, found[0] if found else 0)
                time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    users = [threading.Thread(target=use) for _ in range(8)]
    for u in users:
        u.start()
    for u in users:
        u.join()
    done.set()
    watcher.join()
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

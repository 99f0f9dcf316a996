"""The PostgreSQL warehouse: COPY loads, staging tables of failed and killed loads, the swap's lock
timeout, and the pooled connections (bounded, checked before use, recovering from a restart)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import ibis
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from revintel.api.errors import status_of
from revintel.app.context import AppContext
from revintel.core.config import Settings
from revintel.data.schema import contract_for
from revintel.warehouse import StagedTable, Warehouse, connect
from revintel.warehouse.postgres import (
    APPLICATION_NAME,
    LOAD_LOCK,
    STAGING_PREFIX,
    PostgresWarehouse,
    WarehouseBusy,
    WarehouseUnavailable,
    close_pools,
)
from tests.postgres_sessions import most_sessions_while
from tests.warehouse.proxy import PostgresProxy
from tests.warehouse.test_warehouse import customer, stage

pytestmark = pytest.mark.postgres


def settings_for(url: str, home: Path, **overrides: Any) -> Settings:
    return Settings(home=home, warehouse_url=url, database_url=None, **overrides)


@pytest.fixture
def pg_url(postgres_databases: Callable[[], str]) -> Iterator[str]:
    """A new database for this test; this process's pools to it are closed afterwards."""
    url = postgres_databases()
    yield url
    close_pools(url)


@pytest.fixture
def pg(pg_url: str, tmp_path: Path) -> Iterator[PostgresWarehouse]:
    warehouse = connect(settings_for(pg_url, tmp_path / "home"))
    assert isinstance(warehouse, PostgresWarehouse)
    yield warehouse
    warehouse.close()


def admin(url: str) -> psycopg.Connection[Any]:
    """A plain connection to the test database (not through revintel)."""
    return psycopg.connect(url, autocommit=True)


def staging_left(url: str) -> list[str]:
    with admin(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE starts_with(tablename, %s)", [STAGING_PREFIX]
        ).fetchall()
    return sorted(r[0] for r in rows)


def customer_ids(warehouse: Warehouse) -> list[str]:
    warehouse.close()  # a fresh connection sees the newest load
    return sorted(warehouse.table("customers").customer_id.to_pyarrow().to_pylist())


def staged_arrow(folder: Path, table: str, columns: dict[str, list[Any]]) -> StagedTable:
    """Rows given column by column, written in the contract's storage schema."""
    schema = contract_for(table).arrow_schema()
    rows = len(next(iter(columns.values())))
    arrays = [pa.array(columns.get(f.name, [None] * rows), type=f.type) for f in schema]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{table}.parquet"
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), path)
    return StagedTable(table, (path,), rows)


# -- item 9: COPY keeps every value, and costs little ---------------------------------------------

AWKWARD_TEXT = [
    "",
    " ",
    "a,b",
    'say "hi"',
    "line1\nline2\r\n",
    "back\\slash",
    "\\N",
    "NULL",
    "é漢字🙂",
    "=1+2",
    "trailing  ",
    None,
]


def test_a_copy_load_keeps_every_type_value_and_null(pg: PostgresWarehouse, tmp_path: Path) -> None:
    n = len(AWKWARD_TEXT)
    staged = {
        "customers": staged_arrow(
            tmp_path / "s",
            "customers",
            {
                "customer_id": [f"C{i}" for i in range(n)],
                "signup_date": [date(1, 1, 1), date(9999, 12, 31)] + [date(2024, 2, 29)] * (n - 2),
                "segment": ["SMB"] * n,
                "country": AWKWARD_TEXT,
                "acquisition_channel": ["Organic"] * n,
                "is_active": [True, False, None] * (n // 3),
                "company_name": list(reversed(AWKWARD_TEXT)),
            },
        ),
        "subscriptions": staged_arrow(
            tmp_path / "s",
            "subscriptions",
            {
                "subscription_id": ["S1", "S2", "S3", "S4"],
                "customer_id": ["C0", "C1", "C2", "C3"],
                "plan_type": ["Basic"] * 4,
                "start_date": [date(2024, 1, 1)] * 4,
                "end_date": [None, date(2024, 5, 1), None, None],
                "monthly_price": [0.1 + 0.2, 1 / 3, 1e-300, 123456789.12345679],
                "seats": [None, 0, -(2**63), 2**63 - 1],
                "discount_pct": [None, 0.0, -0.0, 99.99],
            },
        ),
        "support_tickets": staged_arrow(
            tmp_path / "s",
            "support_tickets",
            {
                "ticket_id": ["T1", "T2", "T3"],
                "account_id": ["C0", "C1", "C2"],
                "opened_at": [
                    datetime(2024, 1, 5, 9, 0, 0, 123456),
                    datetime(1, 1, 1),
                    datetime(9999, 12, 31, 23, 59, 59, 999999),
                ],
                "closed_at": [None, datetime(2024, 3, 1, 0, 0, 0, 1), None],
                "severity": ["low", "high", "urgent"],
            },
        ),
    }
    expected = {name: pq.read_table(s.files[0]) for name, s in staged.items()}

    pg.commit(staged)

    for name, table in expected.items():
        contract = contract_for(name)
        live = pg.table(name)
        assert live.schema() == ibis.schema(contract.arrow_schema()), name  # types as before
        got = live.to_pyarrow().cast(contract.arrow_schema())
        key = contract.primary_key[0]
        assert got.sort_by(key).to_pylist() == table.sort_by(key).to_pylist(), name


def test_a_load_costs_little_cpu_per_row(pg: PostgresWarehouse, tmp_path: Path) -> None:
    """A row-by-row INSERT cost revintel ~13 µs of CPU a row (300k rows: ~4 s; 200k customers
    took 85-100 s). COPY of Arrow-made CSV costs ~1 µs. CPU time, unlike wall time, hardly
    depends on what else the shared machine runs."""
    rows = 300_000
    staged = staged_arrow(
        tmp_path / "s",
        "payments",
        {
            "payment_id": [f"P{i:07d}" for i in range(rows)],
            "customer_id": [f"C{i % 5000:05d}" for i in range(rows)],
            "payment_date": [date(2024, 1, 1 + i % 28) for i in range(rows)],
            "amount": [float(i % 997) + 0.5 for i in range(rows)],
            "payment_status": ["Success", "Failed"] * (rows // 2),
            "attempt": [1 + i % 3 for i in range(rows)],
        },
    )
    pg.list_tables()  # connected before the clock starts

    cpu = time.process_time()
    pg.commit({"payments": staged})
    cpu = time.process_time() - cpu

    assert pg.row_counts() == {"payments": rows}
    assert cpu < 1.5, f"{cpu:.2f} s of CPU for {rows} rows"


# -- item 8: no staging table outlives its load ---------------------------------------------------


def test_a_load_whose_connections_are_cut_leaves_no_staging_table(
    pg: PostgresWarehouse, pg_url: str, tmp_path: Path
) -> None:
    """The load's sessions are ended (as by a server restart) once it has committed a staging
    table: it fails, and its staging tables are dropped on a new connection."""
    pg.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
    staged = {
        "customers": stage(tmp_path / "s2", "customers", [customer("N1")]),
        "payments": staged_arrow(
            tmp_path / "s2",
            "payments",
            {
                "payment_id": [f"P{i:07d}" for i in range(200_000)],
                "customer_id": ["N1"] * 200_000,
                "payment_date": [date(2024, 1, 1)] * 200_000,
                "amount": [1.0] * 200_000,
                "payment_status": ["Success"] * 200_000,
            },
        ),
    }
    cut = threading.Event()

    def cut_the_load_once_a_staging_table_is_committed() -> None:
        with admin(pg_url) as conn:
            deadline = time.monotonic() + 60
            while not staging_left(pg_url) and time.monotonic() < deadline:
                time.sleep(0.002)
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            cut.set()

    watcher = threading.Thread(target=cut_the_load_once_a_staging_table_is_committed)
    watcher.start()
    with pytest.raises(psycopg.OperationalError):
        pg.commit(staged)
    watcher.join()

    assert cut.is_set()
    assert staging_left(pg_url) == []
    assert customer_ids(pg) == ["C1"]


def test_leftovers_are_swept_at_start_and_by_a_load_but_not_under_a_running_load(
    pg_url: str, tmp_path: Path
) -> None:
    settings = settings_for(pg_url, tmp_path / "home")
    first = connect(settings)
    first.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
    first.close()
    close_pools(pg_url)
    leftover = f"{STAGING_PREFIX}customers_killed0"
    with admin(pg_url) as running_load:
        running_load.execute(f'CREATE TABLE "{leftover}" (x int)')
        running_load.execute("SELECT pg_advisory_lock(%s)", [LOAD_LOCK])

        starting = connect(settings)  # a process starting while a load runs elsewhere
        assert starting.list_tables() == ["customers"]
        assert staging_left(pg_url) == [leftover]  # it may be that load's: kept
        starting.close()
        running_load.execute("SELECT pg_advisory_unlock(%s)", [LOAD_LOCK])  # that load ends

    close_pools(pg_url)  # the next process to start
    restarted = connect(settings)
    assert restarted.list_tables() == ["customers"]
    assert staging_left(pg_url) == []
    restarted.close()

    with admin(pg_url) as conn:
        conn.execute(f'CREATE TABLE "{leftover}" (x int)')
    restarted.commit({"customers": stage(tmp_path / "s2", "customers", [customer("C2")])})
    assert staging_left(pg_url) == []
    assert customer_ids(restarted) == ["C2"]
    restarted.close()


@pytest.mark.chaos
def test_kill_9_of_a_cli_load_keeps_the_data_and_the_next_start_sweeps(
    pg_url: str, tmp_path: Path
) -> None:
    """`revintel load` killed while it writes to PostgreSQL: the previous data stays; whatever
    staging tables it committed are dropped when the next process connects."""
    from revintel.app.ingest import load_paths
    from revintel.data.generator import generate_company, write_company

    before, after = tmp_path / "before", tmp_path / "after"
    write_company(generate_company(customers=500, months=12, seed=1), before, "parquet")
    write_company(generate_company(customers=6000, months=36, seed=2), after, "parquet")
    settings = settings_for(pg_url, tmp_path / "home")
    ctx = AppContext(settings)
    load_paths(ctx, [before], source="test")
    ctx.refresh()
    counts = ctx.warehouse.row_counts()
    paid = ctx.warehouse.table("payments").amount.sum().execute()
    ctx.close()
    close_pools(pg_url)  # from here, every session on the database is the CLI's

    env = {
        **os.environ,
        "REVINTEL_HOME": str(tmp_path / "home"),
        "REVINTEL_WAREHOUSE_URL": pg_url,
    }
    env.pop("REVINTEL_DATABASE_URL", None)
    load = subprocess.Popen(
        [sys.executable, "-m", "revintel", "load", str(after)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    writing: list[str] = []
    with admin(pg_url) as conn:
        deadline = time.monotonic() + 120
        while load.poll() is None and time.monotonic() < deadline:
            # Mid-way through writing: it has committed a staging table and not swapped yet.
            if writing := staging_left(pg_url):
                load.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        load.wait(timeout=30)
        assert writing, f"the load ended before it wrote: {load.stderr.read()!r}"  # type: ignore[union-attr]
        assert load.returncode == -signal.SIGKILL
        while conn.execute(  # the server notices its clients are gone
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchone() != (0,):
            time.sleep(0.05)

    ctx = AppContext(settings)  # the next start
    assert ctx.warehouse.row_counts() == counts
    assert ctx.warehouse.table("payments").amount.sum().execute() == paid
    assert staging_left(pg_url) == []
    ctx.close()


# -- item 10: the swap gives way to long readers --------------------------------------------------


def _reader_holding(url: str, table: str) -> psycopg.Connection[Any]:
    """A session in an open transaction that has read ``table`` (it holds a lock on it)."""
    conn = psycopg.connect(url)
    conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
    return conn


def test_a_swap_held_up_by_a_long_reader_gives_up_clearly_and_changes_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        pg_url, tmp_path / "home", warehouse_lock_timeout=0.2, warehouse_lock_retries=2
    )
    warehouse = connect(settings)
    warehouse.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
    reader = _reader_holding(pg_url, "customers")
    outcome: list[BaseException | None] = []
    waits: list[float] = []

    def load() -> None:
        try:
            warehouse.commit({"customers": stage(tmp_path / "s2", "customers", [customer("C2")])})
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    loading = threading.Thread(target=load)
    started = time.monotonic()
    loading.start()
    with admin(pg_url) as other_reader:  # new queries while the load tries to swap
        other_reader.execute("SET statement_timeout = '5s'")
        while loading.is_alive() and time.monotonic() - started < 10:
            t0 = time.monotonic()
            try:
                other_reader.execute('SELECT count(*) FROM "customers"').fetchone()
            except psycopg.errors.QueryCanceled:  # queued behind the swap for good
                waits.append(float("inf"))
                break
            waits.append(time.monotonic() - t0)
            time.sleep(0.05)
    loading.join(timeout=10)
    try:
        assert not loading.is_alive(), "the load waited for the reader for good"
        assert isinstance(outcome[0], WarehouseBusy), outcome
        message = str(outcome[0])
        assert "'customers'" in message and "long-running query" in message
        assert "previous data is unchanged" in message
        assert max(waits) < 2.0  # new readers waited about one lock timeout (0.2 s), not for good
    finally:
        reader.rollback()
        reader.close()
        loading.join()
    assert staging_left(pg_url) == []
    assert customer_ids(warehouse) == ["C1"]
    warehouse.close()


def test_a_swap_retries_until_the_reader_is_done(pg_url: str, tmp_path: Path) -> None:
    settings = settings_for(
        pg_url, tmp_path / "home", warehouse_lock_timeout=0.2, warehouse_lock_retries=4
    )
    warehouse = connect(settings)
    warehouse.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
    reader = _reader_holding(pg_url, "customers")
    threading.Timer(0.6, reader.rollback).start()

    warehouse.commit({"customers": stage(tmp_path / "s2", "customers", [customer("C2")])})

    reader.close()
    assert customer_ids(warehouse) == ["C2"]
    assert staging_left(pg_url) == []
    warehouse.close()


# -- item 11: one bounded pool per process, checked before use ------------------------------------


def test_concurrent_requests_never_hold_more_connections_than_the_pool(
    pg_url: str, tmp_path: Path
) -> None:
    settings = settings_for(pg_url, tmp_path / "home", warehouse_pool_size=3)
    root = AppContext(settings)
    root.warehouse.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
    root.refresh()
    errors: list[Exception] = []

    def request() -> None:  # what each API request does: a fork, a query, close
        ctx = root.fork()
        try:
            ctx.warehouse.table("customers").count().execute()
            ctx.warehouse.con.raw_sql("SELECT pg_sleep(0.2)").close()
        except Exception as exc:
            errors.append(exc)
        finally:
            ctx.close()

    most = most_sessions_while(pg_url, request, threads=12)
    root.close()

    assert errors == []
    assert 1 <= most <= 3, f"{most} connections for a pool of 3"
    with admin(pg_url) as conn:
        names = conn.execute(
            "SELECT DISTINCT application_name FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    assert names == [(APPLICATION_NAME,)]


def test_the_first_request_after_sessions_are_ended_succeeds_at_once(
    pg_url: str, tmp_path: Path
) -> None:
    """An administrator (or a restart) ends every pooled session: the next request is served on
    a new connection, without waiting out the pool's reconnection backoff (1 s, 2 s, ...)."""
    settings = settings_for(pg_url, tmp_path / "home", warehouse_pool_size=4)
    root = AppContext(settings)
    root.warehouse.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
    root.refresh()
    forks = [root.fork() for _ in range(4)]
    for ctx in forks:  # four connections in the pool
        ctx.warehouse.list_tables()
    for ctx in forks:
        ctx.close()
    with admin(pg_url) as conn:
        ended = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [APPLICATION_NAME],
        ).fetchone()
    assert ended == (4,)

    ctx = root.fork()
    started = time.monotonic()
    assert ctx.warehouse.row_counts() == {"customers": 1}
    assert time.monotonic() - started < 2.0  # psycopg_pool.check waits 1, 2, 4 s between
    ctx.close()
    root.close()


def test_a_restart_gives_clear_errors_while_down_and_service_after(
    postgres_databases: Callable[[], str], tmp_path: Path
) -> None:
    database = postgres_databases().rsplit("/", 1)[1]
    proxy = PostgresProxy()
    proxy.start()
    url = proxy.url(database)
    settings = settings_for(url, tmp_path / "home", warehouse_pool_timeout=6.0)
    root = AppContext(settings)
    try:
        root.warehouse.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
        root.refresh()

        proxy.stop()  # the server goes down
        ctx = root.fork()
        started = time.monotonic()
        with pytest.raises(WarehouseUnavailable, match="does not answer") as down:
            ctx.warehouse.row_counts()
        assert time.monotonic() - started < 3  # not the whole pool timeout (6 s)
        assert status_of(down.value) == 503  # the API answers 503
        assert f"127.0.0.1:{proxy.port}/{database}" in str(down.value)
        ctx.close()
        for _ in range(3):  # and every request while it stays down: at once
            ctx = root.fork()
            started = time.monotonic()
            with pytest.raises(WarehouseUnavailable, match="does not answer"):
                ctx.warehouse.list_tables()
            assert time.monotonic() - started < 1.0
            ctx.close()

        proxy.start()  # and comes back: no restart of revintel
        ctx = root.fork()
        assert ctx.warehouse.row_counts() == {"customers": 1}
        ctx.close()
    finally:
        root.close()
        close_pools(url)
        proxy.stop()


def test_a_warehouse_collected_unclosed_gives_its_connection_back(
    pg_url: str, tmp_path: Path
) -> None:
    import gc

    settings = settings_for(pg_url, tmp_path / "home", warehouse_pool_size=1)
    warehouse = connect(settings)
    warehouse.list_tables()
    del warehouse
    gc.collect()

    again = connect(settings)
    assert again.list_tables() == []  # with a pool of 1, only if the first connection came back
    again.close()


def test_a_busy_pool_says_so_after_its_timeout(pg_url: str, tmp_path: Path) -> None:
    settings = settings_for(
        pg_url, tmp_path / "home", warehouse_pool_size=1, warehouse_pool_timeout=0.5
    )
    holder = connect(settings)
    holder.list_tables()  # holds the pool's one connection
    waiting = connect(settings)
    started = time.monotonic()
    with pytest.raises(WarehouseUnavailable, match=r"All 1 connections .* stayed in use"):
        waiting.list_tables()
    assert 0.5 <= time.monotonic() - started < 3
    holder.close()
    assert waiting.list_tables() == []
    waiting.close()

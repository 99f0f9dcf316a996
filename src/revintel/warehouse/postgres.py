"""The PostgreSQL warehouse's connections and loads (docs/operations.md, PostgreSQL).

* **Pool.** Each process keeps one bounded pool per warehouse URL (``warehouse_pool_size``
  connections, shared by every request's :class:`~revintel.warehouse.Warehouse`). A connection is
  checked with an empty query when it is handed out; when one is found broken (PostgreSQL was
  restarted, or an administrator ended the session) every idle one is checked at once and the
  broken ones replaced, so the first request after a restart gets a working connection.
* **Loads.** Each staged table is written with ``COPY ... FROM STDIN`` (CSV made by Arrow) into a
  staging table created from the contract's schema, by ``warehouse_load_connections`` connections
  in parallel; a load then swaps every staging table in with one transaction (``DROP`` the live
  table, ``RENAME`` the staging one), or merges and swaps for ``append``.
* **Locks.** A load holds an advisory lock (:data:`LOAD_LOCK`) for its whole length, so loads of
  one database run one at a time and a staging table not held by a running load is a leftover of
  a killed one: a load removes every leftover when it starts, and a process removes them when it
  first connects if no load is running. The swap waits at most ``warehouse_lock_timeout`` seconds
  for a table that a reader holds, then gives way (readers queue behind a waiting ``DROP``) and
  tries again, ``warehouse_lock_retries`` times with backoff, before giving up with
  :class:`WarehouseBusy`.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from revintel.core.errors import BackendUnavailable, RevintelError
from revintel.core.vocabulary import LoadMode
from revintel.data.schema import CONTRACTS, TABLE_ORDER
from revintel.warehouse.base import StagedTable
from revintel.warehouse.database import DatabaseWarehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from revintel.core.config import Settings

log = logging.getLogger(__name__)

STAGING_PREFIX = "_revintel_staging_"
LOAD_LOCK = 0x7265_7669_6E74_6C64  # advisory-lock key held by a running load ("revintld")
APPLICATION_NAME = "revintel warehouse"  # as pg_stat_activity shows the pooled connections
LOAD_APPLICATION_NAME = "revintel load"  # and the connections that COPY a load's tables
COPY_BATCH_ROWS = 131_072


class WarehouseUnavailable(BackendUnavailable):
    """The PostgreSQL warehouse gave no connection (server down, or every pooled one busy)."""


class WarehouseBusy(BackendUnavailable):
    """A load could not swap its tables in: a long-running query held one of them."""


# -- where to connect ----------------------------------------------------------------------------


def conninfo(url: str) -> tuple[str, dict[str, Any]]:
    """libpq connection string and extra keyword arguments for a ``postgres://`` warehouse URL.

    ``postgres://user:password@host:port/db/schema`` (Ibis's form) reads tables of ``schema``.
    """
    parts = urlsplit("postgresql://" + url.split("://", 1)[1])
    database, _, schema = parts.path.lstrip("/").partition("/")
    kwargs: dict[str, Any] = {"options": "-c timezone=UTC"}
    if schema:
        kwargs["options"] += f" -c search_path={schema}"
    info = parts._replace(path="/" + database).geturl()
    return info, kwargs


def describe(url: str) -> str:
    """``host:port/db`` of a warehouse URL, without its user or password (for messages)."""
    parts = urlsplit("postgresql://" + url.split("://", 1)[1])
    host = parts.hostname or "localhost"
    return f"{host}:{parts.port or 5432}/{unquote(parts.path.lstrip('/'))}"


# -- the pools -----------------------------------------------------------------------------------

PoolKey = tuple[int, str, int, float]
_pools: dict[PoolKey, ConnectionPool] = {}
_swept: set[PoolKey] = set()
_pools_lock = threading.Lock()
# Connections whose Warehouse was garbage-collected without being closed. A finalizer may run
# inside the pool's own critical section (a collection can start anywhere), so it only queues
# the connection; the next acquire returns it.
_orphans: deque[tuple[ConnectionPool, psycopg.Connection[Any]]] = deque()
# Pools whose server did not answer: the next request checks with a new connection first.
_down: set[ConnectionPool] = set()


def _reset(conn: psycopg.Connection[Any]) -> None:
    # Temporary tables (Ibis's in-memory tables), settings and locks of the last user go.
    conn.execute("DISCARD ALL")


def pool_for(url: str, settings: Settings) -> ConnectionPool:
    """This process's pool for a warehouse URL (made on first use)."""
    key: PoolKey = (
        os.getpid(),
        url,
        settings.warehouse_pool_size,
        settings.warehouse_pool_timeout,
    )
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            info, kwargs = conninfo(url)
            pool = _pools[key] = ConnectionPool(
                info,
                # No server-side prepared statements: the reset's DISCARD ALL drops them, and
                # psycopg's cache of them does not always notice.
                kwargs={
                    "autocommit": True,
                    "application_name": APPLICATION_NAME,
                    "prepare_threshold": None,
                    **kwargs,
                },
                min_size=1,
                max_size=settings.warehouse_pool_size,
                timeout=settings.warehouse_pool_timeout,
                # A failed attempt to reconnect is given up after this long (not psycopg's
                # 5 minutes of growing backoff), so a request made once the server is back
                # starts a new attempt at once.
                reconnect_timeout=settings.warehouse_pool_timeout,
                reset=_reset,
                name=f"revintel-warehouse-{describe(url)}",
                open=True,
            )
        return pool


def _key_of(pool: ConnectionPool) -> PoolKey | None:
    with _pools_lock:
        return next((k for k, p in _pools.items() if p is pool), None)


def acquire(url: str, settings: Settings) -> tuple[ConnectionPool, psycopg.Connection[Any]]:
    """A checked connection from the URL's pool; give it back with :func:`release`.

    Raises :class:`WarehouseUnavailable` when none comes within ``warehouse_pool_timeout``, and
    at once when the server does not answer (rather than after the timeout, request after
    request, for as long as it is down).
    """
    while _orphans:
        with suppress(Exception):
            pool, orphan = _orphans.popleft()
            pool.putconn(orphan)
    pool = pool_for(url, settings)
    if pool in _down:
        _probe(url)  # raises while the server is still down
        _down.discard(pool)
    deadline = time.monotonic() + settings.warehouse_pool_timeout
    errors = _connection_errors(pool)
    while True:
        try:
            # In slices, to notice between them that the pool fails to connect.
            conn = pool.getconn(timeout=max(0.01, min(0.25, deadline - time.monotonic())))
        except PoolTimeout:
            if _connection_errors(pool) > errors or time.monotonic() >= deadline:
                raise _unavailable(url, settings, pool) from None
            continue
        try:
            conn.execute("")
        except psycopg.Error:
            # Broken (a restart, or an administrator ended it): the pool replaces it. Its idle
            # siblings most likely broke with it: check them all now rather than one per request.
            pool.putconn(conn)
            pool.check()
            if time.monotonic() >= deadline:
                raise _unavailable(url, settings, pool) from None
            continue
        _sweep_once(pool, conn)
        return pool, conn


def _connection_errors(pool: ConnectionPool) -> int:
    return int(pool.get_stats().get("connections_errors", 0))


def _probe(url: str) -> None:
    """Raise :class:`WarehouseUnavailable` unless the server accepts a new connection."""
    info, kwargs = conninfo(url)
    try:
        with psycopg.connect(info, connect_timeout=2, **kwargs) as probe:
            probe.execute("")
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
        raise WarehouseUnavailable(
            f"The PostgreSQL warehouse at {describe(url)} does not answer ({reason}); "
            "requests will succeed again once it is back, without restarting revintel."
        ) from None


def release(pool: ConnectionPool, conn: psycopg.Connection[Any]) -> None:
    """Give a connection from :func:`acquire` back to its pool."""
    pool.putconn(conn)


def release_later(pool: ConnectionPool, conn: psycopg.Connection[Any]) -> None:
    """For a finalizer: queue the connection; the next :func:`acquire` gives it back."""
    _orphans.append((pool, conn))


def close_pools(url: str | None = None) -> None:
    """Close this process's pools (of one URL, or all); the next use opens a new one."""
    with _pools_lock:
        keys = [k for k in _pools if url is None or k[1] == url]
        closing = [_pools.pop(k) for k in keys]
        _swept.difference_update(keys)
        _down.difference_update(closing)
    for pool in closing:
        with suppress(Exception):
            pool.close(timeout=1.0)


atexit.register(close_pools)


def _unavailable(url: str, settings: Settings, pool: ConnectionPool) -> WarehouseUnavailable:
    """Why no connection came: the server does not answer, or every pooled one is in use."""
    try:
        _probe(url)
    except WarehouseUnavailable as down:
        _down.add(pool)
        return down
    stats = pool.get_stats()
    return WarehouseUnavailable(
        f"All {pool.max_size} connections to the PostgreSQL warehouse at {describe(url)} "
        f"stayed in use for {settings.warehouse_pool_timeout:g} s "
        f"({stats.get('requests_waiting', 0)} requests waiting); raise "
        "REVINTEL_WAREHOUSE_POOL_SIZE or REVINTEL_WAREHOUSE_POOL_TIMEOUT."
    )


# -- staging tables left by killed loads ----------------------------------------------------------


def staging_tables(conn: psycopg.Connection[Any]) -> list[str]:
    """Staging tables (of any load) in the warehouse's schema."""
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
        "AND starts_with(tablename, %s) ORDER BY tablename",
        [STAGING_PREFIX],
    ).fetchall()
    return [r[0] for r in rows]


def _drop_tables(conn: psycopg.Connection[Any], names: Sequence[str]) -> None:
    for name in names:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))


def sweep(conn: psycopg.Connection[Any], *, wait: bool) -> list[str] | None:
    """Drop the staging tables of killed loads; None if a load is running (nothing dropped).

    With ``wait`` the caller already holds :data:`LOAD_LOCK` (a load about to start)."""
    if not wait:
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", [LOAD_LOCK]).fetchone()
        if not (got and got[0]):
            return None
    try:
        leftovers = staging_tables(conn)
        _drop_tables(conn, leftovers)
    finally:
        if not wait:
            conn.execute("SELECT pg_advisory_unlock(%s)", [LOAD_LOCK])
    if leftovers:
        log.warning("dropped %d staging tables left by killed loads", len(leftovers))
    return leftovers


def _sweep_once(pool: ConnectionPool, conn: psycopg.Connection[Any]) -> None:
    key = _key_of(pool)
    if key is None or key in _swept:
        return
    _swept.add(key)
    with suppress(psycopg.Error):  # a sweep is housekeeping: never fail a request for it
        sweep(conn, wait=False)


# -- loading -------------------------------------------------------------------------------------


def _create_statement(name: str, table: str) -> str:
    """``CREATE TABLE`` with the contract's columns, typed as Ibis types them on PostgreSQL."""
    import ibis
    import sqlglot as sg
    import sqlglot.expressions as sge

    schema = ibis.schema(CONTRACTS[table].arrow_schema())
    target = sge.Schema(
        this=sg.table(name, quoted=True),
        expressions=schema.to_sqlglot_column_defs("postgres"),
    )
    return sge.Create(kind="TABLE", this=target).sql("postgres")


class _Stopped(Exception):
    """Raised in a copying thread when another one failed."""


def _copy_table(
    conn: psycopg.Connection[Any], name: str, staged: StagedTable, stop: threading.Event
) -> None:
    """Create the staging table ``name`` and fill it from the staged Parquet files with COPY."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    columns = list(CONTRACTS[staged.name].column_names)
    # Every valid value quoted, nulls empty and unquoted: COPY's CSV reads an empty string as ''
    # and nothing as NULL. Arrow writes floats in their shortest exact form.
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    # FREEZE (the table is new in this transaction): readers need not set hint bits on every
    # page of a newly loaded table, and no later VACUUM has to freeze it.
    copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, FREEZE)").format(
        sql.Identifier(name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.transaction():
        conn.execute(_create_statement(name, staged.name))
        with conn.cursor() as cursor, cursor.copy(copy) as writer:
            for path in staged.files:
                parquet = pq.ParquetFile(path)
                for batch in parquet.iter_batches(batch_size=COPY_BATCH_ROWS, columns=columns):
                    if stop.is_set():
                        raise _Stopped
                    chunk = pa.BufferOutputStream()
                    pacsv.write_csv(batch, chunk, options)
                    writer.write(memoryview(chunk.getvalue()))


def copy_tables(
    url: str, staged: Mapping[str, StagedTable], names: Mapping[str, str], connections: int
) -> None:
    """Fill every staging table (``names``: table -> staging name), ``connections`` at a time.

    Each table is committed on its own; :data:`LOAD_LOCK`, held by the caller, keeps them from
    being swept."""
    info, kwargs = conninfo(url)
    # Largest first, each to the connection with the least work so far.
    weight = {t: s.rows * len(CONTRACTS[t].columns) for t, s in staged.items()}
    groups: list[list[str]] = [[] for _ in range(max(1, min(connections, len(staged))))]
    loads = [0] * len(groups)
    for table in sorted(staged, key=lambda t: -weight[t]):
        i = loads.index(min(loads))
        groups[i].append(table)
        loads[i] += weight[table]
    stop = threading.Event()

    def work(tables: list[str]) -> None:
        try:
            with psycopg.connect(
                info, autocommit=True, application_name=LOAD_APPLICATION_NAME, **kwargs
            ) as conn:
                for table in tables:
                    _copy_table(conn, names[table], staged[table], stop)
        except BaseException:
            stop.set()
            raise

    with ThreadPoolExecutor(len(groups), thread_name_prefix="revintel-copy") as pool:
        futures = [pool.submit(work, g) for g in groups if g]
        try:
            errors = [f.exception() for f in futures]
        except BaseException:  # interrupted: the workers stop after their current batch
            stop.set()
            raise
    # The error that stopped the load, not the others' _Stopped.
    first = next((e for e in errors if e and not isinstance(e, _Stopped)), None)
    if first is not None:
        raise first


def _merge_statement(conn: psycopg.Connection[Any], table: str, staging: str) -> sql.Composed:
    """Add to ``staging`` the live rows whose key it does not hold (``append`` upserts)."""
    contract = CONTRACTS[table]
    live_columns = {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            [table],
        ).fetchall()
    }
    # A column the live table lacks (added to the contract since) reads as NULL.
    values = [
        sql.SQL("o.{}").format(sql.Identifier(c.name))
        if c.name in live_columns
        else sql.SQL("NULL")
        for c in contract.columns
    ]
    # '=' on columns that are never null lets PostgreSQL hash the anti-join; nullable key
    # columns match null to null.
    matches = [
        sql.SQL(
            "n.{0} IS NOT DISTINCT FROM o.{0}" if contract.column(k).nullable else "n.{0} = o.{0}"
        ).format(sql.Identifier(k))
        for k in contract.primary_key
    ]
    return sql.SQL(
        "INSERT INTO {staging} ({columns}) SELECT {values} FROM {live} AS o "
        "WHERE NOT EXISTS (SELECT 1 FROM {staging} AS n WHERE {matches})"
    ).format(
        staging=sql.Identifier(staging),
        live=sql.Identifier(table),
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in contract.column_names),
        values=sql.SQL(", ").join(values),
        matches=sql.SQL(" AND ").join(matches),
    )


def swap(
    conn: psycopg.Connection[Any],
    names: Mapping[str, str],
    present: set[str],
    *,
    merge: bool,
    lock_timeout: float,
    retries: int,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Make the staging tables live in one transaction: merge (``append``), drop, rename.

    Each try waits at most ``lock_timeout`` s for a table lock, then gives way to the readers
    queued behind it and tries again after 0.5 s, 1 s, 2 s, … Raises :class:`WarehouseBusy`
    after ``retries`` retries; the live tables are then as they were."""
    ordered = [t for t in TABLE_ORDER if t in names]
    with conn.transaction():
        if merge:
            for table in ordered:
                if table in present:
                    conn.execute(_merge_statement(conn, table, names[table]))
        attempt = 0
        while True:
            held: str | None = None
            try:
                with conn.transaction():  # a savepoint: a try that timed out is undone alone
                    conn.execute(
                        "SELECT set_config('lock_timeout', %s, true)",
                        [f"{max(1, round(lock_timeout * 1000))}ms"],
                    )
                    for table in ordered:
                        held = table
                        if table in present:
                            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
                        conn.execute(
                            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                                sql.Identifier(names[table]), sql.Identifier(table)
                            )
                        )
                return
            except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
                if attempt >= retries:
                    raise WarehouseBusy(
                        f"The load could not replace table '{held}': a long-running query "
                        f"held it (waited {lock_timeout:g} s, {attempt + 1} times). Nothing was "
                        "loaded; the previous data is unchanged. Load again when the query has "
                        "finished (pg_stat_activity shows it), or raise "
                        "REVINTEL_WAREHOUSE_LOCK_TIMEOUT."
                    ) from None
                log.info("table %s is in use; swap attempt %d gave way", held, attempt + 1)
                sleep(0.5 * 2**attempt)
                attempt += 1


@contextmanager
def load_lock(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Hold :data:`LOAD_LOCK` (waiting for a running load to finish) and sweep leftovers."""
    conn.execute("SELECT pg_advisory_lock(%s)", [LOAD_LOCK])
    try:
        sweep(conn, wait=True)
        yield
    finally:
        with suppress(psycopg.Error):  # a broken connection has lost its lock already
            conn.execute("SELECT pg_advisory_unlock(%s)", [LOAD_LOCK])


def drop_staging(conn: psycopg.Connection[Any], url: str, names: Sequence[str]) -> None:
    """Drop a failed load's staging tables; on a fresh connection if ``conn`` broke. Whatever
    cannot be dropped now (the server is down) is swept by the next load or start."""
    for attempt in (conn, None):
        try:
            if attempt is None:
                info, kwargs = conninfo(url)
                with psycopg.connect(info, autocommit=True, connect_timeout=5, **kwargs) as c:
                    _drop_tables(c, names)
            else:
                _drop_tables(attempt, names)
            return
        except psycopg.Error:
            continue


class ReturnedConnection:
    """Stands in for a connection given back to the pool, so a stale Ibis backend fails
    clearly instead of using a connection that another request now holds."""

    def __getattr__(self, name: str) -> Any:
        raise RevintelError(
            "This warehouse connection was closed (given back to the pool); "
            "open the warehouse again."
        )


# -- the warehouse -------------------------------------------------------------------------------


class PostgresWarehouse(DatabaseWarehouse):
    """Canonical tables in a PostgreSQL database, read on a connection lent by the process's pool
    for as long as this object is open (one request, one dashboard run)."""

    kind = "postgres"

    def __init__(self, settings: Settings, url: str) -> None:
        super().__init__(settings, url)
        self._lease: tuple[ConnectionPool, psycopg.Connection[Any]] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def _connect(self) -> BaseBackend:
        import ibis

        pool, conn = acquire(self.url, self.settings)
        try:
            backend = ibis.postgres.from_connection(conn)
        except BaseException:
            release(pool, conn)
            raise
        self._lease = (pool, conn)
        self._finalizer = weakref.finalize(backend, release_later, pool, conn)
        return backend

    def close(self) -> None:
        backend, lease, finalizer = self._con, self._lease, self._finalizer
        self._con = self._lease = self._finalizer = None
        if finalizer is not None:
            finalizer.detach()
        if backend is not None:
            backend.con = ReturnedConnection()
        if lease is not None:
            release(*lease)

    def commit(self, staged: Mapping[str, StagedTable], mode: LoadMode = "replace") -> None:
        conn: psycopg.Connection[Any] = self.con.con
        token = uuid.uuid4().hex[:8]
        names = {name: f"{STAGING_PREFIX}{name}_{token}" for name in staged}
        settings = self.settings
        with load_lock(conn):
            try:
                copy_tables(self.url, staged, names, settings.warehouse_load_connections)
                swap(
                    conn,
                    names,
                    set(self.list_tables()),
                    merge=mode == "append",
                    lock_timeout=settings.warehouse_lock_timeout,
                    retries=settings.warehouse_lock_retries,
                )
            except BaseException:
                drop_staging(conn, self.url, list(names.values()))
                raise

"""Where the metrics service keeps what it computed, and for how long.

* Results (small lists of rows, cubes, the data's bounds) depend only on the data and the key:
  :func:`remember` keeps them in one :class:`~revintel.warehouse.cache.SnapshotCache` keyed by
  the warehouse's ``data_version()``, shared by every connection to that data (every dashboard
  session, API request and the dashboard server's warm-up fill one cache).
* A warehouse without a version (a database whose rows can change) keeps nothing between calls;
  within one call of a public function (:func:`service`) each result is still computed once.
* Intermediate tables (the customer MRR changes, the monthly rates) are materialised in the
  backend by :func:`materialised`: on versioned data read through DuckDB as temporary tables of
  the connection (:class:`_ConnectionTables`: a few per connection, dropped when evicted and by
  the database when the connection closes); elsewhere with ``Table.cache()`` for the call,
  released when the call returns.

A service call changes two process-wide settings while it runs, and nothing else
(:func:`_compile_settings`, measured and explained there).
"""

from __future__ import annotations

__all__ = ["RESULTS", "materialised", "once_per_call", "remember", "service"]

import functools
import gc
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import ibis

from revintel.warehouse.cache import SnapshotCache

if TYPE_CHECKING:
    from collections.abc import Iterator

    from revintel.warehouse import Warehouse

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

RESULTS: SnapshotCache[Any] = SnapshotCache("metrics.results", size=256)
"""Every result the metrics service keeps, keyed by data version and what was asked."""

TEMP_TABLES_PER_CONNECTION = 6  # each can be large (a row per customer and change)
_TEMP_TABLE_BACKENDS = ("duckdb",)  # Parquet snapshots read through DuckDB (else PySpark)


# -- one call --------------------------------------------------------------------------------------
@dataclass
class _Call:
    """What one service call computed, and the cached tables to release when it returns."""

    values: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    cached: list[ibis.Table] = field(default_factory=list)
    keep: list[ibis.Table] = field(default_factory=list)


_CALL: ContextVar[_Call | None] = ContextVar("revintel_metrics_call", default=None)


# Building and compiling the metric queries is most of a cold call's CPU time, and two settings of
# the process make it cheaper; while service calls run, they are changed, and the last call
# running puts back what it found (also when it fails, and whatever the caller had chosen):
#
# * the cyclic garbage collector is paused. Building and compiling Ibis expressions allocates a
#   great many short-lived objects, which reference counting frees; they still trigger the
#   collector, whose full passes walk every object of the process (pandas, Ibis and sqlglot make
#   that heap large) and find next to nothing to free;
# * Ibis does not fuse consecutive projections into one SELECT (``ibis.options.sql.fuse_selects``):
#   fusing is a large share of the compile time of these deep expressions and buys nothing, the
#   databases flatten nested projections themselves. Either way the SQL means the same, so another
#   thread compiling meanwhile is not affected.
#
# Measured on benchmarks/metrics_suite.py's calls at 100k customers x 36 months (CPU seconds of
# the calls, three runs each, 2 shared cores): 2.8-3.5 without either setting, 2.3-3.1 with the
# collector paused, 2.4-2.9 without fusing, 2.6-2.8 with both. Neither Ibis nor Python offers a
# per-thread form of either setting; tests/metrics/test_service_call_settings.py holds the
# restoring to account.
_SETTINGS_LOCK = threading.Lock()
_calls_running = 0
_restore: tuple[bool, bool] = (True, True)


@contextmanager
def _compile_settings() -> Iterator[None]:
    global _calls_running, _restore
    with _SETTINGS_LOCK:
        if _calls_running == 0:
            _restore = (gc.isenabled(), ibis.options.sql.fuse_selects)
            gc.disable()
            ibis.options.sql.fuse_selects = False
        _calls_running += 1
    try:
        yield
    finally:
        with _SETTINGS_LOCK:
            _calls_running -= 1
            if _calls_running == 0:
                gc_enabled, fuse_selects = _restore
                ibis.options.sql.fuse_selects = fuse_selects
                if gc_enabled:
                    gc.enable()


def service(function: F) -> F:
    """Give one call of a public service function its own scope (:func:`once_per_call`) and the
    compile settings above; calls made inside it share the outer call's."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _CALL.get() is not None:
            return function(*args, **kwargs)
        call = _Call()
        token = _CALL.set(call)
        try:
            with _compile_settings():
                return function(*args, **kwargs)
        finally:
            _CALL.reset(token)
            for table in call.cached:
                with suppress(Exception):  # the connection may already be closed
                    table.release()

    return wrapper  # type: ignore[return-value]


def once_per_call(wh: Warehouse, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()``, computed once within the current service call (every time outside one)."""
    call = _CALL.get()
    if call is None:
        return compute()
    scoped = (id(wh), *key)
    if scoped not in call.values:
        call.values[scoped] = compute()
    return call.values[scoped]


def remember(wh: Warehouse, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()``, kept for the warehouse's data version (:data:`RESULTS`), else for the call.

    ``compute`` must not return anything that refers to a connection (an Ibis table does): the
    result outlives the connection. Concurrent callers of one key compute it once.
    """
    value: T = RESULTS.get(wh, key, lambda: once_per_call(wh, key, compute))
    return value


# -- materialised tables ---------------------------------------------------------------------------
class _ConnectionTables:
    """A connection's temporary tables by key, least recently used first.

    Beyond :data:`TEMP_TABLES_PER_CONNECTION` the oldest is dropped; the database drops the rest
    when the connection closes. Creating one holds this connection's lock (a connection runs
    one statement at a time anyway); other connections do not wait.
    """

    def __init__(self, con: Any) -> None:
        self.con = con
        self.lock = threading.RLock()  # re-entered: building one table may read another
        self.tables: OrderedDict[Hashable, tuple[str, ibis.Table]] = OrderedDict()

    def get(self, key: Hashable, build: Callable[[], ibis.Table]) -> ibis.Table:
        with self.lock:
            held = self.tables.get(key)
            if held is not None:
                self.tables.move_to_end(key)
                return held[1]
            name = f"_revintel_metrics_{uuid.uuid4().hex[:12]}"
            table = self.con.create_table(name, build(), temp=True)
            self.tables[key] = (name, table)
            while len(self.tables) > TEMP_TABLES_PER_CONNECTION:
                _, (stale, _table) = self.tables.popitem(last=False)
                with suppress(Exception):
                    self.con.drop_table(stale, force=True)
            return table


# Per warehouse, weakly (the tables refer to the connection, so keying by the connection would
# keep it alive); replaced when the warehouse opens a new connection.
_BY_WAREHOUSE: weakref.WeakKeyDictionary[Any, _ConnectionTables] = weakref.WeakKeyDictionary()
_BY_WAREHOUSE_LOCK = threading.Lock()


def _connection_tables(wh: Warehouse, con: Any) -> _ConnectionTables:
    with _BY_WAREHOUSE_LOCK:
        tables = _BY_WAREHOUSE.get(wh)
        if tables is None or tables.con is not con:
            tables = _BY_WAREHOUSE[wh] = _ConnectionTables(con)
        return tables


def materialised(
    wh: Warehouse,
    key: tuple[Any, ...],
    build: Callable[[], ibis.Table],
    *,
    within_call: bool = True,
) -> ibis.Table:
    """``build()`` materialised in the backend once, reused as the module says.

    ``within_call=False``: where nothing outlives a call, do not materialise (for a table read
    once per call; Ibis 12 cannot ``cache()`` on PySpark an expression that holds in-memory
    tables, such as a month spine, because it does not register them first).
    """
    con = wh.con
    if wh.data_version() is not None and con.name in _TEMP_TABLE_BACKENDS:
        return _connection_tables(wh, con).get(key, build)
    call = _CALL.get()
    if call is None or not within_call:
        return build()
    scoped = (id(wh), "cached", *key)
    if scoped not in call.values:
        expr = build()
        # A filter's values are an in-memory table (options.wanted_values); Ibis 12 registers
        # those before running a query but not before caching one on PySpark.
        wh.con._register_in_memory_tables(expr)
        table = expr.cache()
        # Keep the expression (and the in-memory tables it registered) alive while the cached
        # table is in use: Spark caches lazily, on the first query that reads it.
        call.cached.append(table)
        call.keep.append(expr)
        call.values[scoped] = table
    return call.values[scoped]

"""What every warehouse backend shares: the :class:`Warehouse` interface (Ibis reads, atomic
commits), the staged tables a load hands it, and the per-thread engine for in-memory tables.

The backends are :mod:`revintel.warehouse.parquet` (the default), :mod:`revintel.warehouse.spark`,
:mod:`revintel.warehouse.database` and :mod:`revintel.warehouse.postgres`;
:func:`revintel.warehouse.connect` picks one from the settings.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import ibis

from revintel.core.config import Settings
from revintel.core.errors import NoDataError
from revintel.core.vocabulary import LoadMode
from revintel.data.schema import contract_for

if TYPE_CHECKING:
    import pyarrow as pa
    from ibis.backends import BaseBackend


@dataclass(frozen=True)
class StagedTable:
    """Validated rows of one canonical table, as Parquet files with the contract's schema."""

    name: str
    files: tuple[Path, ...]
    rows: int


class Warehouse(ABC):
    """Read access (Ibis) and atomic writes to the canonical tables. Use :func:`connect`."""

    kind: str = "abstract"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._con: BaseBackend | None = None

    # -- reading ---------------------------------------------------------------------------------
    @property
    def con(self) -> BaseBackend:
        if self._con is None:
            self._con = self._connect()
        return self._con

    @abstractmethod
    def _connect(self) -> BaseBackend:
        """A new connection to the backend."""

    @abstractmethod
    def list_tables(self) -> list[str]:
        """Canonical tables present, in load order."""

    def has_table(self, name: str) -> bool:
        return contract_for(name).name in self.list_tables()

    def table(self, name: str) -> ibis.Table:
        """The Ibis table expression for a canonical table; NoDataError if it was never loaded."""
        canonical = contract_for(name).name
        if canonical not in self.list_tables():
            raise NoDataError(
                f"Table '{canonical}' has not been loaded. Load it with "
                f"`revintel load {canonical}.csv` or generate a demo with `revintel demo`."
            )
        return self.con.table(canonical)

    def to_arrow(self, expr: ibis.Expr) -> pa.Table | pa.Scalar:
        """``expr`` computed on this warehouse's own connection (a table, column or scalar).

        Every query a service runs goes through here or through its tables' own connection:
        in-memory tables (``ibis.memtable``) in ``expr`` are registered on this connection, so an
        expression made only of them never falls back on Ibis's process-wide default backend,
        which every thread of a server would share (concurrent requests blocked each other in it
        for good).
        """
        return self.con.to_pyarrow(expr)

    def row_counts(self) -> dict[str, int]:
        return {name: int(self.con.table(name).count().execute()) for name in self.list_tables()}

    def is_current(self) -> bool:
        """Whether the open connection already sees the newest load, so that keeping it is safe
        (:meth:`revintel.app.context.AppContext.refresh`). False unless the warehouse can tell."""
        return False

    def loaded_at(self) -> dict[str, datetime] | None:
        """When each table's data was loaded, as recorded with the data itself; None when the
        warehouse keeps no such record (the app store's load history says instead)."""
        return None

    def data_version(self) -> str | None:
        """A name for the immutable state of the data this warehouse reads, under which results
        may be cached; None when the data can change under the reader (a database), so nothing
        is cached. Stable until :meth:`refresh`/:meth:`close`, and always the state queries
        read."""
        return None

    def ping(self) -> None:
        """Raise if the backend cannot answer a trivial query."""
        self.con.sql("SELECT 1 AS ok").execute()

    def close(self) -> None:
        if self._con is not None:
            with suppress(Exception):
                self._con.disconnect()
            self._con = None

    # -- writing ---------------------------------------------------------------------------------
    @abstractmethod
    def commit(self, staged: Mapping[str, StagedTable], mode: LoadMode = "replace") -> None:
        """Make the staged tables live, all or nothing.

        ``replace`` swaps each staged table in whole; ``append`` upserts its rows by primary key
        (a row whose key exists replaces the old row), so loading the same rows twice is a no-op.
        """


_LOCAL = threading.local()


def local_engine() -> BaseBackend:
    """An in-memory DuckDB owned by the calling thread, for expressions over in-memory tables
    only (``ibis.memtable`` of results already fetched).

    Never Ibis's default backend: that is one connection for the whole process, and threads that
    execute on it at once block each other inside DuckDB. A thread's engine lives as long as the
    thread (a server's worker threads are pooled, so there are as many engines as workers).
    """
    con = getattr(_LOCAL, "engine", None)
    if con is None:
        con = _LOCAL.engine = ibis.duckdb.connect()
    return con


def upsert_expr(old: ibis.Table, new: ibis.Table, key: Sequence[str]) -> ibis.Table:
    """Rows of ``old`` whose key is not in ``new``, plus all of ``new`` (null-safe key match)."""
    predicates = [old[c].identical_to(new[c]) for c in key]
    kept = old.anti_join(new, predicates)
    return kept.select(new.columns).union(new, distinct=False)

"""Canonical tables stored in a database named by a URL: a DuckDB file (``duckdb:///path/file.db``,
one writing process at a time), loaded into staging tables swapped in in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

import ibis

from revintel.core.config import Settings
from revintel.data.schema import CONTRACTS, TABLE_ORDER
from revintel.warehouse.base import LoadMode, StagedTable, Warehouse, upsert_expr

if TYPE_CHECKING:
    from ibis.backends import BaseBackend


class DatabaseWarehouse(Warehouse):
    """Canonical tables stored in a database: a DuckDB file here, PostgreSQL in
    :class:`revintel.warehouse.postgres.PostgresWarehouse` (pooled connections, COPY loads)."""

    def __init__(self, settings: Settings, url: str) -> None:
        super().__init__(settings)
        self.url = url
        self.kind = "postgres" if url.startswith(("postgres://", "postgresql://")) else "duckdb"

    def _connect(self) -> BaseBackend:
        path = self.url.split("://", 1)[1].lstrip("/")
        path = "/" + path if self.url.startswith("duckdb:////") else path
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return ibis.duckdb.connect(path)

    def list_tables(self) -> list[str]:
        present = set(self.con.list_tables())
        return [t for t in TABLE_ORDER if t in present]

    def commit(self, staged: Mapping[str, StagedTable], mode: LoadMode = "replace") -> None:
        con = self.con
        present = set(con.list_tables())
        token = uuid.uuid4().hex[:8]
        staging = {name: f"_revintel_staging_{name}_{token}" for name in staged}
        reader = ibis.duckdb.connect()
        try:
            for name, table in staged.items():
                arrow = reader.read_parquet([str(f) for f in table.files]).to_pyarrow()
                con.create_table(staging[name], arrow, overwrite=True)
                if mode == "append" and name in present:
                    merged = upsert_expr(
                        con.table(name), con.table(staging[name]), CONTRACTS[name].primary_key
                    )
                    con.create_table(staging[name] + "_m", merged, overwrite=True)
                    con.drop_table(staging[name])
                    staging[name] += "_m"
            self._swap(staging, present)
        except BaseException:
            for tmp in staging.values():
                with suppress(Exception):
                    con.drop_table(tmp, force=True)
            raise
        finally:
            reader.disconnect()

    def _swap(self, staging: Mapping[str, str], present: set[str]) -> None:
        """Drop the live tables and rename the staging tables in one transaction."""
        raw = self.con.con
        raw.execute("BEGIN TRANSACTION")
        try:
            for name, tmp in staging.items():
                # Both names come from the contracts (never from user text) and are quoted.
                if name in present:
                    raw.execute(f'DROP TABLE "{name}"')
                raw.execute(f'ALTER TABLE "{tmp}" RENAME TO "{name}"')
            raw.execute("COMMIT")
        except BaseException:
            raw.execute("ROLLBACK")
            raise

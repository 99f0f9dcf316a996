"""The analytic warehouse: an Ibis connection over the canonical tables, and atomic writes to it.

Backends, chosen by ``REVINTEL_WAREHOUSE_URL`` (DESIGN.md, Storage):

* unset or ``parquet://`` (default): a Parquet dataset under ``REVINTEL_HOME/warehouse/`` read
  through an in-memory DuckDB, so any number of processes can read at once
  (:mod:`revintel.warehouse.parquet`);
* ``pyspark://`` (optionally ``pyspark://local[4]``): the same Parquet folder read by Spark
  (:mod:`revintel.warehouse.spark`);
* ``duckdb:///path/file.db``: a DuckDB database file, one writing process at a time
  (:mod:`revintel.warehouse.database`);
* ``postgres://user@host:port/db``: PostgreSQL, on pooled connections, loaded with ``COPY``
  (:mod:`revintel.warehouse.postgres`).

What they share (the :class:`Warehouse` interface, :class:`StagedTable`) is in
:mod:`revintel.warehouse.base`; results cached per state of the data are in
:mod:`revintel.warehouse.cache`.

Writes are atomic. The Parquet warehouse keeps immutable snapshots (``snapshots/<id>/<table>/``)
and a ``CURRENT`` file naming the live one, replaced only once a new snapshot is complete; a load
that fails or is interrupted at any point leaves ``CURRENT`` and the snapshot it names untouched.
Database backends load into staging tables and swap them in one transaction; PostgreSQL's staging
tables left by a killed load are dropped by the next load, or when a process first connects.
"""

from __future__ import annotations

from revintel.core.config import Settings
from revintel.core.errors import ConfigError
from revintel.warehouse.base import LoadMode, StagedTable, Warehouse, local_engine
from revintel.warehouse.database import DatabaseWarehouse
from revintel.warehouse.parquet import LOADED_FILE, SNAPSHOTS_KEPT, ParquetWarehouse
from revintel.warehouse.spark import SparkWarehouse

__all__ = [
    "LOADED_FILE",
    "SNAPSHOTS_KEPT",
    "DatabaseWarehouse",
    "LoadMode",
    "ParquetWarehouse",
    "SparkWarehouse",
    "StagedTable",
    "Warehouse",
    "connect",
    "local_engine",
]


def connect(settings: Settings) -> Warehouse:
    """The warehouse named by the settings (see module docstring)."""
    url = settings.warehouse_url
    if url is None or url.startswith("parquet://"):
        return ParquetWarehouse(settings)
    if url.startswith("pyspark://"):
        return SparkWarehouse(settings)
    if url.startswith(("postgres://", "postgresql://")):
        from revintel.warehouse.postgres import PostgresWarehouse

        return PostgresWarehouse(settings, url)
    if url.startswith("duckdb://"):
        return DatabaseWarehouse(settings, url)
    raise ConfigError(f"REVINTEL_WAREHOUSE_URL {url!r} is not a supported warehouse")

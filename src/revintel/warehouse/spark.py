"""The Parquet warehouse read by Spark (``pyspark://``, optionally ``pyspark://local[4]``): the
same snapshots, commits and leases as :mod:`revintel.warehouse.parquet`, another engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from revintel.data.schema import TABLE_ORDER
from revintel.warehouse.parquet import ParquetWarehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend


class SparkWarehouse(ParquetWarehouse):
    """The Parquet warehouse read by Spark (local mode by default)."""

    kind = "pyspark"

    def _connect(self) -> BaseBackend:
        from pyspark.sql import SparkSession  # optional dependency: revintel[spark]

        snapshot = self._pinned_snapshot()
        master = self.settings.warehouse_url.split("://", 1)[1] or "local[*]"  # type: ignore[union-attr]
        session = (
            SparkSession.builder.master(master)
            .appName("revintel")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
        con = ibis.pyspark.connect(session)
        if snapshot is not None:
            for name in TABLE_ORDER:
                if self.table_files(name, snapshot):
                    con.read_parquet(str(snapshot / name), table_name=name)
        return con

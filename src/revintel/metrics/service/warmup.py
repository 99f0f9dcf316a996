"""What the dashboard's server computes before the first visitor (:func:`warm`)."""

from __future__ import annotations

__all__ = ["warm"]

import itertools
from typing import TYPE_CHECKING

from revintel.metrics.cube import cube_dimensions
from revintel.metrics.options import UNKNOWN
from revintel.metrics.service import engine
from revintel.metrics.service.finance import revenue
from revintel.metrics.service.query import (
    MetricQuery,
    delinquency_days,
    dimension_values,
    full_period,
    period,
    warehouse_of,
)
from revintel.metrics.service.recurring import mrr_movements

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse


def warm(source: Runtime | Warehouse) -> None:
    """Compute what the revenue pages open with, for the data loaded now (the dashboard server
    calls it before the first visitor): the monthly movements and revenue, and the
    customer-dimension cubes that answer filter changes, the values of each dimension (which
    every filter is matched to), and one filter on each dimension and each pair of dimensions
    (its query is compiled once: :func:`engine.on_cube`). Results are
    kept per data version and shared by every session; on a warehouse without a version this
    does nothing. (The anomaly detector's drivers are read by the dashboard's forecasting
    worker: ``revintel.ui.outlook``.)
    """
    wh = warehouse_of(source)
    if wh.data_version() is None or not wh.has_table("subscriptions"):
        return
    mrr_movements(wh)
    has_payments = wh.has_table("payments")
    if has_payments:
        revenue(wh)
    if wh.has_table("customers"):
        full = full_period(period(wh), wh)
        days = delinquency_days(wh, None)
        dims = cube_dimensions(wh.table("customers"))
        if dims:
            engine.cube_totals(wh, "movements", full, days)
            if has_payments:
                engine.cube_totals(wh, "revenue", full, None)
            # A filter on each dimension, then on each pair of them, for one value of each:
            # each shape's query is compiled once (engine.on_cube), and a user's first pick on
            # those dimensions only runs it.
            first = {dim: (dimension_values(wh, dim) or (UNKNOWN,))[0] for dim in dims}
            for size in (1, 2):
                for combination in itertools.combinations(dims, size):
                    one = MetricQuery(filters={dim: [first[dim]] for dim in combination})
                    mrr_movements(wh, one.but(delinquency_days=days))
                    if has_payments:
                        revenue(wh, one)

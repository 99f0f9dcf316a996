"""What the dashboard's server computes before the first visitor (:func:`warm`)."""

from __future__ import annotations

__all__ = ["warm"]

import itertools
from typing import TYPE_CHECKING

from revintel.metrics.cube import cube_dimensions
from revintel.metrics.service import engine
from revintel.metrics.service.finance import revenue
from revintel.metrics.service.query import (
    MetricQuery,
    delinquency_days,
    full_period,
    period,
    warehouse_of,
)
from revintel.metrics.service.recurring import mrr_movements

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse

_NO_CUSTOMER = "\uffffrevintel warm-up"
"""A dimension value no customer has (blanks are ``(unknown)``; U+FFFF is a Unicode noncharacter,
which no text meant for interchange holds): the warm-up's filter. Not a control character, which
a filter value may not hold (:func:`~revintel.metrics.options.check_filters`)."""


def warm(source: Runtime | Warehouse) -> None:
    """Compute what the revenue pages open with, for the data loaded now (the dashboard server
    calls it before the first visitor): the monthly movements and revenue, and the
    customer-dimension cubes that answer filter changes, and one filter on each dimension and
    each pair of dimensions (its query is compiled once: :func:`engine.on_cube`). Results are
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
            # A filter on each dimension, then on each pair of them, for a value no customer
            # has: each shape's query is compiled once (engine.on_cube), and a user's first
            # pick on those dimensions only runs it.
            for size in (1, 2):
                for combination in itertools.combinations(dims, size):
                    none = MetricQuery(filters={dim: [_NO_CUSTOMER] for dim in combination})
                    mrr_movements(wh, none.but(delinquency_days=days))
                    if has_payments:
                        revenue(wh, none)

"""Recurring revenue: MRR per customer, and monthly MRR, movements and rates (docs/metrics.md)."""

from __future__ import annotations

__all__ = ["customer_mrr", "monthly_rates", "movement_rows", "mrr_movements"]

from collections.abc import Sequence
from typing import TYPE_CHECKING

import ibis

from revintel.core.calendar import Period
from revintel.metrics.churn import movement_rates
from revintel.metrics.movements import mrr_movements as movements_expr
from revintel.metrics.mrr import customer_mrr as customer_mrr_expr
from revintel.metrics.options import Dimension, check_filter_values, wanted_values
from revintel.metrics.service import engine
from revintel.metrics.service.query import (
    MetricQuery,
    Row,
    delinquency_days,
    full_period,
    optional_table,
    period,
    slice_rows,
    warehouse_of,
)
from revintel.metrics.service.scope import materialised, remember, service
from revintel.metrics.service.tables import (
    arrow_records,
    changes,
    customers_if_needed,
    filters_key,
    records,
)

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse


@service
def customer_mrr(
    source: Runtime | Warehouse,
    query: MetricQuery = MetricQuery(),
    *,
    customer_ids: Sequence[str] | None = None,
) -> list[Row]:
    """MRR per customer and month (customers with MRR > 0), for drill-down and export.

    Each row: ``customer_id``, the ``by`` column, ``month``, ``mrr``.
    """
    wh = warehouse_of(source)
    p = period(wh, query)
    by, checked = query.checked(wh)
    days = delinquency_days(wh, query.delinquency_days)
    subscriptions = wh.table("subscriptions")
    if customer_ids is not None:
        wanted = wanted_values(check_filter_values("customer_ids", customer_ids))
        subscriptions = subscriptions.filter(subscriptions.customer_id.isin(wanted))
    expr = customer_mrr_expr(
        subscriptions,
        customers_if_needed(wh, by, checked),
        from_month=p.from_month,
        to_month=p.to_month,
        by=by,
        filters=checked,
        payments=optional_table(wh, "payments"),
        delinquency_days=days,
    )
    return records(expr)


def monthly_rates(
    wh: Warehouse,
    full: Period,
    by: Dimension | None,
    filters: dict[Dimension, list[str]],
    days: int,
) -> ibis.Table:
    """Monthly movements and rates over the full period (a small table), materialised: read by
    :func:`mrr_movements`, ``ltv`` and ``acquisition`` alike."""

    cube = engine.cube_for(wh, "movements", full, by, filters, days)
    if cube is not None:  # a slice of the in-memory cube, read as it is: no temporary table
        return ibis.memtable(engine.sliced(wh, "movements", cube, full, by, filters))

    def build() -> ibis.Table:
        return movement_rates(
            movements_expr(
                changes(wh, by, filters, days), from_month=full.from_month, to_month=full.to_month
            )
        )

    key = ("rates", full.first, full.last, by, filters_key(filters), days)
    return materialised(wh, key, build, within_call=False)


def movement_rows(
    wh: Warehouse,
    full: Period,
    by: Dimension | None,
    filters: dict[Dimension, list[str]],
    days: int,
) -> list[Row]:
    """The rows of :func:`mrr_movements` over the full period, kept (:func:`remember`)."""
    rows = engine.growth_rows("mrr", by)

    def compute() -> list[Row]:
        cube = engine.cube_for(wh, "movements", full, by, filters, days)
        if cube is not None:
            then = (("rows", 12), rows)
            return arrow_records(engine.sliced(wh, "movements", cube, full, by, filters, then))
        return records(rows(monthly_rates(wh, full, by, filters, days)))

    key = ("movements", full.first, full.last, by, filters_key(filters), days)
    return remember(wh, key, compute)


@service
def mrr_movements(source: Runtime | Warehouse, query: MetricQuery = MetricQuery()) -> list[Row]:
    """Monthly MRR, ARR, paying customers, ARPA, movements, churn rates, NRR and quick ratio.

    Each row: ``month``, the ``by`` column, ``mrr``, ``arr``, ``customers``, ``arpa``, ``new``,
    ``expansion``, ``contraction``, ``churn``, ``reactivation``, ``net_new_mrr``, customer counts
    per movement, ``mrr_previous``, ``customers_previous``, ``logo_churn_rate``,
    ``customer_retention_rate``, ``gross_mrr_churn_rate``, ``net_mrr_churn_rate``,
    ``nrr_monthly``, ``grr_monthly``, ``quick_ratio``, MRR growth ``mrr_mom``, ``mrr_yoy``,
    ``mrr_cmgr`` (12 months) and a ``<metric>_reason`` beside each rate (null when defined).
    """
    wh = warehouse_of(source)
    p = period(wh, query)
    by, checked = query.checked(wh)
    days = delinquency_days(wh, query.delinquency_days)
    return slice_rows(movement_rows(wh, full_period(p, wh), by, checked, days), p)

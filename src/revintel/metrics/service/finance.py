"""Finance: revenue (successful payments) and its growth, margins, CAC and payback, LTV."""

from __future__ import annotations

__all__ = ["acquisition", "financials", "ltv", "monthly_revenue", "revenue"]

from typing import TYPE_CHECKING

import ibis

from revintel.core.calendar import Period
from revintel.metrics.finance import (
    LtvBasis,
    acquisition_cost,
    growth,
    lifetime_value,
    profitability,
)
from revintel.metrics.finance import revenue as revenue_expr
from revintel.metrics.options import Dimension, InvalidMetricOption
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
from revintel.metrics.service.recurring import monthly_rates
from revintel.metrics.service.scope import materialised, remember, service
from revintel.metrics.service.tables import (
    arrow_records,
    customers_if_needed,
    filters_key,
    records,
)

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse


def monthly_revenue(
    wh: Warehouse, full: Period, by: Dimension | None, filters: dict[Dimension, list[str]]
) -> ibis.Table:
    """Monthly revenue over the full period, materialised (a small table: one scan of payments)."""

    cube = engine.cube_for(wh, "revenue", full, by, filters, None)
    if cube is not None:  # a slice of the in-memory cube, read as it is: no temporary table
        return ibis.memtable(engine.sliced(wh, "revenue", cube, full, by, filters))

    def build() -> ibis.Table:
        return revenue_expr(
            wh.table("payments"),
            from_month=full.from_month,
            to_month=full.to_month,
            customers=customers_if_needed(wh, by, filters),
            subscriptions=wh.table("subscriptions") if by == "plan" or "plan" in filters else None,
            by=by,
            filters=filters,
        )

    key = ("revenue", full.first, full.last, by, filters_key(filters))
    return materialised(wh, key, build, within_call=False)


@service
def revenue(
    source: Runtime | Warehouse,
    query: MetricQuery = MetricQuery(),
    *,
    cmgr_months: int = 12,
) -> list[Row]:
    """Monthly revenue (successful payments) and its growth.

    Each row: ``month``, the ``by`` column, ``revenue``, ``successful_payments``,
    ``revenue_mom``, ``revenue_yoy``, ``revenue_cmgr`` (over ``cmgr_months``) and reasons.
    """
    wh = warehouse_of(source)
    p = period(wh, query)
    by, checked = query.checked(wh)
    full = full_period(p, wh)
    rows = engine.growth_rows("revenue", by, cmgr_months)

    def compute() -> list[Row]:
        cube = engine.cube_for(wh, "revenue", full, by, checked, None)
        if cube is not None:
            then = (("rows", cmgr_months), rows)
            return arrow_records(engine.sliced(wh, "revenue", cube, full, by, checked, then))
        return records(rows(monthly_revenue(wh, full, by, checked)))

    key = ("revenue_rows", full.first, full.last, by, filters_key(checked), cmgr_months)
    return slice_rows(remember(wh, key, compute), p)


def _margins(wh: Warehouse, full: Period) -> ibis.Table:
    """Profitability over the full period; without a costs table, costs and margins are null."""
    costs = optional_table(wh, "costs")
    if costs is None:
        costs = ibis.memtable(
            {"month": [], "infra_cost": [], "marketing_cost": [], "support_cost": []},
            schema={
                "month": "string",
                "infra_cost": "float64",
                "marketing_cost": "float64",
                "support_cost": "float64",
            },
        )
    return profitability(monthly_revenue(wh, full, None, {}), costs)


def _no_breakdown(query: MetricQuery, what: str) -> None:
    if query.by is not None or query.filters:
        raise InvalidMetricOption(f"{what} takes no breakdown or filters")


@service
def financials(source: Runtime | Warehouse, query: MetricQuery = MetricQuery()) -> list[Row]:
    """Monthly revenue, costs, gross profit and margin, contribution, revenue growth.

    Company-wide only (no breakdown or filters). Each row: ``month``, ``revenue``,
    ``infra_cost``, ``support_cost``, ``marketing_cost``, ``gross_profit``, ``gross_margin``,
    ``contribution``, ``revenue_mom``, ``revenue_yoy``, ``revenue_cmgr`` and reasons.
    """
    _no_breakdown(query, "Revenue, costs and margins")
    wh = warehouse_of(source)
    wh.table("costs")  # NoDataError naming the table when costs were never loaded
    p = period(wh, query)
    full = full_period(p, wh)

    def compute() -> list[Row]:
        return records(growth(_margins(wh, full), "revenue").order_by("month"))

    return slice_rows(remember(wh, ("financials", full.first, full.last), compute), p)


@service
def acquisition(source: Runtime | Warehouse, query: MetricQuery = MetricQuery()) -> list[Row]:
    """CAC and CAC payback per month, in total or by acquisition channel (``query.by``; no
    filters).

    By channel, spend comes from ``marketing_spend``; in total from ``costs.marketing_cost`` (or
    ``marketing_spend`` summed when there is no costs table). Each row: ``month``,
    ``acquisition_channel`` (by channel), ``marketing_spend``, ``new_customers``, ``cac``,
    ``arpa``, ``gross_margin``, ``cac_payback_months`` and reasons.
    """
    wh = warehouse_of(source)
    by = query.by
    if by not in (None, "acquisition_channel"):
        raise InvalidMetricOption(f"CAC by {by!r}: expected by=None or by='acquisition_channel'")
    if query.filters:
        raise InvalidMetricOption("CAC takes no filters")
    p = period(wh, query)
    days = delinquency_days(wh, query.delinquency_days)
    full = full_period(p, wh)
    costs, spend = optional_table(wh, "costs"), optional_table(wh, "marketing_spend")
    if by is not None and spend is None:
        wh.table("marketing_spend")  # NoDataError naming the table to load
    if costs is None and spend is None:
        wh.table("costs")

    def compute() -> list[Row]:
        movements = monthly_rates(wh, full, by, {}, days)
        use_spend = spend if (by is not None or costs is None) else None
        return records(acquisition_cost(movements, _margins(wh, full), use_spend))

    return slice_rows(remember(wh, ("acquisition", full.first, full.last, by, days), compute), p)


@service
def ltv(
    source: Runtime | Warehouse,
    query: MetricQuery = MetricQuery(),
    *,
    basis: LtvBasis = "gross_margin",
) -> list[Row]:
    """LTV per month: ARPA x gross margin / average logo churn of the 6 months before
    (``basis="arpa"``: ARPA / churn, ChartMogul's convention).

    Each row: ``month``, the ``by`` column, ``arpa``, ``gross_margin``,
    ``average_logo_churn_6m``, ``ltv``, ``ltv_reason``, ``ltv_basis``.
    """
    wh = warehouse_of(source)
    if basis == "gross_margin":
        wh.table("costs")  # NoDataError: a gross-margin LTV needs costs
    p = period(wh, query)
    by, checked = query.checked(wh)
    days = delinquency_days(wh, query.delinquency_days)
    full = full_period(p, wh)

    def compute() -> list[Row]:
        rates = monthly_rates(wh, full, by, checked, days)
        margins = _margins(wh, full) if basis == "gross_margin" else None
        return records(lifetime_value(rates, margins, basis=basis))

    key = ("ltv", full.first, full.last, by, filters_key(checked), days, basis)
    return slice_rows(remember(wh, key, compute), p)

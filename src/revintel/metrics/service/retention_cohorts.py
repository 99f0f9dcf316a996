"""Churn and retention: monthly and trailing-12-month retention, cohorts, trial conversion."""

from __future__ import annotations

__all__ = [
    "RETENTION_RATES",
    "CohortValue",
    "cohort_triangle",
    "cohorts",
    "retention",
    "trailing_rows",
    "trial_conversion",
]

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from revintel.core.calendar import Period
from revintel.metrics.churn import trailing_retention
from revintel.metrics.cohorts import cohort_retention
from revintel.metrics.conversion import DEFAULT_WINDOW_DAYS
from revintel.metrics.conversion import trial_conversion as conversion_expr
from revintel.metrics.options import Dimension
from revintel.metrics.service.query import (
    MetricQuery,
    Row,
    delinquency_days,
    full_period,
    period,
    slice_rows,
    warehouse_of,
)
from revintel.metrics.service.recurring import movement_rows
from revintel.metrics.service.scope import remember, service
from revintel.metrics.service.tables import changes, customers_if_needed, filters_key, records

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse

CohortValue = Literal["logo_retention", "revenue_retention", "customers", "mrr"]

RETENTION_RATES = (
    "logo_churn_rate",
    "customer_retention_rate",
    "gross_mrr_churn_rate",
    "net_mrr_churn_rate",
    "nrr_monthly",
    "grr_monthly",
)


def trailing_rows(
    wh: Warehouse,
    full: Period,
    by: Dimension | None,
    filters: dict[Dimension, list[str]],
    days: int,
) -> list[Row]:
    """Trailing-12-month NRR and GRR over the full period, kept (:func:`remember`)."""

    def compute() -> list[Row]:
        return records(
            trailing_retention(
                changes(wh, by, filters, days), from_month=full.from_month, to_month=full.to_month
            )
        )

    key = ("trailing", full.first, full.last, by, filters_key(filters), days)
    return remember(wh, key, compute)


@service
def retention(source: Runtime | Warehouse, query: MetricQuery = MetricQuery()) -> list[Row]:
    """Monthly churn and retention: logo churn and retention, gross and net MRR churn, NRR and
    GRR (monthly and trailing 12 months), with reasons.

    Each row: ``month``, the ``by`` column, ``customers``, ``customers_previous``,
    ``churned_customers``, ``mrr``, ``mrr_previous``, the rates and ``<rate>_reason``, and the
    trailing-12-month ``base_mrr``, ``retained_mrr``, ``retained_mrr_capped``, ``nrr_t12m``,
    ``grr_t12m``.
    """
    wh = warehouse_of(source)
    p = period(wh, query)
    by, checked = query.checked(wh)
    days = delinquency_days(wh, query.delinquency_days)
    full = full_period(p, wh)
    keep = [
        "month",
        *([by] if by else []),
        "customers",
        "customers_previous",
        "churned_customers",
        "mrr",
        "mrr_previous",
        *[c for rate in RETENTION_RATES for c in (rate, f"{rate}_reason")],
    ]
    rows = {
        _key(r, by): {k: r[k] for k in keep}
        for r in slice_rows(movement_rows(wh, full, by, checked, days), p)
    }
    for t in slice_rows(trailing_rows(wh, full, by, checked, days), p):
        if _key(t, by) in rows:
            rows[_key(t, by)].update({k: v for k, v in t.items() if k not in ("month", by)})
    return [rows[k] for k in sorted(rows)]


def _key(row: Mapping[str, Any], by: str | None) -> tuple[str, str]:
    return (str(row[by]) if by else "", str(row["month"]))


@service
def cohorts(source: Runtime | Warehouse, query: MetricQuery = MetricQuery()) -> list[Row]:
    """Cohort retention in long form: one row per cohort (first-paid month) and age.

    Cohorts from ``start`` to ``end``, ages up to ``end``. Each row: ``cohort``, the ``by``
    column, ``age``, ``month``, ``cohort_customers``, ``cohort_mrr``, ``customers``, ``mrr``,
    ``logo_retention``, ``revenue_retention``. :func:`cohort_triangle` shapes it as a triangle.
    """
    wh = warehouse_of(source)
    p = period(wh, query)
    by, checked = query.checked(wh)
    days = delinquency_days(wh, query.delinquency_days)
    full = full_period(p, wh)

    def compute() -> list[Row]:
        return records(
            cohort_retention(
                changes(wh, by, checked, days), from_month=full.from_month, to_month=full.to_month
            )
        )

    rows = remember(wh, ("cohorts", full.first, full.last, by, filters_key(checked), days), compute)
    return [r for r in slice_rows(rows, p, "cohort") if str(r["month"]) <= p.to_month]


def cohort_triangle(
    rows: Sequence[Mapping[str, Any]], value: CohortValue = "logo_retention"
) -> dict[str, list[float | int | None]]:
    """``{cohort: [value at age 0, 1, ...]}`` from :func:`cohorts` rows (one breakdown value)."""
    triangle: dict[str, list[float | int | None]] = {}
    for row in sorted(rows, key=lambda r: (r["cohort"], r["age"])):
        triangle.setdefault(row["cohort"], []).append(row[value])
    return triangle


@service
def trial_conversion(
    source: Runtime | Warehouse,
    query: MetricQuery = MetricQuery(),
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> list[Row]:
    """Trial-to-paid conversion per trial-start month; ``provisional`` marks open windows.

    Each row: ``month``, the ``by`` column, ``trials``, ``converted``, ``conversion_rate``,
    ``conversion_rate_reason``, ``window_closes``, ``provisional``.
    """
    wh = warehouse_of(source)
    trials = wh.table("trials")
    p = period(wh, query)
    by, checked = query.checked(wh)
    full = full_period(p, wh)

    def compute() -> list[Row]:
        expr = conversion_expr(
            trials,
            wh.table("subscriptions"),
            customers_if_needed(wh, by, checked),
            from_month=full.from_month,
            to_month=full.to_month,
            as_of=full.as_of,
            window_days=window_days,
            by=by,
            filters=checked,
        )
        return records(expr)

    key = ("conversion", full.first, full.last, full.as_of, by, filters_key(checked), window_days)
    return slice_rows(remember(wh, key, compute), p)

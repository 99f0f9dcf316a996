"""The tables every recurring-revenue metric starts from, and how query results become rows.

The customer MRR changes (:func:`changes`) are the base of MRR, movements, retention, cohorts,
LTV and CAC; they are materialised once (:func:`~revintel.metrics.service.scope.materialised`).
"""

from __future__ import annotations

__all__ = [
    "arrow_records",
    "changes",
    "customers_if_needed",
    "filters_key",
    "plain",
    "records",
]

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from revintel.metrics.mrr import delinquent_months, mrr_changes
from revintel.metrics.options import CUSTOMER_DIMENSIONS, Dimension, with_dimension
from revintel.metrics.service.query import Row, optional_table
from revintel.metrics.service.scope import materialised, remember

if TYPE_CHECKING:
    import ibis
    import pyarrow as pa

    from revintel.warehouse import Warehouse


def customers_if_needed(
    wh: Warehouse, by: Dimension | None, filters: Mapping[Dimension, Sequence[str]]
) -> ibis.Table | None:
    """The customers table when the breakdown or a filter is one of its columns, else None."""
    if by in CUSTOMER_DIMENSIONS or any(d in CUSTOMER_DIMENSIONS for d in filters):
        return wh.table("customers")
    return None


def filters_key(filters: Mapping[Dimension, Sequence[str]]) -> tuple[Any, ...]:
    """Filters as a cache key: the same filters in any order give the same key."""
    return tuple(sorted((k, tuple(sorted(v))) for k, v in filters.items()))


def _delinquent(wh: Warehouse, days: int) -> ibis.Table | None:
    """The failed-payment windows (materialised), or None when payments carry no invoice data."""

    def has_invoices() -> bool:
        payments = optional_table(wh, "payments")
        if payments is None or not {"subscription_id", "due_date"} <= set(payments.columns):
            return False
        billed = payments.filter(payments.subscription_id.notnull() & payments.due_date.notnull())
        return int(billed.limit(1).count().to_pandas()) > 0

    if not remember(wh, ("has invoices",), has_invoices):
        return None
    return materialised(
        wh, ("delinquent", days), lambda: delinquent_months(wh.table("payments"), days)
    )


def changes(
    wh: Warehouse, by: Dimension | None, filters: dict[Dimension, list[str]], days: int
) -> ibis.Table:
    """Each customer's MRR changes (materialised), the base of every recurring-revenue metric.

    A customer dimension is fixed per customer (``customers.customer_id`` is unique), so a
    customer's changes by segment, country and so on are their company-wide changes with that
    value, and a customer filter keeps or drops all of them: those are read from the
    company-wide changes instead of being computed again from the raw tables.
    """
    if (by is not None or filters) and "plan" not in filters and by != "plan":
        base = changes(wh, None, {}, days)

        def derive() -> ibis.Table:
            rows = with_dimension(base, wh.table("customers"), by=by, filters=filters)
            dims = [by] if by is not None else []
            return rows.select(
                "customer_id", *dims, *[c for c in base.columns if c != "customer_id"]
            )

        return materialised(wh, ("changes", by, filters_key(filters), days), derive)

    def build() -> ibis.Table:
        return mrr_changes(
            wh.table("subscriptions"),
            customers_if_needed(wh, by, filters),
            by=by,
            filters=filters,
            delinquent=_delinquent(wh, days),
        )

    return materialised(wh, ("changes", by, filters_key(filters), days), build)


def plain(value: Any) -> Any:
    """A query's cell as a plain Python value (``None`` for null and NaN, ``date`` for times)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, datetime):  # pd.Timestamp too
        return value.date()
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def records(expr: ibis.Table) -> list[Row]:
    """The rows of ``expr``, as plain values."""
    # Through Arrow, not pandas: the same Python values (Ibis casts the columns to the
    # expression's schema), several times faster for these small tables.
    return arrow_records(expr.to_pyarrow())


def arrow_records(table: pa.Table) -> list[Row]:
    return [{k: plain(v) for k, v in row.items()} for row in table.to_pylist()]

"""Monthly totals by every customer dimension at once: any customer filter without a recompute.

The MRR movement totals and the revenue totals (:func:`~revintel.metrics.movements.
movement_totals`, :func:`~revintel.metrics.finance.revenue_totals`) are sums over customers of
millionths and counts. Every customer has exactly one value of each customer dimension (segment,
country, acquisition channel, industry; a blank is ``(unknown)``), so the customers matching any
combination of those filters are a union of disjoint cells of the "cube" keyed by all of them,
and their totals are the sums of those cells' totals, exactly (integers). :func:`slice_cube`
filters and sums a cube; :func:`~revintel.metrics.movements.movement_rows`, then the usual rates,
turn the slice into the same rows a filtered computation from the raw tables gives
(``tests/metrics/test_cube.py`` checks it on every dimension and on combinations).

The cube of a company of 100,000 customers over 36 months has a few tens of thousands of rows, so
a dashboard keeps it in memory per data snapshot (``revintel.metrics.service``) and answers a
filter change with a small query instead of a pass over every customer's history. ``plan`` is
not a customer dimension (a customer's subscriptions can differ), so it keeps the full path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ibis

from revintel.core.calendar import month_of
from revintel.metrics.finance import revenue_totals
from revintel.metrics.movements import classify_changes, movement_totals
from revintel.metrics.options import (
    CUSTOMER_DIMENSIONS,
    Dimension,
    dimension_value,
    wanted_values,
)
from revintel.metrics.ratios import to_micros


def cube_dimensions(customers: ibis.Table) -> list[Dimension]:
    """The customer dimensions the ``customers`` table has."""
    return [d for d in CUSTOMER_DIMENSIONS if d in customers.columns]


def _with_dimensions(
    table: ibis.Table, customers: ibis.Table, dims: Sequence[Dimension]
) -> ibis.Table:
    """``table`` (with ``customer_id``) plus each of ``dims``, ``(unknown)`` when blank or when
    the customer is missing, as :func:`~revintel.metrics.options.with_dimension` does."""
    values = customers.select(
        _cube_key=customers.customer_id,
        **{f"_cube_{d}": dimension_value(customers[d]) for d in dims},
    )
    joined = table.left_join(values, table.customer_id == values._cube_key)
    return joined.select(*table.columns, **{d: dimension_value(joined[f"_cube_{d}"]) for d in dims})


def movement_cube(changes: ibis.Table, customers: ibis.Table, *, lo: int, hi: int) -> ibis.Table:
    """:func:`~revintel.metrics.movements.movement_totals` by every customer dimension.

    ``changes`` is :func:`~revintel.metrics.mrr.mrr_changes` output without a breakdown.
    """
    dims = cube_dimensions(customers)
    return movement_totals(
        classify_changes(_with_dimensions(changes, customers, dims)), lo=lo, hi=hi
    )


def revenue_cube(payments: ibis.Table, customers: ibis.Table, *, lo: int, hi: int) -> ibis.Table:
    """:func:`~revintel.metrics.finance.revenue_totals` of successful payments by every customer
    dimension."""
    dims = cube_dimensions(customers)
    paid = _with_dimensions(payments.filter(payments.payment_status == "Success"), customers, dims)
    events = paid.select(
        *dims,
        month_idx=month_of(paid.payment_date.cast("date")),
        amount=to_micros(paid.amount),
        successful_payments=ibis.literal(1, "int64"),
    )
    return revenue_totals(events, lo=lo, hi=hi)


def slice_cube(
    cube: ibis.Table,
    *,
    by: Dimension | None,
    filters: Mapping[Dimension, Sequence[str] | ibis.Column],
) -> ibis.Table:
    """The totals of the customers matching ``filters``, per month and ``by`` value.

    ``by`` and the filters must be customer dimensions present in the cube. A filter is the
    values kept, or a column of them (another table's: the values are then data of the query,
    not part of it).
    """
    rows = cube
    for dim, values in filters.items():
        kept = values if isinstance(values, ibis.Column) else wanted_values(values)
        rows = rows.filter(rows[dim].isin(kept))
    keys = [*([by] if by is not None else []), "month_idx"]
    additive = [c for c in cube.columns if c not in (*CUSTOMER_DIMENSIONS, "month_idx")]
    if by is None:
        # Every month stays, with zeros, when no customer matches (as from the raw tables).
        months = cube.select("month_idx").distinct()
        zeros = months.select("month_idx", **{c: ibis.literal(0, "int64") for c in additive})
        rows = ibis.union(rows.select(*keys, *additive), zeros, distinct=False)
    summed = rows.group_by(keys).aggregate(**{c: rows[c].sum().cast("int64") for c in additive})
    return summed.select(*keys, *additive)

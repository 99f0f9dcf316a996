"""Monthly series from change events: running totals over a gap-free month spine.

A step function (a customer's MRR, a cohort's size) is stored as its changes; its value in month
M is the sum of the changes in months <= M. :func:`running_totals` turns change events into one
row per breakdown value and month, including months without any event.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis

from revintel.core.calendar import number_spine
from revintel.metrics.options import dimension_columns


def running_totals(
    events: ibis.Table,
    *,
    dims: Sequence[str],
    running: Sequence[str],
    flows: Sequence[str] = (),
    lo: int,
    hi: int,
) -> ibis.Table:
    """One row per ``dims`` value and month ``lo``..``hi`` with running totals and monthly flows.

    Parameters
    ----------
    events
        Rows with ``dims``, ``month_idx`` and integer columns ``running`` (changes) and
        ``flows`` (amounts of the month).
    dims
        Breakdown columns (possibly none).
    running
        Columns summed over all events with ``month_idx <= M`` (events before ``lo`` included).
    flows
        Columns summed over the events of month M only.
    lo, hi
        The month numbers to return.

    Returns
    -------
    ibis.Table
        ``dims``, ``month_idx`` and the ``running`` and ``flows`` columns, all int64.
    """
    dims = list(dims)
    columns = [*running, *flows]
    zero = ibis.literal(0, "int64")
    inside = events.filter((events.month_idx >= lo) & (events.month_idx <= hi)).select(
        *dims,
        month_idx=events.month_idx.cast("int64"),
        **{c: events[c].cast("int64") for c in columns},
    )
    spine = number_spine(lo, hi).select("month_idx")
    grid = spine.cross_join(events.select(dims).distinct()) if dims else spine
    grid = grid.select(*dims, "month_idx", **{c: zero for c in columns})
    parts = [grid, inside.select(grid.columns)]
    if running:
        # Everything before lo collapses into lo: only its running part matters there.
        before = events.filter(events.month_idx < lo)
        sums = {c: before[c].sum() for c in running}
        carried = before.group_by(dims).aggregate(**sums) if dims else before.aggregate(**sums)
        carried = carried.select(
            *dims,
            month_idx=ibis.literal(lo, "int64"),
            **{c: carried[c].cast("int64").fill_null(0) for c in running},
            **{c: zero for c in flows},
        )
        parts.append(carried.select(grid.columns))
    rows = ibis.union(*parts, distinct=False)
    per_month = rows.group_by([*dims, "month_idx"]).aggregate(**{c: rows[c].sum() for c in columns})
    window = ibis.cumulative_window(group_by=dims or None, order_by="month_idx")
    return per_month.select(
        *dims,
        "month_idx",
        **{c: per_month[c].sum().over(window).cast("int64") for c in running},
        **{c: per_month[c].cast("int64") for c in flows},
    )


def month_first(table: ibis.Table) -> ibis.Table:
    """Reorder columns: ``month`` (or ``cohort``), then the breakdown column, then the rest."""
    lead = [c for c in ("cohort", "month") if c in table.columns] + dimension_columns(table)
    return table.select(*lead, *[c for c in table.columns if c not in lead])

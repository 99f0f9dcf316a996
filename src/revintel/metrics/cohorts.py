"""Cohort retention triangles (``docs/metrics.md``, Cohorts).

A customer's cohort is the month of their first MRR > 0. At age k (months after the cohort
month): logo retention = share of the cohort with MRR > 0 at cohort + k; revenue retention =
cohort MRR at cohort + k / cohort MRR at the cohort month (it can exceed 100%). A customer who
leaves and comes back counts again from the month they return, in their original cohort.
"""

from __future__ import annotations

import ibis

from revintel.core.calendar import check_range, integer_spine, month_text
from revintel.metrics.mrr import positive_intervals
from revintel.metrics.options import dimension_columns
from revintel.metrics.ratios import from_micros, ratio


def cohort_retention(changes: ibis.Table, *, from_month: str, to_month: str) -> ibis.Table:
    """Logo and revenue retention by first-paid month and age, as a triangle in long form.

    Parameters
    ----------
    changes
        Output of :func:`~revintel.metrics.mrr.mrr_changes` (its breakdown gives cohorts per
        segment, plan, channel and so on).
    from_month, to_month
        Cohort months to include, ``"YYYY-MM"``; ages run up to ``to_month``.

    Returns
    -------
    ibis.Table
        ``cohort`` (``"YYYY-MM"``), the breakdown column (if any), ``age`` (0, 1, ...),
        ``month`` (cohort + age), ``cohort_customers``, ``cohort_mrr``, ``customers`` and
        ``mrr`` at that age, ``logo_retention`` and ``revenue_retention`` (fractions) with
        their ``_reason`` columns. One row per cohort and age up to ``to_month``.
    """
    lo, hi = check_range(from_month, to_month)
    dims = dimension_columns(changes)
    groups = [*dims, "cohort_idx"]
    intervals = positive_intervals(changes)
    members = intervals.filter(
        (intervals.first_month_idx >= lo)
        & (intervals.first_month_idx <= hi)
        & (intervals.start_idx <= hi)
    ).mutate(cohort_idx=intervals.first_month_idx)
    events = ibis.union(
        members.select(
            *groups,
            age=members.start_idx - members.cohort_idx,
            customers=ibis.literal(1, "int64"),
            mrr=members.mrr_micros,
        ),
        members.filter(members.end_idx <= hi).select(
            *groups,
            age=members.end_idx - members.cohort_idx,
            customers=ibis.literal(-1, "int64"),
            mrr=-members.mrr_micros,
        ),
        distinct=False,
    )
    zero = ibis.literal(0, "int64")
    grid = members.select(*groups).distinct().cross_join(integer_spine("age", 0, hi - lo))
    grid = grid.filter(grid.cohort_idx + grid.age <= hi).select(
        *groups, "age", customers=zero, mrr=zero
    )
    rows = ibis.union(grid, events.select(grid.columns), distinct=False)
    per_age = rows.group_by([*groups, "age"]).aggregate(
        customers=rows.customers.sum(), mrr=rows.mrr.sum()
    )
    running = ibis.cumulative_window(group_by=groups, order_by="age")
    per_age = per_age.mutate(
        customers=per_age.customers.sum().over(running).cast("int64"),
        mrr=per_age.mrr.sum().over(running).cast("int64"),
    )
    whole = ibis.window(group_by=groups)
    per_age = per_age.mutate(
        cohort_customers=per_age.customers.max(where=per_age.age == 0).over(whole),
        cohort_mrr=per_age.mrr.max(where=per_age.age == 0).over(whole),
    )
    logo, logo_reason = ratio(per_age.customers, per_age.cohort_customers, "empty cohort")
    revenue, revenue_reason = ratio(per_age.mrr, per_age.cohort_mrr, "cohort has no MRR")
    result = per_age.select(
        *dims,
        cohort=month_text(per_age.cohort_idx),
        age=per_age.age.cast("int64"),
        month=month_text(per_age.cohort_idx + per_age.age),
        cohort_customers=per_age.cohort_customers.cast("int64"),
        cohort_mrr=from_micros(per_age.cohort_mrr),
        customers=per_age.customers,
        mrr=from_micros(per_age.mrr),
        logo_retention=logo,
        logo_retention_reason=logo_reason,
        revenue_retention=revenue,
        revenue_retention_reason=revenue_reason,
    )
    result = result.select(
        "cohort", *dims, *[c for c in result.columns if c not in ("cohort", *dims)]
    )
    return result.order_by([*dims, "cohort", "age"])

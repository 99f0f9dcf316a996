"""MRR movements and the monthly MRR series (``docs/metrics.md``, MRR movements).

Each customer's MRR at the end of M is compared with the end of M-1:

* **new**: 0 -> >0 and the customer never had MRR before;
* **reactivation**: 0 -> >0 and the customer had MRR at some earlier month;
* **expansion**: >0 -> larger; **contraction**: >0 -> smaller but >0;
* **churn**: >0 -> 0, valued at the MRR lost.

``MRR(M) = MRR(M-1) + new + reactivation + expansion - contraction - churn`` holds every month.
"""

from __future__ import annotations

import ibis

from revintel.core.calendar import check_range, month_text
from revintel.metrics.options import dimension_columns
from revintel.metrics.ratios import from_micros, ratio
from revintel.metrics.timeline import month_first, running_totals

MONEY_FLOWS = ("new", "expansion", "contraction", "churn", "reactivation")
COUNT_FLOWS = (
    "new_customers",
    "expansion_customers",
    "contraction_customers",
    "churned_customers",
    "reactivated_customers",
)


def classify_changes(changes: ibis.Table) -> ibis.Table:
    """Each change row of :func:`~revintel.metrics.mrr.mrr_changes` split into its movements.

    Returns the change table's ``customer_id``, breakdown column and ``month_idx`` with the five
    movement amounts (millionths) and 0/1 customer counts for each kind.
    """
    now, before = changes.mrr_micros.cast("int64"), changes.prev_mrr_micros.cast("int64")
    started = (before == 0) & (now > 0)
    first = changes.first_month_idx == changes.month_idx
    zero = ibis.literal(0, "int64")

    def amount(when: ibis.Value, value: ibis.Value) -> ibis.Value:
        return ibis.cases((when, value), else_=zero).cast("int64")

    def count(when: ibis.Value) -> ibis.Value:
        return ibis.cases((when, 1), else_=0).cast("int64")

    is_new = started & first
    is_reactivation = started & ~first
    is_expansion = (before > 0) & (now > before)
    is_contraction = (before > 0) & (now > 0) & (now < before)
    is_churn = (before > 0) & (now == 0)
    return changes.select(
        "customer_id",
        *dimension_columns(changes),
        month_idx=changes.month_idx.cast("int64"),
        new=amount(is_new, now),
        expansion=amount(is_expansion, now - before),
        contraction=amount(is_contraction, before - now),
        churn=amount(is_churn, before),
        reactivation=amount(is_reactivation, now),
        new_customers=count(is_new),
        expansion_customers=count(is_expansion),
        contraction_customers=count(is_contraction),
        churned_customers=count(is_churn),
        reactivated_customers=count(is_reactivation),
        mrr_change=(now - before).cast("int64"),
        customers_change=(count(now > 0) - count(before > 0)).cast("int64"),
    )


def mrr_movements(changes: ibis.Table, *, from_month: str, to_month: str) -> ibis.Table:
    """Monthly MRR, ARR, paying customers, ARPA and MRR movements.

    Parameters
    ----------
    changes
        Output of :func:`~revintel.metrics.mrr.mrr_changes` (its breakdown carries through).
    from_month, to_month
        ``"YYYY-MM"``; every month in between gets a row, with zeros where nothing happened.

    Returns
    -------
    ibis.Table
        ``month``, the breakdown column (if any), ``mrr``, ``arr``, ``customers`` (paying at month
        end), ``arpa`` and ``arpa_reason``, ``mrr_previous``, ``customers_previous``, the
        movements ``new``, ``expansion``, ``contraction``, ``churn``, ``reactivation``,
        ``net_new_mrr`` and the customer counts ``new_customers``, ``expansion_customers``,
        ``contraction_customers``, ``churned_customers``, ``reactivated_customers``.

    Notes
    -----
    ``docs/metrics.md``: MRR movements, ARR = MRR x 12, ARPA = MRR / paying customers.
    """
    lo, hi = check_range(from_month, to_month)
    return movement_rows(movement_totals(classify_changes(changes), lo=lo, hi=hi), lo=lo)


def movement_totals(flows: ibis.Table, *, lo: int, hi: int) -> ibis.Table:
    """Monthly running MRR and customers and the month's movements, in millionths (int64).

    ``flows`` is :func:`classify_changes` output (its breakdown columns carry through); months
    ``lo - 1`` .. ``hi``. Every column but the breakdown and ``month_idx`` is additive over
    customers, so the totals of disjoint groups of customers sum to the totals of their union
    (:mod:`revintel.metrics.cube` relies on it).
    """
    return running_totals(
        flows,
        dims=dimension_columns(flows),
        running=("mrr_change", "customers_change"),
        flows=(*MONEY_FLOWS, *COUNT_FLOWS),
        lo=lo - 1,
        hi=hi,
    )


def movement_rows(series: ibis.Table, *, lo: int) -> ibis.Table:
    """The :func:`mrr_movements` rows from :func:`movement_totals` (months from ``lo``)."""
    dims = dimension_columns(series)
    by_month = ibis.window(group_by=dims or None, order_by="month_idx")
    series = series.mutate(
        mrr_previous=series.mrr_change.lag().over(by_month),
        customers_previous=series.customers_change.lag().over(by_month),
    )
    series = series.filter(series.month_idx >= lo)
    mrr = from_micros(series.mrr_change)
    arpa, arpa_reason = ratio(
        mrr, series.customers_change, "no paying customers at the end of the month"
    )
    result = series.select(
        *dims,
        month=month_text(series.month_idx),
        mrr=mrr,
        arr=mrr * 12,
        customers=series.customers_change,
        arpa=arpa,
        arpa_reason=arpa_reason,
        mrr_previous=from_micros(series.mrr_previous),
        customers_previous=series.customers_previous.cast("int64"),
        **{c: from_micros(series[c]) for c in MONEY_FLOWS},
        net_new_mrr=from_micros(
            series.new + series.reactivation + series.expansion - series.contraction - series.churn
        ),
        **{c: series[c] for c in COUNT_FLOWS},
    )
    return month_first(result).order_by([*dims, "month"])

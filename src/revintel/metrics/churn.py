"""Churn and retention rates, NRR and GRR (``docs/metrics.md``, Churn and retention).

* logo churn rate(M) = customers with MRR>0 at end of M-1 and MRR=0 at end of M / customers
  with MRR>0 at end of M-1 (customers who join and leave within M are in neither);
* customer retention rate(M) = 1 - logo churn rate(M);
* gross MRR churn rate(M) = (churn + contraction) / MRR(M-1);
* net MRR churn rate(M) = (churn + contraction - expansion) / MRR(M-1) (reactivation excluded);
* NRR monthly = (MRR(M-1) + expansion - contraction - churn) / MRR(M-1); GRR monthly =
  (MRR(M-1) - contraction - churn) / MRR(M-1) (= 1 - gross MRR churn rate);
* NRR trailing 12 months = MRR at end of M of the customers with MRR>0 at end of M-12 / their
  MRR at end of M-12; GRR the same with each customer's MRR at M capped at their MRR at M-12;
* SaaS Quick Ratio(M) = (new + expansion + reactivation) / (contraction + churn).
"""

from __future__ import annotations

import ibis

from revintel.core.calendar import check_range, month_text
from revintel.metrics.mrr import positive_intervals
from revintel.metrics.options import dimension_columns
from revintel.metrics.ratios import from_micros, ratio
from revintel.metrics.timeline import month_first, running_totals

NO_CUSTOMERS_BEFORE = "no paying customers at the end of the previous month"
NO_MRR_BEFORE = "no MRR at the end of the previous month"
NO_LOSSES = "no contraction or churn in the month"
NO_MRR_YEAR_BEFORE = "no MRR 12 months earlier"

RATE_COLUMNS = (
    "logo_churn_rate",
    "customer_retention_rate",
    "gross_mrr_churn_rate",
    "net_mrr_churn_rate",
    "nrr_monthly",
    "grr_monthly",
    "quick_ratio",
)


def movement_rates(movements: ibis.Table) -> ibis.Table:
    """Add the monthly churn, retention, NRR and quick-ratio rates to a movements table.

    Parameters
    ----------
    movements
        Output of :func:`~revintel.metrics.movements.mrr_movements`.

    Returns
    -------
    ibis.Table
        ``movements`` plus ``logo_churn_rate``, ``customer_retention_rate``,
        ``gross_mrr_churn_rate``, ``net_mrr_churn_rate``, ``nrr_monthly``, ``grr_monthly`` and
        ``quick_ratio``
        (fractions: 0.05 is 5%), each with a ``<name>_reason`` column that is null when the
        value is defined and otherwise says why it is not.
    """
    m = movements
    logo, logo_reason = ratio(m.churned_customers, m.customers_previous, NO_CUSTOMERS_BEFORE)
    gross, gross_reason = ratio(m.churn + m.contraction, m.mrr_previous, NO_MRR_BEFORE)
    net, net_reason = ratio(m.churn + m.contraction - m.expansion, m.mrr_previous, NO_MRR_BEFORE)
    nrr, nrr_reason = ratio(
        m.mrr_previous + m.expansion - m.contraction - m.churn, m.mrr_previous, NO_MRR_BEFORE
    )
    grr, grr_reason = ratio(m.mrr_previous - m.contraction - m.churn, m.mrr_previous, NO_MRR_BEFORE)
    quick, quick_reason = ratio(
        m.new + m.expansion + m.reactivation, m.contraction + m.churn, NO_LOSSES
    )
    return m.mutate(
        logo_churn_rate=logo,
        logo_churn_rate_reason=logo_reason,
        customer_retention_rate=1.0 - logo,
        customer_retention_rate_reason=logo_reason,
        gross_mrr_churn_rate=gross,
        gross_mrr_churn_rate_reason=gross_reason,
        net_mrr_churn_rate=net,
        net_mrr_churn_rate_reason=net_reason,
        nrr_monthly=nrr,
        nrr_monthly_reason=nrr_reason,
        grr_monthly=grr,
        grr_monthly_reason=grr_reason,
        quick_ratio=quick,
        quick_ratio_reason=quick_reason,
    )


def trailing_retention(changes: ibis.Table, *, from_month: str, to_month: str) -> ibis.Table:
    """Trailing-12-month NRR and GRR per month.

    Computed from each customer's MRR intervals without expanding them to customer-months: a
    pair of intervals of the same customer, one at month B (MRR ``v1 > 0``) and one at B+12 (MRR
    ``v2``), contributes ``v2`` to NRR's numerator and ``min(v1, v2)`` to GRR's for every B in
    both, which is a pair of change events at the ends of their overlap.

    Parameters
    ----------
    changes
        Output of :func:`~revintel.metrics.mrr.mrr_changes`.
    from_month, to_month
        ``"YYYY-MM"``.

    Returns
    -------
    ibis.Table
        ``month``, the breakdown column (if any), ``base_mrr`` (MRR at end of M-12),
        ``retained_mrr`` (MRR at M of those customers), ``retained_mrr_capped``, ``nrr_t12m``,
        ``grr_t12m`` and their ``_reason`` columns.
    """
    lo, hi = check_range(from_month, to_month)
    dims = dimension_columns(changes)
    keys = ["customer_id", *dims]
    intervals = positive_intervals(changes)
    base = intervals.select(*keys, m1="start_idx", n1="end_idx", v1="mrr_micros")
    later = intervals.select(*keys, m2="start_idx", n2="end_idx", v2="mrr_micros")
    pairs = base.join(later, keys)
    pairs = pairs.mutate(
        first_base=ibis.greatest(pairs.m1, pairs.m2 - 12),
        after_base=ibis.least(pairs.n1, pairs.n2 - 12),
        capped=ibis.least(pairs.v1, pairs.v2),
    )
    pairs = pairs.filter(pairs.first_base < pairs.after_base)
    zero = ibis.literal(0, "int64")
    last_base = hi - 12
    events = ibis.union(
        base.select(*dims, month_idx=base.m1, base=base.v1, kept=zero, kept_capped=zero),
        base.filter(base.n1 <= last_base).select(
            *dims, month_idx=base.n1, base=-base.v1, kept=zero, kept_capped=zero
        ),
        pairs.select(
            *dims, month_idx=pairs.first_base, base=zero, kept=pairs.v2, kept_capped=pairs.capped
        ),
        pairs.filter(pairs.after_base <= last_base).select(
            *dims,
            month_idx=pairs.after_base,
            base=zero,
            kept=-pairs.v2,
            kept_capped=-pairs.capped,
        ),
        distinct=False,
    )
    series = running_totals(
        events, dims=dims, running=("base", "kept", "kept_capped"), lo=lo - 12, hi=last_base
    )
    nrr, nrr_reason = ratio(series.kept, series.base, NO_MRR_YEAR_BEFORE)
    grr, grr_reason = ratio(series.kept_capped, series.base, NO_MRR_YEAR_BEFORE)
    result = series.select(
        *dims,
        month=month_text(series.month_idx + 12),
        base_mrr=from_micros(series.base),
        retained_mrr=from_micros(series.kept),
        retained_mrr_capped=from_micros(series.kept_capped),
        nrr_t12m=nrr,
        nrr_t12m_reason=nrr_reason,
        grr_t12m=grr,
        grr_t12m_reason=grr_reason,
    )
    return month_first(result).order_by([*dims, "month"])

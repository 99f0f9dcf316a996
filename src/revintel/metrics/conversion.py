"""Trial-to-paid conversion by trial cohort month (``docs/metrics.md``, Trial-to-paid conversion).

conversion(M) = trials started in M whose customer became paying (first MRR > 0) within the
conversion window (default 30 days after the trial's end) / trials started in M. This is the
cohort view (ChartMogul): a trial counts in the month it started, whenever it converted. A month
whose window has not closed by the as-of date is marked provisional.
"""

from __future__ import annotations

from datetime import date

import ibis

from revintel.core.calendar import check_range, month_of, month_text, number_spine
from revintel.metrics.mrr import first_paid_dates
from revintel.metrics.options import (
    Dimension,
    Filters,
    InvalidMetricOption,
    check_dimension,
    check_filters,
    require_columns,
    with_dimension,
)
from revintel.metrics.ratios import ratio
from revintel.metrics.timeline import month_first

DEFAULT_WINDOW_DAYS = 30
NO_TRIALS = "no trials started in the month"


def trial_conversion(
    trials: ibis.Table,
    subscriptions: ibis.Table,
    customers: ibis.Table | None = None,
    *,
    from_month: str,
    to_month: str,
    as_of: date,
    window_days: int = DEFAULT_WINDOW_DAYS,
    by: Dimension | None = None,
    filters: Filters | None = None,
) -> ibis.Table:
    """Trial-to-paid conversion per trial-start month.

    A trial converts when its customer's first paid day (the first day a subscription of theirs
    had MRR > 0, see :func:`~revintel.metrics.mrr.first_paid_dates`) is on or after
    ``trial_start`` and on or before ``trial_end + window_days``. A customer who was already
    paying before the trial started does not convert through it.

    Parameters
    ----------
    trials, subscriptions, customers
        Canonical tables; ``customers`` only for a customer breakdown or filter.
    from_month, to_month
        Trial-start months, ``"YYYY-MM"``.
    as_of
        The data's as-of date: a month is provisional while some trial's window closes after it.
    window_days
        Conversion window after the trial's last day.
    by, filters
        Breakdown and filters; ``plan`` is the plan trialled (``trials.plan_type``).

    Returns
    -------
    ibis.Table
        ``month``, the breakdown column (if any), ``trials``, ``converted``,
        ``conversion_rate`` (fraction), ``conversion_rate_reason``, ``window_closes`` (the
        last day any of the month's trials can still convert) and ``provisional``.
    """
    if window_days < 0:
        raise InvalidMetricOption(f"window_days = {window_days}: expected 0 or more days")
    lo, hi = check_range(from_month, to_month)
    by = check_dimension(by)
    require_columns(trials, ["customer_id", "trial_start", "trial_end"], "trials")
    rows = with_dimension(trials, customers, by=by, filters=check_filters(filters), what="trials")
    dims = [by] if by is not None else []
    paid = first_paid_dates(subscriptions)
    paid = paid.select(_paid_customer="customer_id", _first_paid="first_paid_date")
    rows = rows.left_join(paid, rows.customer_id == paid._paid_customer)
    start = rows.trial_start.cast("date")
    closes = rows.trial_end.cast("date") + ibis.interval(days=window_days)
    converted = (
        rows._first_paid.notnull() & (rows._first_paid >= start) & (rows._first_paid <= closes)
    )
    started = rows.select(
        *dims,
        month_idx=month_of(start),
        trials=ibis.literal(1, "int64"),
        converted=ibis.cases((converted, 1), else_=0).cast("int64"),
        window_closes=closes.cast("date"),
    )
    started = started.filter((started.month_idx >= lo) & (started.month_idx <= hi))
    spine = number_spine(lo, hi).select("month_idx")
    grid = spine.cross_join(started.select(*dims).distinct()) if dims else spine
    zero = ibis.literal(0, "int64")
    grid = grid.select(
        *dims, "month_idx", trials=zero, converted=zero, window_closes=ibis.null("date")
    )
    union = ibis.union(grid, started.select(grid.columns), distinct=False)
    monthly = union.group_by([*dims, "month_idx"]).aggregate(
        trials=union.trials.sum(),
        converted=union.converted.sum(),
        window_closes=union.window_closes.max(),
    )
    rate, reason = ratio(monthly.converted, monthly.trials, NO_TRIALS)
    result = monthly.select(
        *dims,
        month=month_text(monthly.month_idx),
        trials=monthly.trials.cast("int64"),
        converted=monthly.converted.cast("int64"),
        conversion_rate=rate,
        conversion_rate_reason=reason,
        window_closes=monthly.window_closes,
        provisional=(monthly.window_closes > ibis.literal(as_of, "date")).fill_null(False),
    )
    return month_first(result).order_by([*dims, "month"])

"""Revenue, costs, margins, CAC, LTV and growth (``docs/metrics.md``, Revenue, conversion, finance).

* Revenue(M) = sum of ``amount`` of payments with status Success dated in M (cash, not MRR);
* gross margin(M) = (Revenue - infra_cost - support_cost) / Revenue; contribution(M) =
  Revenue - infra - support - marketing (not operating profit: the costs table holds no payroll,
  R&D or G&A);
* CAC(M) = marketing cost(M) / new customers(M); CAC payback months = CAC / (ARPA x gross margin);
* LTV(M) = ARPA x gross margin / average logo churn rate of the 6 full months before M
  (ChartMogul's ARPA / churn with ``basis="arpa"``);
* MoM % = X(M)/X(M-1) - 1; YoY % = X(M)/X(M-12) - 1; CMGR over n months =
  (X(M)/X(M-n))^(1/n) - 1.
"""

from __future__ import annotations

from typing import Literal

import ibis

from revintel.core.calendar import check_range, month_of, month_text
from revintel.core.formatting import money
from revintel.metrics.options import (
    Dimension,
    Filters,
    InvalidMetricOption,
    check_dimension,
    check_filters,
    dimension_columns,
    require_columns,
    with_dimension,
)
from revintel.metrics.ratios import from_micros, ratio, to_micros, undefined_when
from revintel.metrics.timeline import month_first, running_totals

LtvBasis = Literal["gross_margin", "arpa"]
"""``gross_margin``: ARPA x gross margin / churn (revintel); ``arpa``: ARPA / churn (ChartMogul)."""

LTV_CHURN_MONTHS = 6
NO_REVENUE = "no revenue in the month"
NO_COSTS = "no costs reported for the month"
NO_NEW_CUSTOMERS = "no new customers in the month"
NO_SPEND = "no marketing spend reported for the month"


BILLING_TIMING_GAP = 0.05
"""Cash collected and recognised revenue whose month-over-month changes differ by more than this
(5 points) are said to differ by billing timing."""


def cash_against_recognised(
    cash: float | None,
    cash_before: float | None,
    recognised: float | None,
    recognised_before: float | None,
) -> str | None:
    """What a reader of cash collected (Revenue(M)) needs beside it: recognised revenue (MRR-based)
    and its change, and, when the two changes differ by more than :data:`BILLING_TIMING_GAP`, that
    the gap is billing timing (annual and prepaid invoices collected in one month), not growth.
    None without recognised revenue.
    """
    if recognised is None:
        return None
    note = f"Recognised revenue (MRR-based) {money(recognised)}"
    rec_change = recognised / recognised_before - 1.0 if recognised_before else None
    if rec_change is None:
        return note + "."
    note += f", {rec_change:+.1%}."
    cash_change = cash / cash_before - 1.0 if cash is not None and cash_before else None
    if cash_change is not None and abs(cash_change - rec_change) > BILLING_TIMING_GAP:
        direction = "not growth" if cash_change > rec_change else "not decline"
        note += f" Cash {cash_change:+.1%}: the gap is billing timing (annual plans), {direction}."
    return note


def revenue(
    payments: ibis.Table,
    *,
    from_month: str,
    to_month: str,
    customers: ibis.Table | None = None,
    subscriptions: ibis.Table | None = None,
    by: Dimension | None = None,
    filters: Filters | None = None,
) -> ibis.Table:
    """Revenue(M): successful payments dated in M.

    Parameters
    ----------
    payments
        The ``payments`` table; only rows with ``payment_status == "Success"`` count.
    from_month, to_month
        ``"YYYY-MM"``; months without payments get 0.
    customers
        For a customer breakdown or filter.
    subscriptions
        For a ``plan`` breakdown or filter: a payment's plan is that of its
        ``subscription_id`` ("(unknown)" without one).
    by, filters
        Breakdown and filters.

    Returns
    -------
    ibis.Table
        ``month``, the breakdown column (if any), ``revenue`` and ``successful_payments``.
    """
    lo, hi = check_range(from_month, to_month)
    by = check_dimension(by)
    checked = check_filters(filters)
    require_columns(
        payments, ["customer_id", "payment_date", "amount", "payment_status"], "payments"
    )
    paid = payments.filter(payments.payment_status == "Success")
    if by == "plan" or "plan" in checked:
        if subscriptions is None or "subscription_id" not in paid.columns:
            raise InvalidMetricOption(
                "Revenue by plan needs payments.subscription_id and the subscriptions table"
            )
        plans = subscriptions.select(_plan_sub="subscription_id", plan_type="plan_type")
        paid = paid.left_join(plans, paid.subscription_id == plans._plan_sub).drop("_plan_sub")
    paid = with_dimension(
        paid, customers, by=by, filters=checked, what="payments (through subscriptions)"
    )
    dims = [by] if by is not None else []
    events = paid.select(
        *dims,
        month_idx=month_of(paid.payment_date.cast("date")),
        amount=to_micros(paid.amount),
        successful_payments=ibis.literal(1, "int64"),
    )
    return revenue_rows(revenue_totals(events, lo=lo, hi=hi))


def revenue_totals(events: ibis.Table, *, lo: int, hi: int) -> ibis.Table:
    """Monthly ``amount`` (millionths) and ``successful_payments`` of payment events, by their
    breakdown columns; both additive over customers (:mod:`revintel.metrics.cube`)."""
    return running_totals(
        events,
        dims=dimension_columns(events),
        running=(),
        flows=("amount", "successful_payments"),
        lo=lo,
        hi=hi,
    )


def revenue_rows(series: ibis.Table) -> ibis.Table:
    """The :func:`revenue` rows from :func:`revenue_totals`."""
    dims = dimension_columns(series)
    result = series.select(
        *dims,
        month=month_text(series.month_idx),
        revenue=from_micros(series.amount),
        successful_payments=series.successful_payments,
    )
    return month_first(result).order_by([*dims, "month"])


def profitability(revenue_by_month: ibis.Table, costs: ibis.Table) -> ibis.Table:
    """Gross margin and contribution after infra, support and marketing, per month.

    Parameters
    ----------
    revenue_by_month
        Output of :func:`revenue` without a breakdown (costs are company-wide).
    costs
        The ``costs`` table (``month``, ``infra_cost``, ``marketing_cost``, ``support_cost``).

    Returns
    -------
    ibis.Table
        ``month``, ``revenue``, ``infra_cost``, ``support_cost``, ``marketing_cost``,
        ``gross_profit``, ``gross_margin``, ``contribution`` and ``_reason`` columns. A month
        without a costs row has null costs and null margins, with the reason.
    """
    if dimension_columns(revenue_by_month):
        raise InvalidMetricOption("Gross margin and contribution are company-wide: no breakdown")
    require_columns(costs, ["month", "infra_cost", "marketing_cost", "support_cost"], "costs")
    monthly_costs = costs.select(
        _cost_month=costs.month.cast("string"),
        infra_cost=costs.infra_cost.cast("float64"),
        support_cost=costs.support_cost.cast("float64"),
        marketing_cost=costs.marketing_cost.cast("float64"),
        _reported=ibis.literal(True),
    )
    joined = revenue_by_month.left_join(
        monthly_costs, revenue_by_month.month == monthly_costs._cost_month
    )
    missing = joined._reported.isnull()
    gross_profit = joined.revenue - joined.infra_cost - joined.support_cost
    margin, margin_reason = ratio(
        gross_profit, joined.revenue, NO_REVENUE, missing=(missing, NO_COSTS)
    )
    profit, profit_reason = undefined_when(
        gross_profit - joined.marketing_cost, (missing, NO_COSTS)
    )
    gross_value, _ = undefined_when(gross_profit, (missing, NO_COSTS))
    result = joined.select(
        "month",
        "revenue",
        "infra_cost",
        "support_cost",
        "marketing_cost",
        gross_profit=gross_value,
        gross_margin=margin,
        gross_margin_reason=margin_reason,
        contribution=profit,
        contribution_reason=profit_reason,
    )
    return result.order_by("month")


def acquisition_cost(
    movements: ibis.Table,
    margins: ibis.Table,
    marketing_spend: ibis.Table | None = None,
) -> ibis.Table:
    """CAC and CAC payback per month (and per acquisition channel).

    Parameters
    ----------
    movements
        :func:`~revintel.metrics.movements.mrr_movements` output, without a breakdown or by
        ``acquisition_channel`` (its ``new_customers`` and ``arpa`` are used).
    margins
        :func:`profitability` output (company gross margin, and ``marketing_cost`` when
        ``marketing_spend`` is not given).
    marketing_spend
        The ``marketing_spend`` table (month, channel, spend); required by channel. Without a
        breakdown it is summed over channels when given, else ``costs.marketing_cost`` is used.

    Returns
    -------
    ibis.Table
        ``month``, ``acquisition_channel`` (if broken down), ``marketing_spend``,
        ``new_customers``, ``cac``, ``arpa``, ``gross_margin``, ``cac_payback_months`` and their
        ``_reason`` columns. CAC payback uses the group's ARPA and the company gross margin.
    """
    dims = dimension_columns(movements)
    if dims not in ([], ["acquisition_channel"]):
        raise InvalidMetricOption("CAC is computed in total or by acquisition_channel only")
    if dims and marketing_spend is None:
        raise InvalidMetricOption("CAC by channel needs the marketing_spend table")
    if marketing_spend is not None:
        require_columns(marketing_spend, ["month", "channel", "spend"], "marketing_spend")
        keys = ["_spend_month", *(["_spend_channel"] if dims else [])]
        spend = marketing_spend.select(
            _spend_month=marketing_spend.month.cast("string"),
            _spend_channel=marketing_spend.channel.cast("string"),
            spend=marketing_spend.spend.cast("float64"),
        )
        spend = spend.group_by(keys).aggregate(marketing_spend=spend.spend.sum())
        predicates = [movements.month == spend._spend_month]
        if dims:
            predicates.append(movements.acquisition_channel == spend._spend_channel)
        joined = movements.left_join(spend, predicates)
    else:
        spend = margins.select(_spend_month="month", marketing_spend="marketing_cost")
        joined = movements.left_join(spend, movements.month == spend._spend_month)
    gm = margins.select(
        _gm_month="month", gross_margin="gross_margin", _gm_reason="gross_margin_reason"
    )
    joined = joined.left_join(gm, joined.month == gm._gm_month)
    no_spend = (joined.marketing_spend.isnull(), NO_SPEND)
    cac, cac_reason = ratio(
        joined.marketing_spend, joined.new_customers, NO_NEW_CUSTOMERS, missing=no_spend
    )
    margin_missing = joined.gross_margin.isnull()
    margin_reason = "gross margin undefined: " + joined._gm_reason.fill_null(NO_COSTS)
    payback, payback_reason = undefined_when(
        cac / (joined.arpa * joined.gross_margin).nullif(0.0),
        (cac.isnull(), "CAC undefined: " + cac_reason.fill_null("")),
        (joined.arpa.isnull(), "ARPA undefined: " + joined.arpa_reason.fill_null("")),
        (margin_missing, margin_reason),
        (joined.arpa * joined.gross_margin <= 0, "ARPA x gross margin is not positive"),
    )
    result = joined.select(
        "month",
        *dims,
        "marketing_spend",
        "new_customers",
        cac=cac,
        cac_reason=cac_reason,
        arpa=joined.arpa,
        gross_margin=joined.gross_margin,
        cac_payback_months=payback,
        cac_payback_months_reason=payback_reason,
    )
    return result.order_by([*dims, "month"])


def lifetime_value(
    rates: ibis.Table,
    margins: ibis.Table | None = None,
    *,
    basis: LtvBasis = "gross_margin",
) -> ibis.Table:
    """LTV(M) = ARPA(M) x gross margin(M) / average logo churn of the 6 full months before M.

    Parameters
    ----------
    rates
        :func:`~revintel.metrics.churn.movement_rates` output, gap-free and starting at least 6
        months before the first month whose LTV is wanted (earlier rows give null LTV with a
        reason).
    margins
        :func:`profitability` output; required for ``basis="gross_margin"``.
    basis
        ``"gross_margin"`` (revintel's definition) or ``"arpa"`` (ChartMogul: ARPA / churn).

    Returns
    -------
    ibis.Table
        ``month``, breakdown column, ``arpa``, ``gross_margin``, ``average_logo_churn_6m``,
        ``ltv``, ``ltv_reason`` and ``ltv_basis``.
    """
    if basis not in ("gross_margin", "arpa"):
        raise InvalidMetricOption(f"LTV basis {basis!r}: expected 'gross_margin' or 'arpa'")
    dims = dimension_columns(rates)
    window = ibis.window(group_by=dims or None, order_by="month", rows=(-LTV_CHURN_MONTHS, -1))
    table = rates.mutate(
        average_logo_churn_6m=rates.logo_churn_rate.mean().over(window),
        _churn_months=rates.logo_churn_rate.count().over(window),
    )
    if basis == "gross_margin":
        if margins is None:
            raise InvalidMetricOption("LTV on a gross-margin basis needs costs (gross margin)")
        gm = margins.select(
            _gm_month="month", gross_margin="gross_margin", _gm_reason="gross_margin_reason"
        )
        table = table.left_join(gm, table.month == gm._gm_month)
        margin = table.gross_margin
        margin_missing = (
            margin.isnull(),
            "gross margin undefined: " + table._gm_reason.fill_null(NO_COSTS),
        )
    else:
        table = table.mutate(gross_margin=ibis.null("float64"))
        margin = ibis.literal(1.0)
        margin_missing = (ibis.literal(False), "")
    churn = table.average_logo_churn_6m
    ltv, ltv_reason = undefined_when(
        table.arpa * margin / churn.nullif(0.0),
        (
            table._churn_months < LTV_CHURN_MONTHS,
            f"fewer than {LTV_CHURN_MONTHS} months of logo churn before the month",
        ),
        (churn == 0, f"no logo churn in the {LTV_CHURN_MONTHS} months before: LTV is unbounded"),
        (table.arpa.isnull(), "ARPA undefined: " + table.arpa_reason.fill_null("")),
        margin_missing,
    )
    result = table.select(
        "month",
        *dims,
        "arpa",
        "gross_margin",
        "average_logo_churn_6m",
        ltv=ltv,
        ltv_reason=ltv_reason,
        ltv_basis=ibis.literal(basis),
    )
    return result.order_by([*dims, "month"])


def growth(table: ibis.Table, column: str, *, cmgr_months: int = 12) -> ibis.Table:
    """Add MoM %, YoY % and CMGR of ``column`` (fractions; 0.1 is +10%).

    ``table`` must have one row per month (and breakdown value) with no gaps, such as any
    metric table here; months before its first row count as unknown. Adds
    ``<column>_mom``, ``<column>_yoy``, ``<column>_cmgr`` and their ``_reason`` columns.
    CMGR is undefined when X(M-n) is not positive or X(M) is negative (X(M) = 0 gives -100%).
    """
    if cmgr_months < 1:
        raise InvalidMetricOption(f"cmgr_months = {cmgr_months}: expected 1 or more months")
    dims = dimension_columns(table)
    window = ibis.window(group_by=dims or None, order_by="month")
    x = table[column].cast("float64")
    previous, year_ago, n_ago = (x.lag(k).over(window) for k in (1, 12, cmgr_months))

    def change(earlier: ibis.Value, when: str) -> tuple[ibis.Value, ibis.Value]:
        return undefined_when(
            x / earlier.nullif(0.0) - 1.0,
            (earlier.isnull(), f"no value {when}"),
            (earlier == 0, f"the value {when} is 0"),
            (x.isnull(), "the value is undefined"),
        )

    mom, mom_reason = change(previous, "the month before")
    yoy, yoy_reason = change(year_ago, "12 months before")
    growth_ratio = x / n_ago.nullif(0.0)
    cmgr, cmgr_reason = undefined_when(
        ibis.cases((growth_ratio >= 0, growth_ratio), else_=ibis.null("float64"))
        ** (1.0 / cmgr_months)
        - 1.0,
        (n_ago.isnull(), f"no value {cmgr_months} months before"),
        (n_ago <= 0, f"the value {cmgr_months} months before is not positive"),
        (x.isnull() | (x < 0), "the value is negative or undefined"),
    )
    return table.mutate(
        **{
            f"{column}_mom": mom,
            f"{column}_mom_reason": mom_reason,
            f"{column}_yoy": yoy,
            f"{column}_yoy_reason": yoy_reason,
            f"{column}_cmgr": cmgr,
            f"{column}_cmgr_reason": cmgr_reason,
        }
    )

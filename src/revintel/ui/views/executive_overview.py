"""Executive Overview: headline KPIs with MoM change, MRR with its forecast, movements, revenue.

Thin: reads the sidebar filters, calls :mod:`revintel.metrics.service` and
:mod:`revintel.forecast.service` (through :mod:`revintel.ui.revenue`'s caches) and draws. The
forecast and anomaly detection run in the background, so the page shows its numbers first.
Definitions: ``docs/metrics.md``.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from revintel.app.context import AppContext
from revintel.forecast.anomalies import DEFAULT_MOM_THRESHOLD
from revintel.ui import revenue as rv
from revintel.ui import vega
from revintel.ui.components import current_context, has_data, render_empty_state
from revintel.ui.outlook import Outlook

MRR_COLUMNS = ["month", "mrr", "arr", "customers", "arpa", "mrr_mom"]
MOVEMENT_COLUMNS = ["month", "new", "expansion", "reactivation", "contraction", "churn",
                    "net_new_mrr", "mrr"]  # fmt: skip
REVENUE_COLUMNS = ["month", "revenue", "successful_payments", "revenue_mom"]
RATE_COLUMNS = ["month", "logo_churn_rate", "gross_mrr_churn_rate", "nrr_monthly"]
RATE_SERIES = [("logo_churn_rate", "Logo churn"), ("gross_mrr_churn_rate", "Gross MRR churn")]


def render(ctx: AppContext) -> None:
    """The whole page."""
    rv.page_header(
        "Executive Overview",
        "MRR, revenue, churn and growth at a glance, with a 6-month forecast and flagged months. "
        "Changes are month over month; a tile's ? gives its definition (docs/metrics.md).",
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    if rv.missing_table_notice(ctx, "subscriptions", "recurring revenue (MRR) and churn"):
        return
    filters = rv.render_filters(ctx)
    movements = rv.metric(ctx, "mrr_movements", **filters.options)
    has_payments = ctx.warehouse.has_table("payments")
    cash = rv.metric(ctx, "revenue", **filters.options) if has_payments else []
    st.caption(f":material/calendar_month: {filters.describe()}")

    render_kpis(movements, cash, filters.end, has_payments)
    rule = st.toggle(RULE_TOGGLE, value=False, key="eo_rule_flags", help=RULE_HELP)

    mrr_outlook = rv.outlook(movements, "mrr", "mrr", ctx=ctx, filters=filters)
    pending = [mrr_outlook]
    drawn_without: list[bool] = []  # charts drawn before their forecast was ready
    left, right = st.columns(2)
    with left:
        drawn_without.append(render_mrr_trend(ctx, movements, filters, mrr_outlook, rule=rule))
    with right:
        shown = rv.in_range(movements, filters)
        rv.chart_card(
            "MRR movements",
            vega.movements_spec(shown),
            partial(rv.frame_of, shown, MOVEMENT_COLUMNS),
            "mrr_movements",
            help=rv.definition_help("new"),
            caption="New, expansion and reactivation add MRR; contraction and churn remove it.",
        )
    left, right = st.columns(2)
    with left:
        if has_payments:
            revenue_outlook = rv.outlook(cash, "revenue", "revenue", ctx=ctx, filters=filters)
            pending.append(revenue_outlook)
            drawn_without.append(
                render_revenue_trend(ctx, cash, filters, revenue_outlook, rule=rule)
            )
        else:
            with st.container(border=True):
                st.markdown("**Cash collected**")
                rv.missing_table_notice(ctx, "payments", "revenue (successful payments)")
    with right:
        shown = rv.in_range(movements, filters)
        rv.chart_card(
            "Churn and retention",
            vega.rates_spec(shown, RATE_SERIES),
            partial(rv.frame_of, shown, RATE_COLUMNS),
            "churn_retention",
            help=rv.definition_help("logo_churn_rate"),
            caption="Months where a rate is undefined (no customers the month before) are gaps.",
        )
    # Decided on what was drawn, not on the futures now: one may have finished since its chart
    # was drawn without it, and the page must still run again to show it.
    rv.start_outlooks()  # now that the page is drawn
    if any(drawn_without):
        rv.rerun_when_done(pending)


def render_kpis(movements: list[dict], cash: list[dict], month: str, has_payments: bool) -> None:
    """The eight headline tiles of the last month in range, with month-over-month change; cash
    collected with recognised revenue beside it."""
    revenue_kpi = (
        rv.cash_kpi(cash, movements, month)
        if has_payments
        else rv.Kpi("revenue", None, None, reason="load the payments table")
    )
    rv.kpi_tiles(
        [
            rv.kpi_from_rows("mrr", movements, month),
            rv.kpi_from_rows("arr", movements, month),
            rv.kpi_from_rows("customers", movements, month),
            revenue_kpi,
            rv.kpi_from_rows("arpa", movements, month),
            rv.kpi_from_rows("nrr_monthly", movements, month, label="NRR (monthly)"),
            rv.kpi_from_rows(
                "logo_churn_rate", movements, month, label="Logo churn", good_when_down=True
            ),
            rv.kpi_from_rows("quick_ratio", movements, month, unit="multiple", label="Quick ratio"),
        ]
    )


MARKERS = (
    "Red dots: months outside the model's 95% band (unexpected, allowing for trend and season). "
    f"With “Rule flags” on, amber rings: a month-over-month change more than "
    f"{DEFAULT_MOM_THRESHOLD:.0%} away from the recent trend that the model expected. Hover a "
    "marker for why."
)
RULE_TOGGLE = "Rule flags"
RULE_HELP = (
    f"Also mark months whose month-over-month change is more than {DEFAULT_MOM_THRESHOLD:.0%} "
    "away from the trend (the median change of the 6 months before). Off by default: cash "
    "collected swings with annual billing, so the rule flags many months the model expects."
)


def render_mrr_trend(
    ctx: AppContext,
    movements: list[dict],
    filters: rv.RevenueFilters,
    future: rv.OutlookFuture,
    *,
    rule: bool = False,
) -> bool:
    """MRR over the range, the forecast after it with 80% and 95% bands, anomalous months.

    True when drawn before the forecast was ready."""
    result = future.result() if future.done() else None
    shown = rv.in_range(movements, filters)
    notes = []
    if result is None:
        notes.append(":material/hourglass_top: Forecast and anomaly detection are running…")
    else:
        if result.forecast is not None:
            f = result.forecast
            mape = "—" if f.backtest_mape is None else f"{f.backtest_mape:.1f}%"
            notes.append(
                f"Forecast {f.horizon} months ahead: {f.model}, chosen by rolling-origin "
                f"backtest (MAPE {mape}); bands are the 80% and 95% intervals. {MARKERS}"
            )
        else:
            notes.append(f"No forecast: {result.forecast_error}")
        if result.anomalies_error:
            notes.append(f"No anomaly detection: {result.anomalies_error}")
    rv.chart_card(
        "MRR trend and forecast",
        vega.trend_spec(shown, "mrr", "MRR", result=result, rule=rule),
        partial(mrr_trend_frame, shown, result),
        "mrr_trend",
        help=rv.definition_help("mrr"),
        caption=" ".join(notes),
    )
    return result is None


def mrr_trend_frame(shown: list[dict], result: Outlook | None) -> pd.DataFrame:
    """The MRR trend card's CSV: the months shown, then the forecast's months with its mean and
    80%/95% bounds (when it was drawn)."""
    frame = rv.frame_of(shown, MRR_COLUMNS)
    if result is not None and result.forecast is not None:
        forecast = result.forecast.to_frame().rename(columns={"mean": "forecast"})
        frame = frame.merge(forecast, on="month", how="outer")
    return frame


def render_revenue_trend(
    ctx: AppContext,
    cash: list[dict],
    filters: rv.RevenueFilters,
    future: rv.OutlookFuture,
    *,
    rule: bool = False,
) -> bool:
    """Monthly revenue (successful payments), its forecast and anomalous months.

    True when drawn before the forecast was ready."""
    result = future.result() if future.done() else None
    shown = rv.in_range(cash, filters)
    rv.chart_card(
        "Cash collected",
        vega.trend_spec(shown, "revenue", "Cash collected", result=result, kind="bar", rule=rule),
        partial(rv.frame_of, shown, REVENUE_COLUMNS),
        "revenue_trend",
        help=rv.definition_help("revenue"),
        caption="Successful payments per month, as billed: months when annual plans are paid "
        f"upfront stand out; recognised revenue (MRR-based) is the MRR trend. {MARKERS}",
    )
    return result is None


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())

"""Risk Trends: portfolio churn risk weighted by MRR over months, expected churn next quarter with
its interval and backtest, risk by signup cohort, the customers whose risk rose most, feature drift
by month, and the intervention impact of campaigns.

Thin: reads the options, calls :mod:`revintel.app.retention.risk_trends`, draws. Definitions:
``docs/retention.md``, Risk trends.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from revintel.app.context import AppContext
from revintel.app.retention.risk_trends import (
    CohortReport,
    FeatureDriftTrend,
    RiserReport,
    RiskTrends,
    cohort_risk,
    feature_drift,
    risk_risers,
    risk_trends,
)
from revintel.core.errors import NotFoundError, RevintelError
from revintel.core.formatting import money, percent
from revintel.core.vocabulary import RISK_TIERS
from revintel.ui.components import current_context, has_data, render_empty_state
from revintel.ui.revenue import chart_card, data_version, layout
from revintel.ui.views import page_path

TIER_COLOURS = {"High": "#DC2626", "Medium": "#F59E0B", "Low": "#0EA5E9", "Safe": "#94A3B8"}
ACCOUNT_360 = "account_360.py"


@st.cache_data(max_entries=8, show_spinner=False)
def _trends(version: str, months: int, level: float, _ctx: AppContext) -> RiskTrends:
    return risk_trends(_ctx, months, level)


@st.cache_data(max_entries=8, show_spinner=False)
def _cohorts(version: str, by: str, months: int, _ctx: AppContext) -> CohortReport:
    return cohort_risk(_ctx, by, months)


@st.cache_data(max_entries=8, show_spinner=False)
def _risers(version: str, limit: int, months: int, _ctx: AppContext) -> RiserReport:
    return risk_risers(_ctx, limit, months)


@st.cache_data(max_entries=8, show_spinner=False)
def _drift(version: str, months: int, _ctx: AppContext) -> FeatureDriftTrend:
    return feature_drift(_ctx, months)


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Risk Trends", anchor=False)
    st.caption(
        "Churn risk of the customer base over months, weighted by MRR; churn expected next "
        "quarter with its interval, checked against past quarters; risk by signup cohort; the "
        "biggest risers; feature drift. Definitions: docs/retention.md, Risk trends."
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    version = data_version(ctx)
    left, right = st.columns(2)
    months = left.slider("Months", 3, 36, 12, key="rt_months")
    level = right.select_slider(
        "Interval", options=[0.8, 0.9, 0.95, 0.99], value=0.9, format_func=percent,
        key="rt_level",
    )  # fmt: skip
    try:
        with st.spinner("Scoring each month with the production model…"):
            report = _trends(version, months, level, ctx)
    except NotFoundError as exc:
        st.info(f"{exc}. Risk trends score each month with the production churn model.")
        return
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    st.caption(
        f"History: a {report.source} (the months' features use data up to each "
        "month end only). Tiers use the latest month's cut-offs for every month."
    )
    portfolio, cohorts, risers, drift, impact = st.tabs(
        ["Portfolio", "Cohorts", "Risers", "Feature drift", "Intervention impact"]
    )
    with portfolio:
        render_portfolio(report)
    with cohorts:
        render_cohorts(ctx, version, months)
    with risers:
        render_risers(ctx, version, months)
    with drift:
        render_drift(ctx, version, months)
    with impact:
        render_impact(ctx)


def render_portfolio(report: RiskTrends) -> None:
    q = report.next_quarter
    cols = st.columns(4)
    cols[0].metric(
        "Customers expected to churn",
        f"{q.expected_customers:,.1f}",
        help=f"In {q.quarter}: Σ of 3-month churn probabilities of the {q.customers:,} "
        "customers with MRR at "
        f"{q.as_of} ({q.horizon_conversion}).",
        border=True,
    )
    cols[1].metric(
        f"{percent(q.level, 0)} interval",
        f"{q.customers_low:,.0f} – {q.customers_high:,.0f}",
        help="Quantiles of the Poisson-binomial distribution of the churned count "
        f"({q.count_method}).",
        border=True,
    )
    cols[2].metric(
        "Expected churned MRR",
        money(q.expected_mrr),
        help=f"Σ mrr·p; {percent(q.level, 0)} interval {money(q.mrr_low)} – {money(q.mrr_high)} "
        "(normal approximation, variance Σ mrr²·p(1−p)).",
        border=True,
    )
    last = report.series[-1]
    cols[3].metric(
        "MRR-weighted risk",
        percent(last.mrr_weighted_risk),
        delta=(
            f"{(last.mrr_weighted_risk - report.series[-2].mrr_weighted_risk) * 100:+.1f} pts"
            if len(report.series) > 1
            else None
        ),
        delta_color="inverse",
        help=f"Σ mrr·p ÷ Σ mrr at {last.month} ({report.horizon_months}-month probability).",
        border=True,
    )
    series = pd.DataFrame(
        [
            {
                "month": m.month,
                "customers": m.customers,
                "mrr": m.mrr,
                "mrr_weighted_risk": m.mrr_weighted_risk,
                "average_risk": m.average_risk,
                **{f"{t}_customers": m.tier_counts[t] for t in RISK_TIERS},
                **{f"{t}_mrr": m.tier_mrr[t] for t in RISK_TIERS},
                "expected_churned": m.expected_churned,
            }
            for m in report.series
        ]
    )
    left, right = st.columns(2)
    with left:
        figure = go.Figure()
        figure.add_scatter(
            x=series["month"],
            y=series["mrr_weighted_risk"],
            name="MRR-weighted",
            mode="lines+markers",
        )
        figure.add_scatter(
            x=series["month"], y=series["average_risk"], name="Unweighted", mode="lines",
            line={"dash": "dot"},
        )  # fmt: skip
        layout(figure, yaxis_tickformat=".1%", yaxis_title="Churn probability")
        chart_card(
            "Portfolio risk",
            figure,
            lambda: series,
            "risk_trend_portfolio",
            caption=f"{report.horizon_months}-month churn probability of the customers with MRR "
            "at each month end.",
        )
    with right:
        basis = (
            st.segmented_control(
                "Tiers by", ["Customers", "MRR"], default="Customers", key="rt_tier_basis"
            )
            or "Customers"
        )
        suffix = "customers" if basis == "Customers" else "mrr"
        tiers = go.Figure()
        for tier in RISK_TIERS:
            tiers.add_bar(
                x=series["month"], y=series[f"{tier}_{suffix}"], name=tier,
                marker_color=TIER_COLOURS[tier],
            )  # fmt: skip
        layout(tiers, barmode="stack", yaxis_title=basis)
        chart_card("Risk tiers", tiers, lambda: series, "risk_trend_tiers")
    render_calibration(report)


def render_calibration(report: RiskTrends) -> None:
    if not report.calibration:
        st.info("No past month in the window has a known 3-month outcome yet (backtest).")
        return
    frame = pd.DataFrame([vars(pt) for pt in report.calibration])
    figure = go.Figure()
    figure.add_scatter(
        x=frame["month"], y=frame["high"], mode="lines", line={"width": 0}, showlegend=False,
        hoverinfo="skip",
    )  # fmt: skip
    figure.add_scatter(
        x=frame["month"], y=frame["low"], mode="lines", line={"width": 0}, fill="tonexty",
        fillcolor="rgba(37,99,235,0.15)", name=f"{percent(report.next_quarter.level, 0)} interval",
    )  # fmt: skip
    figure.add_scatter(x=frame["month"], y=frame["expected"], name="Expected", mode="lines")
    figure.add_scatter(
        x=frame["month"], y=frame["actual"], name="Actual", mode="markers",
        marker={"color": "#DC2626", "size": 9},
    )  # fmt: skip
    layout(figure, yaxis_title="Customers churned in the next 3 months")
    coverage = report.calibration_coverage or 0.0
    in_sample = int(frame["in_training"].sum())
    chart_card(
        "Backtest: expected vs actual churn in the following quarter",
        figure,
        lambda: frame,
        "risk_trend_calibration",
        caption=f"The realised count fell inside the interval in {percent(coverage, 0)} of "
        f"{len(frame)} months. {in_sample} of them were in the model's training window "
        "(in-sample). The interval is the spread of chance alone (independent customers, "
        "probabilities taken as true); model error widens it.",
    )


def render_cohorts(ctx: AppContext, version: str, months: int) -> None:
    by = (
        st.segmented_control(
            "Signup cohort", ["quarter", "month"], default="quarter", key="rt_cohort_by"
        )
        or "quarter"
    )
    try:
        report = _cohorts(version, by, months, ctx)
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    frame = pd.DataFrame([vars(c) for c in report.cohorts])
    if frame.empty:
        st.info("No cohort has customers with MRR.")
        return
    figure = go.Figure()
    figure.add_bar(x=frame["cohort"], y=frame["average_risk"], name="Average risk")
    figure.add_scatter(
        x=frame["cohort"], y=frame["high_share"], name="Share in High", mode="lines+markers",
        yaxis="y2",
    )  # fmt: skip
    layout(
        figure,
        yaxis_tickformat=".0%",
        yaxis_title="Average churn probability",
        yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%", "title": "High tier"},
    )
    chart_card(
        f"Risk by signup {by} at {report.as_of}",
        figure,
        lambda: frame,
        "risk_trend_cohorts",
        caption="Customers with MRR at the latest month end, by signup date.",
    )
    st.dataframe(
        frame,
        hide_index=True,
        column_config={
            "average_risk": st.column_config.ProgressColumn("Average risk", format="percent"),
            "mrr_weighted_risk": st.column_config.NumberColumn("MRR-weighted", format="percent"),
            "high_share": st.column_config.ProgressColumn("In High", format="percent"),
            "mrr": st.column_config.NumberColumn("MRR", format="dollar"),
            "expected_churned": st.column_config.NumberColumn("Expected churn (3m)", format="%.1f"),
        },
    )


def render_risers(ctx: AppContext, version: str, months: int) -> None:
    limit = st.number_input("Customers", 5, 200, 25, step=5, key="rt_risers")
    try:
        report = _risers(version, int(limit), months, ctx)
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    st.caption(f"Risk at {report.latest} against {report.previous}, largest rise first.")
    if not report.risers:
        st.info("No customer's risk rose since the previous month.")
        return
    frame = pd.DataFrame([vars(r) for r in report.risers]).drop(columns=["top_factor"])
    picked = st.dataframe(
        frame,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="rt_risers_table",
        column_config={
            "previous_risk": st.column_config.NumberColumn("Before", format="percent"),
            "risk": st.column_config.NumberColumn("Now", format="percent"),
            "change": st.column_config.NumberColumn("Rise", format="percent"),
            "mrr": st.column_config.NumberColumn("MRR", format="dollar"),
            "top_factor_label": "Top factor",
        },
    )
    rows = picked.selection.rows if picked is not None else []
    account = str(frame["account_id"].iloc[rows[0] if rows else 0])
    st.page_link(
        page_path(ACCOUNT_360),
        label=f"Open {account} in Account 360",
        icon=":material/person_search:",
        query_params={"account": account},
    )


def render_drift(ctx: AppContext, version: str, months: int) -> None:
    try:
        report = _drift(version, months, ctx)
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    rows = report.rows.to_pandas()
    grid = rows.pivot(index="label", columns="month", values="psi")
    grid = grid.loc[grid.max(axis=1).sort_values(ascending=False).index]
    figure = go.Figure(
        go.Heatmap(
            z=grid.values,
            x=list(grid.columns),
            y=list(grid.index),
            colorscale=[[0, "#F1F5F9"], [0.2, "#FDE68A"], [0.5, "#F59E0B"], [1, "#DC2626"]],
            zmin=0,
            zmax=0.5,
            colorbar={"title": "PSI"},
            hovertemplate="%{y}, %{x}: PSI %{z:.3f}<extra></extra>",
        )
    )
    layout(figure, height=max(340, 18 * len(grid)))
    chart_card(
        "PSI by month against the training data",
        figure,
        lambda: rows,
        "risk_trend_drift",
        caption=f"Model {report.model_version}, trained on {report.training}. < 0.1 stable, "
        "0.1–0.25 moderate, ≥ 0.25 drift. Tenure and subscription age move with the calendar.",
    )
    numeric = sorted(rows.loc[rows["kind"] == "numeric", "label"].unique())
    if numeric:
        feature = st.selectbox("Feature", numeric, key="rt_drift_feature")
        part = rows[rows["label"] == feature]
        line = go.Figure()
        line.add_scatter(x=part["month"], y=part["current_mean"], name="Mean", mode="lines+markers")
        line.add_scatter(x=part["month"], y=part["current_median"], name="Median", mode="lines")
        line.add_scatter(
            x=part["month"], y=part["reference_mean"], name="Training mean", mode="lines",
            line={"dash": "dash"},
        )  # fmt: skip
        layout(line)
        chart_card(f"{feature} by month", line, lambda: part, "risk_trend_feature")


def render_impact(ctx: AppContext) -> None:
    from revintel.ui import intervention_impact

    intervention_impact.render(ctx)


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())

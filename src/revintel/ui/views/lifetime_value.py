"""Lifetime Value: sBG CLV KPIs beside the simple LTV, retention curves, CLV by group, RFM and a
per-customer lookup.

Thin: reads the options, calls :mod:`revintel.clv.service`, draws. Definitions: ``docs/clv.md``.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from revintel.app.context import AppContext
from revintel.clv import service
from revintel.core.csv_export import to_csv_bytes
from revintel.core.errors import RevintelError
from revintel.core.formatting import money, percent
from revintel.ui.components import current_context, has_data, render_empty_state

GROUP_LABELS = {
    "cohort": "Signup month",
    "quarter": "Signup quarter",
    "segment": "Segment",
    "plan": "Plan",
    "channel": "Acquisition channel",
}
# Groups drawn on the retention chart (the largest), besides the whole base.
MAX_CURVES = 8
TABLE_COLUMNS = (
    "group", "customers", "churned", "alpha", "beta", "mean_monthly_churn", "retention_12m",
    "del_months", "arpa", "clv", "simple_ltv", "reason",
)  # fmt: skip


@st.cache_data(max_entries=16, show_spinner=False)
def _cached_report(_ctx: AppContext, key: tuple[Any, ...]) -> service.ClvReport:
    return service.report(_ctx, by=key[1], discount_rate=key[2])


def _report(ctx: AppContext, by: str, discount: float) -> service.ClvReport:
    snapshot = service.snapshot_key(ctx)
    if snapshot is None:
        return service.report(ctx, by=by, discount_rate=discount)  # type: ignore[arg-type]
    return _cached_report(ctx, (snapshot, by, discount))


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Lifetime Value", anchor=False)
    st.caption(
        "Customer lifetime value from the shifted-beta-geometric retention model (Fader & Hardie "
        "2007) beside the simple metric LTV, and RFM segments. Definitions: docs/clv.md."
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    left, right = st.columns([2, 1])
    by = (
        left.segmented_control(
            "Group by",
            list(GROUP_LABELS),
            format_func=GROUP_LABELS.get,
            default="segment",
            key="clv_by",
        )
        or "segment"
    )
    discount = right.number_input(
        "Annual discount rate", 0.0, 0.5, 0.10, 0.01, format="%.2f", key="clv_discount"
    )
    try:
        result = _report(ctx, by, float(discount))
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    for note in result.notes:
        st.warning(note, icon=":material/warning:")
    render_kpis(result)
    render_curves(result)
    render_table(result)
    render_rfm(ctx)
    render_lookup(ctx, by, float(discount))


def shape(value: float | None) -> str:
    """An sBG shape parameter to three significant digits, as the table shows it, but never in
    exponent notation: ``0.0547``, ``1.62``, ``48.9``, ``309``, ``2,110``, ``41,000`` (and
    ``< 0.001`` below that)."""
    if value is None or not math.isfinite(value):
        return "—"
    if abs(value) < 0.001:
        return "0" if value == 0 else "< 0.001"
    rounded = float(f"{value:.3g}")
    return f"{rounded:,.0f}" if abs(rounded) >= 100 else f"{value:.3g}"


def render_kpis(result: service.ClvReport) -> None:
    overall, pricing = result.overall, result.pricing
    cols = st.columns(4)
    cols[0].metric(
        "Average CLV",
        money(overall.clv),
        help="ARPA × gross margin × discounted expected lifetime of the whole base "
        f"({result.month}).",
        border=True,
    )
    cols[1].metric(
        "Discounted lifetime",
        "—" if overall.del_months is None else f"{overall.del_months:.1f} months",
        help="Discounted expected lifetime of the whole base: Σ S(t)/(1+d)^t at "
        f"{result.discount_rate.annual:.0%} a year.",
        border=True,
    )
    cols[2].metric(
        "sBG α / β (whole base)",
        "—" if overall.alpha is None else f"{shape(overall.alpha)} / {shape(overall.beta)}",
        help="Churn probability θ ~ Beta(α, β); mean churn α/(α+β) = "
        + percent(overall.mean_monthly_churn, 2)
        + " a month.",
        border=True,
    )
    simple = pricing.simple_ltv
    basis = "ARPA × gross margin" if pricing.basis == "gross_margin" else "ARPA"
    cols[3].metric(
        "Simple LTV",
        money(simple) if simple is not None else "undefined",
        help=f"{basis} ÷ average logo churn of the 6 months before {pricing.month}"
        + ("" if simple is not None else f" ({pricing.simple_ltv_reason})"),
        border=True,
    )
    st.caption(
        f"Simple LTV = {basis} ÷ 6-month average logo churn "
        f"({money(pricing.arpa)} ARPA, "
        + percent(pricing.average_logo_churn_6m, 2)
        + " churn a month): it assumes constant churn, where the sBG CLV lets churn fall as "
        "riskier customers leave."
    )


def render_curves(result: service.ClvReport) -> None:
    st.subheader("Retention: observed vs fitted", anchor=False)
    curves = result.curves
    sizes = sorted(result.groups, key=lambda r: -r.customers)[:MAX_CURVES]
    shown = ["All customers", *[g.group for g in sizes]]
    fig = go.Figure()
    palette = px.colors.qualitative.Plotly
    for i, name in enumerate(shown):
        part = curves.filter(pl.col("group") == name).sort("month")
        colour = palette[i % len(palette)]
        observed = part.filter(pl.col("observed").is_not_null())
        fig.add_scatter(
            x=observed["month"].to_list(),
            y=observed["observed"].to_list(),
            mode="markers",
            name=f"{name} (observed)",
            marker={"color": colour, "size": 6},
            legendgroup=name,
        )
        fitted = part.filter(pl.col("fitted").is_not_null())
        fig.add_scatter(
            x=fitted["month"].to_list(),
            y=fitted["fitted"].to_list(),
            mode="lines",
            name=f"{name} (sBG)",
            line={"color": colour},
            legendgroup=name,
        )
    fig.update_layout(
        height=420,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis_title="Months since first payment",
        yaxis_title="Share still paying",
        yaxis_tickformat=".0%",
    )
    st.plotly_chart(fig, width="stretch", key="clv_curves")


def render_table(result: service.ClvReport) -> None:
    st.subheader(f"CLV by {GROUP_LABELS[result.by].lower()}", anchor=False)
    rows = [{c: getattr(r, c) for c in TABLE_COLUMNS} for r in [result.overall, *result.groups]]
    st.dataframe(
        pl.DataFrame(rows, infer_schema_length=None),
        hide_index=True,
        width="stretch",
        placeholder="—",
        column_config={
            "mean_monthly_churn": st.column_config.NumberColumn("mean churn", format="percent"),
            "retention_12m": st.column_config.NumberColumn("S(12)", format="percent"),
            "del_months": st.column_config.NumberColumn("DEL (months)", format="%.1f"),
            "alpha": st.column_config.NumberColumn("α", format="%.3g"),
            "beta": st.column_config.NumberColumn("β", format="%.3g"),
            "arpa": st.column_config.NumberColumn("ARPA", format="dollar"),
            "clv": st.column_config.NumberColumn("CLV", format="dollar"),
            "simple_ltv": st.column_config.NumberColumn("simple LTV", format="dollar"),
        },
    )


@st.cache_data(max_entries=8, show_spinner=False)
def _cached_rfm(_ctx: AppContext, snapshot: str) -> service.RfmAnalysis:
    return service.rfm_analysis(_ctx)


def render_rfm(ctx: AppContext) -> None:
    st.subheader("RFM segments", anchor=False)
    if not ctx.warehouse.has_table("payments"):
        st.info("Load the payments table to see RFM segments.", icon=":material/info:")
        return
    snapshot = service.snapshot_key(ctx)
    try:
        result = service.rfm_analysis(ctx) if snapshot is None else _cached_rfm(ctx, snapshot)
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    segments = result.segments
    present = segments.filter(pl.col("customers") > 0)
    chart, table = st.columns([1, 1])
    with chart:
        fig = px.treemap(
            present.to_pandas(),
            path=["segment"],
            values="customers",
            color="monetary",
            color_continuous_scale="Blues",
            hover_data={"strategy": True, "monetary_share": ":.1%"},
        )
        fig.update_layout(height=380, margin={"l": 0, "r": 0, "t": 0, "b": 0})
        st.plotly_chart(fig, width="stretch", key="clv_rfm_treemap")
    with table:
        st.dataframe(
            segments.select("segment", "customers", "customer_share", "monetary_share", "strategy"),
            hide_index=True,
            width="stretch",
            height=380,
            column_config={
                "customer_share": st.column_config.NumberColumn("customers %", format="percent"),
                "monetary_share": st.column_config.NumberColumn("revenue %", format="percent"),
            },
        )
    st.caption(
        f"As of {result.as_of}. A payment counts as the months its billing period pays for, so "
        "a customer on a paid-up annual plan is current (recency 0), not lapsed; frequency and "
        "monetary are over the trailing 12 months."
    )
    st.download_button(
        "Download RFM scores (CSV)",
        partial(to_csv_bytes, result.customers),  # made on the click, not on every run
        file_name=f"rfm-{result.as_of}.csv",
        mime="text/csv",
        icon=":material/download:",
        key="clv_rfm_csv",
        on_click="ignore",
    )


def render_lookup(ctx: AppContext, by: str, discount: float) -> None:
    st.subheader("Customer CLV lookup", anchor=False)
    customer_id = st.text_input("Customer id", key="clv_customer", placeholder="e.g. CUS-0000001")
    if not customer_id:
        return
    try:
        row = service.customer_value(
            ctx,
            customer_id.strip(),
            by=by,  # type: ignore[arg-type]
            discount_rate=discount,
        )
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    cols = st.columns(4)
    cols[0].metric("Remaining CLV", money(row.clv), border=True)
    cols[1].metric("Current MRR", money(row.current_mrr), border=True)
    cols[2].metric("DEL", f"{row.del_months:.1f} months", border=True)
    cols[3].metric("Method", row.method, border=True)
    if row.method == "churn model":
        st.caption(
            f"Churn score {row.churn_risk_score:.2f} over {row.prediction_horizon_months} "
            f"months → {row.monthly_churn_probability:.2%} a month."
        )
    elif row.method == "sBG":
        st.caption(
            f"{row.group} sBG curve (α {shape(row.sbg_alpha)}, β {shape(row.sbg_beta)}) "
            f"at age {row.age} months."
        )


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())

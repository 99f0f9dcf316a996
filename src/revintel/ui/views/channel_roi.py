"""Channel ROI: spend, CAC, ROAS and ROI per channel and model, response curves and the
budget suggestion.

Thin: reads the options, calls :mod:`revintel.attribution.service`, draws. Definitions:
``docs/attribution.md``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from revintel.app.context import AppContext
from revintel.attribution.credit import MODELS
from revintel.attribution.service.roi import (
    BudgetRequest,
    BudgetSuggestion,
    ChannelRoiReport,
    RoiRequest,
    budget_suggestion,
    channel_roi,
)
from revintel.core.errors import RevintelError
from revintel.core.formatting import money, percent
from revintel.ui.components import current_context, has_data, render_empty_state
from revintel.ui.revenue import PALETTE, chart_card, data_version, layout, missing_table_notice

DEFAULT_MODELS = ("last_touch", "linear", "markov", "shapley")
MEASURES = {
    "roi": "ROI",
    "roas": "ROAS",
    "cac": "CAC",
    "spend": "Spend",
    "conversions": "Attributed conversions",
    "revenue": "Attributed revenue",
}
ROI_COLUMNS = (
    "model", "channel", "conversions", "share", "revenue", "clv", "spend", "cac", "roas", "roi",
    "clv_roi", "last_touch_conversions", "difference_from_last_touch",
)  # fmt: skip


@st.cache_data(max_entries=16, show_spinner=False)
def _roi(version: str, models: tuple[str, ...], clv: bool, _ctx: AppContext) -> ChannelRoiReport:
    return channel_roi(_ctx, RoiRequest(models=models, include_clv=clv))


@st.cache_data(max_entries=32, show_spinner=False)
def _budget(
    version: str, model: str, bound: float, total: float | None, _ctx: AppContext
) -> BudgetSuggestion:
    return budget_suggestion(_ctx, BudgetRequest(total=total, bound=bound, model=model))


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Channel ROI", anchor=False)
    st.caption(
        "Each model's credit per marketing channel joined to the channel's spend: CAC = spend ÷ "
        "attributed conversions, ROAS = attributed revenue ÷ spend, ROI = (attributed revenue × "
        "gross margin − spend) ÷ spend; response curves and a budget suggestion. "
        "Definitions: docs/attribution.md, Spend, ROI and budget."
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    for table in ("touchpoints", "conversions", "channel_spend"):
        if missing_table_notice(ctx, table, "channel ROI"):
            return
    version = data_version(ctx)
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    models = left.multiselect(
        "Models", list(MODELS), default=list(DEFAULT_MODELS), key="roi_models"
    ) or list(DEFAULT_MODELS)
    clv = right.toggle(
        "Value at CLV",
        value=False,
        key="roi_clv",
        help="Also credit each customer's lifetime value (the CLV model; takes longer).",
    )
    try:
        with st.spinner("Attributing conversions…"):
            report = _roi(version, tuple(models), clv, ctx)
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    render_kpis(report)
    render_roi(report)
    st.header("Budget suggestion", anchor=False)
    render_budget(ctx, version)


def render_kpis(report: ChannelRoiReport) -> None:
    cols = st.columns(4)
    months = f"{report.spend_months[0]} to {report.spend_months[-1]}"
    cols[0].metric("Spend", money(report.spend), help=f"channel_spend, {months}.", border=True)
    cols[1].metric("Conversions attributed", f"{report.conversions:,.0f}", border=True)
    cols[2].metric(
        "Attributed revenue",
        money(report.revenue),
        help="Credited conversion value (first-year value).",
        border=True,
    )
    cols[3].metric(
        "Gross margin", percent(report.gross_margin), help=report.gross_margin_source, border=True
    )
    if report.clv_note:
        st.caption(f"CLV columns: {report.clv_note}.")


def _rows(report: ChannelRoiReport) -> pd.DataFrame:
    frame = pd.DataFrame([{c: getattr(r, c) for c in ROI_COLUMNS} for r in report.rows])
    numeric = [c for c in ROI_COLUMNS if c not in ("model", "channel")]
    frame[numeric] = frame[numeric].apply(pd.to_numeric)  # None -> NaN: a blank cell
    return frame.dropna(axis=1, how="all")  # no CLV known: no CLV columns


def render_roi(report: ChannelRoiReport) -> None:
    frame = _rows(report)
    measure = (
        st.segmented_control(
            "Bars show",
            list(MEASURES),
            format_func=lambda m: MEASURES[m],
            default="roi",
            key="roi_measure",
        )
        or "roi"
    )
    figure = go.Figure()
    for i, model in enumerate(report.models):
        part = frame[frame["model"] == model]
        figure.add_bar(
            x=part["channel"],
            y=part[measure],
            name=model,
            marker_color=PALETTE[i % len(PALETTE)],
        )
    layout(figure, barmode="group", yaxis_title=MEASURES[measure])
    if measure in ("roi", "roas"):
        figure.update_yaxes(tickformat=".0%" if measure == "roi" else ".2f")
    chart_card(
        f"{MEASURES[measure]} per channel and model",
        figure,
        lambda: frame[["model", "channel", measure]],
        f"channel_{measure}",
        caption="A channel without spend has no CAC, ROAS or ROI (left blank, not infinite).",
    )
    diff = go.Figure()
    for i, model in enumerate(report.models):
        if model == "last_touch":
            continue
        part = frame[frame["model"] == model]
        diff.add_bar(
            x=part["channel"],
            y=part["difference_from_last_touch"],
            name=model,
            marker_color=PALETTE[i % len(PALETTE)],
        )
    layout(diff, barmode="group", yaxis_title="Conversions − last touch's")
    chart_card(
        "Difference from last touch",
        diff,
        lambda: frame[
            [
                "model",
                "channel",
                "conversions",
                "last_touch_conversions",
                "difference_from_last_touch",
            ]
        ],
        "channel_vs_last_touch",
        caption="Each channel's attributed conversions under the model minus under last touch.",
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "share": st.column_config.NumberColumn(format="percent"),
            "roi": st.column_config.NumberColumn("ROI", format="percent"),
            "clv_roi": st.column_config.NumberColumn("ROI on CLV", format="percent"),
            "roas": st.column_config.NumberColumn("ROAS", format="%.2f"),
            "cac": st.column_config.NumberColumn("CAC", format="dollar"),
            "spend": st.column_config.NumberColumn(format="dollar"),
            "revenue": st.column_config.NumberColumn(format="dollar"),
            "clv": st.column_config.NumberColumn("CLV", format="dollar"),
            "conversions": st.column_config.NumberColumn(format="%.1f"),
        },
    )


def render_budget(ctx: AppContext, version: str) -> None:
    from revintel.attribution.config import load_config

    settings = load_config(ctx.settings).budget
    left, right = st.columns(2)
    model = left.selectbox(
        "Curves fitted on", list(MODELS), index=list(MODELS).index(settings.model), key="b_model"
    )
    bound = right.slider(
        "Bounds: each channel within ± this share of its current spend",
        0.0,
        1.0,
        float(settings.bound),
        0.05,
        key="b_bound",
    )
    try:
        with st.spinner("Fitting response curves…"):
            current = _budget(version, model, float(bound), None, ctx)
        floor = sum(c.lower for c in current.channels)
        ceiling = sum(c.upper for c in current.channels)
        lo, hi = math.ceil(floor), math.floor(ceiling)
        total = st.slider(
            "Monthly total to allocate",
            min_value=float(lo),
            max_value=float(max(hi, lo + 1)),
            value=float(min(max(round(current.current_total), lo), hi)),
            step=float(max(1, round((hi - lo) / 200))),
            key="b_total",
            help=f"Current monthly spend: {money(current.current_total)} (mean of "
            f"{', '.join(current.current_months)}).",
        )
        got = _budget(version, model, float(bound), float(total), ctx)
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    st.info(
        f"**{got.label}.** It rests on {got.rests_on}. Curve: {got.curve}. "
        "Each month's attributed conversions are taken as caused by that month's spend.",
        icon=":material/science:",
    )
    cols = st.columns(3)
    cols[0].metric(
        "Expected attributed revenue a month",
        money(got.expected_revenue_suggested),
        help="Σ over channels of value per conversion × a × spend^b at the suggested spend.",
        border=True,
    )
    cols[1].metric(
        "Current mix at this total",
        money(got.expected_revenue_baseline),
        help="Each channel's current spend scaled to the total.",
        border=True,
    )
    cols[2].metric(
        "Expected gain",
        money(got.gain),
        help=f"90% bootstrap interval over {got.bootstrap} resamples of the months.",
        border=True,
    )
    st.caption(
        f"Gain 90% interval: {money(got.gain_low)} to {money(got.gain_high)} "
        f"({got.bootstrap} bootstrap resamples of each channel's months)."
    )
    for note in got.notes:
        st.warning(note, icon=":material/warning:")
    render_allocation(got)
    render_curves(got)


def _channels(got: BudgetSuggestion) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "channel": c.channel,
                "current": c.current,
                "suggested": c.suggested,
                "change": c.change,
                "lower": c.lower,
                "upper": c.upper,
                "a": c.a,
                "b": c.b,
                "r_squared": c.r_squared,
                "months": len(c.months),
                "value_per_conversion": c.value_per_conversion,
                "expected_revenue_current": c.expected_revenue_current,
                "expected_revenue_suggested": c.expected_revenue_suggested,
                "note": c.reason,
            }
            for c in got.channels
        ]
    )


def render_allocation(got: BudgetSuggestion) -> None:
    frame = _channels(got)
    figure = go.Figure()
    figure.add_bar(x=frame["channel"], y=frame["current"], name="Current", marker_color=PALETTE[6])
    figure.add_bar(
        x=frame["channel"],
        y=frame["suggested"],
        name="Suggested",
        marker_color=PALETTE[0],
        error_y={
            "type": "data",
            "symmetric": False,
            "array": frame["upper"] - frame["suggested"],
            "arrayminus": frame["suggested"] - frame["lower"],
            "color": "#94A3B8",
        },
    )
    layout(figure, barmode="group", yaxis_title="Monthly spend")
    figure.update_yaxes(tickprefix="$", tickformat=",.0f")
    chart_card(
        "Monthly spend: current and suggested",
        figure,
        lambda: frame,
        "budget_allocation",
        caption=f"Whiskers: the bounds (±{got.bound:.0%} of current spend). Total "
        f"{money(got.total)}, adding up to the cent.",
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            c: st.column_config.NumberColumn(format="dollar")
            for c in (
                "current",
                "suggested",
                "change",
                "lower",
                "upper",
                "value_per_conversion",
                "expected_revenue_current",
                "expected_revenue_suggested",
            )
        }
        | {"r_squared": st.column_config.NumberColumn("R² (log)", format="%.2f")},
    )


def render_curves(got: BudgetSuggestion) -> None:
    fitted = [c for c in got.channels if c.fitted]
    if not fitted:
        return
    per_row = 4
    rows = math.ceil(len(fitted) / per_row)
    figure = make_subplots(
        rows=rows,
        cols=per_row,
        subplot_titles=[
            f"{c.channel} · b {c.b:.2f} · R² {c.r_squared:.2f}"
            if c.r_squared is not None
            else f"{c.channel} · b {c.b:.2f}"
            for c in fitted
        ],
        horizontal_spacing=0.06,
        vertical_spacing=0.16,
    )
    points: list[dict[str, Any]] = []
    for i, c in enumerate(fitted):
        r, col = i // per_row + 1, i % per_row + 1
        xs = np.asarray(c.points_spend)
        figure.add_scatter(
            x=xs,
            y=c.points_conversions,
            mode="markers",
            marker={"color": PALETTE[0], "size": 6},
            text=list(c.months),
            hovertemplate="%{text}: spend %{x:$,.0f}, %{y:.1f} conversions<extra></extra>",
            showlegend=i == 0,
            name="Month",
            row=r,
            col=col,
        )
        grid = np.linspace(max(float(xs.min()) * 0.8, 1e-6), max(float(xs.max()), c.upper) * 1.1)
        assert c.a is not None and c.b is not None
        figure.add_scatter(
            x=grid,
            y=c.a * grid**c.b,
            mode="lines",
            line={"color": PALETTE[4]},
            hovertemplate="spend %{x:$,.0f}: %{y:.1f} expected<extra></extra>",
            showlegend=i == 0,
            name="Fitted a × spend^b",
            row=r,
            col=col,
        )
        points += [
            {"channel": c.channel, "month": m, "spend": s, "conversions": n, "a": c.a, "b": c.b}
            for m, s, n in zip(c.months, c.points_spend, c.points_conversions, strict=True)
        ]
    layout(figure, height=260 * rows + 60)
    figure.update_layout(  # below the panels: on top it covers the first panel's title
        legend={"orientation": "h", "y": -0.08, "yanchor": "top", "x": 0},
        margin={"t": 30, "l": 10, "r": 10, "b": 10},
    )
    figure.update_annotations(font_size=11)
    figure.update_xaxes(tickprefix="$", tickformat="~s")
    chart_card(
        "Response curves: attributed conversions against monthly spend",
        figure,
        lambda: pd.DataFrame(points),
        "response_curves",
        caption=f"{got.curve}; one point per month with spend and conversions. R² on the log "
        "scale.",
    )


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())

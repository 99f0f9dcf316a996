"""Attribution: every model's credit per channel side by side, and the difference from last touch.

Thin: reads the options, calls :mod:`revintel.attribution.service`, draws. Definitions:
``docs/attribution.md``.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from revintel.app.context import AppContext
from revintel.attribution.config import load_config
from revintel.attribution.service import report as service
from revintel.core.errors import RevintelError
from revintel.core.formatting import money, percent
from revintel.ui.components import current_context, has_data, render_empty_state
from revintel.ui.journey_options import journey_inputs
from revintel.ui.revenue import PALETTE, chart_card, layout

LABELS = {
    "first_touch": "First touch",
    "last_touch": "Last touch",
    "last_non_direct": "Last non-direct",
    "linear": "Linear",
    "time_decay": "Time decay",
    "position_based": "Position-based",
    "markov": "Markov chain",
    "shapley": "Shapley value",
}


def color(model: str) -> str:
    """One colour per model, the same in every chart."""
    return PALETTE[list(LABELS).index(model) % len(PALETTE)]


def options(ctx: AppContext) -> service.ReportRequest:
    """Window, conversion type, date range and Markov order (defaults: the settings')."""
    settings = load_config(ctx.settings).models
    cols = st.columns(5)
    chosen = journey_inputs(ctx, cols, "attr")
    order = cols[4].selectbox(
        "Markov order",
        [1, 2, 3, 4],
        index=settings.markov_order - 1,
        key="attr_order",
        help="How many past channels a state remembers.",
    )
    return service.ReportRequest(
        markov_order=int(order),
        start=chosen.start,
        end=chosen.end,
        window_days=chosen.window_days,
        conversion_type=chosen.conversion_type,
    )


def render_tiles(result: service.AttributionReport) -> None:
    cols = st.columns(4)
    cols[0].metric("Conversions", f"{result.conversions:,.0f}", border=True)
    cols[1].metric("Conversion value", money(result.value), border=True)
    cols[2].metric(
        "Journeys",
        f"{result.journeys:,}",
        help="Converting and non-converting journeys in the window and range.",
        border=True,
    )
    cols[3].metric(
        "Conversion rate",
        percent(result.converting_journeys / result.journeys if result.journeys else None),
        help="Converting journeys ÷ journeys.",
        border=True,
    )


def long_frame(result: service.AttributionReport) -> pd.DataFrame:
    frame = pd.DataFrame([vars(r) for r in result.rows])
    frame["model_label"] = frame["model"].map(LABELS)
    return frame


def render_side_by_side(frame: pd.DataFrame) -> None:
    fig = go.Figure()
    for model, part in frame.groupby("model", sort=False):
        fig.add_bar(
            x=part["channel"],
            y=part["conversions"],
            name=LABELS[str(model)],
            marker_color=color(str(model)),
        )
    chart_card(
        "Credit per channel, by model",
        layout(fig, barmode="group", yaxis_title="Conversions credited"),
        lambda: frame.drop(columns=["model_label"]),
        "attribution_by_model",
        caption="Each model shares the same conversions among the channels; every model's bars "
        "add up to the total.",
    )


def render_table(frame: pd.DataFrame) -> None:
    measure = st.radio(
        "Table of", ["conversions", "value", "share"], horizontal=True, key="attr_measure"
    )
    table = frame.pivot_table(
        index="channel", columns="model_label", values=measure, sort=False, aggfunc="sum"
    )
    table = table[[LABELS[m] for m in frame["model"].unique()]].reset_index()
    fmt = {"conversions": "%.1f", "value": "dollar", "share": "percent"}[measure]
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            c: st.column_config.NumberColumn(format=fmt) for c in table.columns if c != "channel"
        },
    )


def render_difference(frame: pd.DataFrame) -> None:
    others = frame[frame["model"] != "last_touch"]
    fig = go.Figure()
    for model, part in others.groupby("model", sort=False):
        fig.add_bar(
            x=part["channel"],
            y=part["difference_from_last_touch"],
            name=LABELS[str(model)],
            marker_color=color(str(model)),
        )
    chart_card(
        "Difference from last touch",
        layout(fig, barmode="group", yaxis_title="Conversions vs last touch"),
        lambda: others[["model", "channel", "conversions", "difference_from_last_touch"]],
        "attribution_vs_last_touch",
        caption="A model's credit minus last touch's, per channel: above zero, last touch "
        "undercounts the channel under that model.",
    )


def render_removal_effects(frame: pd.DataFrame, order: int) -> None:
    markov = frame[frame["model"] == "markov"].sort_values("removal_effect", ascending=False)
    fig = go.Figure(
        go.Bar(
            x=markov["channel"],
            y=markov["removal_effect"],
            text=[percent(v) for v in markov["removal_effect"]],
            textposition="outside",
            marker_color=color("markov"),
        )
    )
    chart_card(
        f"Markov removal effects (order {order})",
        layout(fig, yaxis_title="Removal effect", yaxis_tickformat=".0%"),
        lambda: markov[["channel", "removal_effect", "conversions", "value"]],
        "attribution_removal_effects",
        caption="The share of conversions lost if the channel were removed from every journey "
        "(each state holding it goes to no conversion), from the absorbing chain solved exactly.",
    )


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Attribution", anchor=False)
    st.caption(
        "Which channels the conversions owe to, under six heuristics, a Markov chain and the "
        "Shapley value, side by side. Definitions: docs/attribution.md."
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    try:
        request = options(ctx)
        result = service.report(ctx, request)
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    render_tiles(result)
    for note in result.notes:
        st.caption(f"Note: {note}")
    frame = long_frame(result)
    render_side_by_side(frame)
    render_table(frame)
    render_difference(frame)
    if "markov" in set(frame["model"]):
        render_removal_effects(frame, int(result.request.markov_order or 1))


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())

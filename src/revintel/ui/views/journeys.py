"""Journeys: top paths, path lengths, time to convert, first-to-last flows and one
customer's journey.

Thin: reads the options, calls :mod:`revintel.attribution.service`, draws. Definitions:
``docs/attribution.md`` (Journeys, Journey analytics).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from revintel.app.context import AppContext
from revintel.attribution.service import journeys as service
from revintel.core.errors import RevintelError
from revintel.core.formatting import percent
from revintel.ui.components import current_context, has_data, render_empty_state
from revintel.ui.journey_options import journey_inputs
from revintel.ui.revenue import PALETTE, chart_card, layout


def options(ctx: AppContext) -> dict[str, object]:
    """Window, conversion type, date range, how many paths and whether repeats collapse."""
    cols = st.columns(6)
    chosen = journey_inputs(ctx, cols, "jour")
    top = cols[4].number_input(
        "Top paths", min_value=1, max_value=service.MAX_TOP, value=20, step=5, key="jour_top"
    )
    collapse = cols[5].toggle(
        "Collapse repeats",
        value=False,
        key="jour_collapse",
        help="Consecutive touches on one channel count once (Email > Email is Email).",
    )
    return {
        "window_days": chosen.window_days,
        "conversion_type": chosen.conversion_type,
        "start": chosen.start,
        "end": chosen.end,
        "top": int(top),
        "collapse_repeats": bool(collapse),
    }


def render_tiles(report: service.PathReport) -> None:
    cols = st.columns(4)
    cols[0].metric(
        "Journeys",
        f"{report.journeys:,.0f}",
        help="Converting and non-converting journeys in the window and range.",
        border=True,
    )
    cols[1].metric("Conversions", f"{report.conversions:,.0f}", border=True)
    cols[2].metric(
        "Conversion rate", percent(report.conversion_rate), help="Conversions ÷ journeys.",
        border=True,
    )  # fmt: skip
    ttc = report.time_to_convert
    cols[3].metric(
        "Median days to convert",
        "–" if ttc.median_days is None else f"{ttc.median_days:.1f}",
        help="From the first touch in the window to the conversion.",
        border=True,
    )


def render_top_paths(report: service.PathReport) -> None:
    frame = pd.DataFrame(
        [
            {
                "path": p.label,
                "touches": len(p.path),
                "journeys": p.journeys,
                "conversions": p.conversions,
                "conversion_rate": p.conversion_rate,
                "share_of_conversions": p.share_of_conversions,
                "value": p.value,
            }
            for p in report.top_paths
        ]
    )
    with st.container(border=True):
        st.markdown(
            f"**Top {len(frame)} paths**"
            + (" (repeats collapsed)" if report.collapse_repeats else ""),
            help="Channel sequences, most conversions first.",
        )
        st.dataframe(
            frame,
            hide_index=True,
            width="stretch",
            key="jour_paths_table",
            column_config={
                "conversion_rate": st.column_config.NumberColumn(format="percent"),
                "share_of_conversions": st.column_config.NumberColumn(format="percent"),
                "value": st.column_config.NumberColumn(format="dollar"),
            },
        )


def render_lengths(report: service.PathReport) -> None:
    frame = pd.DataFrame([vars(b) for b in report.path_lengths])
    fig = go.Figure()
    if not frame.empty:
        fig.add_bar(
            x=frame["touches"], y=frame["converting"], name="Converting", marker_color=PALETTE[0]
        )
        fig.add_bar(
            x=frame["touches"],
            y=frame["non_converting"],
            name="Not converting",
            marker_color=PALETTE[1],
        )
    chart_card(
        "Path length",
        layout(fig, barmode="group", xaxis_title="Touches", yaxis_title="Journeys"),
        lambda: frame,
        "journey_path_lengths",
        caption="Journeys by number of touches in the window, converting and not.",
    )


def render_time_to_convert(report: service.PathReport) -> None:
    ttc = report.time_to_convert
    frame = pd.DataFrame(
        [{"days": b.label, "conversions": b.conversions, "share": b.share} for b in ttc.bins]
    )
    fig = go.Figure(go.Bar(x=frame["days"], y=frame["conversions"], marker_color=PALETTE[2]))
    mean = "–" if ttc.mean_days is None else f"{ttc.mean_days:.1f}"
    chart_card(
        "Time to convert",
        layout(fig, xaxis_title="Days from first touch to conversion", yaxis_title="Conversions"),
        lambda: frame,
        "journey_time_to_convert",
        caption=f"Converting journeys by days from their first touch to the conversion "
        f"(mean {mean} days).",
    )


def render_flows(report: service.PathReport) -> None:
    frame = pd.DataFrame([vars(f) for f in report.flows])
    fig = go.Figure()
    if not frame.empty:
        firsts = sorted(set(frame["first"]))
        lasts = sorted(set(frame["last"]))
        labels = [f"{c} (first)" for c in firsts] + [f"{c} (last)" for c in lasts]
        fig.add_trace(
            go.Sankey(
                node={"label": labels, "pad": 12, "thickness": 14},
                link={
                    "source": [firsts.index(c) for c in frame["first"]],
                    "target": [len(firsts) + lasts.index(c) for c in frame["last"]],
                    "value": frame["conversions"].tolist(),
                },
            )
        )
    chart_card(
        "First touch → last touch",
        layout(fig),
        lambda: frame,
        "journey_flows",
        caption="Converting journeys from the channel of their first touch (left) to the channel "
        "of their last (right).",
    )


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def render_customer(ctx: AppContext) -> None:
    st.subheader("One customer's journey", anchor=False)
    customer_id = st.text_input(
        "Customer id",
        key="jour_customer",
        placeholder="e.g. C1",
        help="Every touch and conversion of the customer, with a visitor's touches before the "
        "customer was known.",
    ).strip()
    if not customer_id:
        return
    try:
        journey = service.customer_journey(ctx, customer_id)
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    days = journey.days_to_first_conversion
    st.caption(
        f"{_count(journey.touches, 'touch', 'touches')}, "
        f"{_count(journey.conversions, 'conversion', 'conversions')}"
        + (
            ""
            if days is None
            else f"; {days:.2f} days from the first touch to the first conversion"
        )
        + "."
    )
    if not journey.events:
        st.info("No touch or conversion is loaded for this customer.", icon=":material/info:")
        return
    frame = pd.DataFrame(
        [
            {
                "at": e.at,
                "event": e.channel if e.kind == "touch" else f"{e.conversion_type} conversion",
                "kind": e.kind,
                "source": e.source,
                "medium": e.medium,
                "campaign": e.campaign,
                "value": e.value,
                "days_since_previous": e.days_since_previous,
                "journey": e.journey_id,
            }
            for e in journey.events
        ]
    )
    touches = frame[frame["kind"] == "touch"]
    conversions = frame[frame["kind"] == "conversion"]
    fig = go.Figure()
    fig.add_scatter(
        x=touches["at"],
        y=touches["event"],
        mode="markers+lines",
        name="Touches",
        marker={"size": 11, "color": PALETTE[0]},
        line={"color": "#bbb", "width": 1},
        text=touches["campaign"],
    )
    for at in conversions["at"]:
        fig.add_vline(x=at, line_dash="dash", line_color=PALETTE[3])
    fig.add_scatter(
        x=conversions["at"],
        y=conversions["event"],
        mode="markers",
        name="Conversions",
        marker={"size": 14, "symbol": "star", "color": PALETTE[3]},
    )
    chart_card(
        f"Timeline of {customer_id}",
        layout(fig, yaxis_title=None, xaxis_title=None),
        lambda: frame,
        f"journey_{customer_id}",
        caption="Each touch by channel; stars and dashed lines are conversions.",
    )
    st.dataframe(
        frame.drop(columns=["kind"]),
        hide_index=True,
        width="stretch",
        key="jour_customer_table",
        column_config={
            "value": st.column_config.NumberColumn(format="dollar"),
            "days_since_previous": st.column_config.NumberColumn(format="%.2f"),
        },
    )


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Journeys", anchor=False)
    st.caption(
        "The channel paths customers and visitors take, converting and not: the most common "
        "paths and how often they convert, how long they are, how long a conversion takes from "
        "the first touch, and where converting journeys start and end. Definitions: "
        "docs/attribution.md."
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    chosen = options(ctx)
    try:
        report = service.path_report(ctx, **chosen)  # type: ignore[arg-type]
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
    else:
        render_tiles(report)
        render_top_paths(report)
        left, right = st.columns(2)
        with left:
            render_lengths(report)
        with right:
            render_time_to_convert(report)
        render_flows(report)
    render_customer(ctx)


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())

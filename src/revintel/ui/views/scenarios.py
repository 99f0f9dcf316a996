"""Scenarios: what-if sliders, baseline against projected.

Thin: reads the options, calls :mod:`revintel.pipeline.service`, draws. Definitions:
``docs/pipeline.md``.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from revintel.app.context import AppContext
from revintel.core.errors import RevintelError
from revintel.core.formatting import money, percent
from revintel.pipeline.scenario import ScenarioInputs
from revintel.pipeline.service import analytics as service
from revintel.ui.components import current_context, has_data, render_empty_state
from revintel.ui.revenue import chart_card, layout


def sliders() -> ScenarioInputs:
    cols = st.columns(4)
    win = cols[0].slider("Win rate change", -50, 100, 10, 5, format="%d%%", key="sc_win")
    size = cols[1].slider("Deal size change", -50, 100, 5, 5, format="%d%%", key="sc_size")
    growth = cols[2].slider("Pipeline growth", -50, 200, 15, 5, format="%d%%", key="sc_growth")
    cycle = cols[3].slider("Cycle time change", -50, 100, 0, 5, format="%d%%", key="sc_cycle")
    return ScenarioInputs(win / 100, size / 100, growth / 100, cycle / 100)


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Scenarios", anchor=False)
    st.caption(
        "What if the win rate, deal size, pipeline or cycle time changed? Projected pipeline = "
        "pipeline × (1 + growth); projected win rate = min(1, win rate × (1 + change)); "
        "projected forecast = projected pipeline × projected win rate × (1 + deal size change). "
        "Definitions: docs/pipeline.md."
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    inputs = sliders()
    try:
        result = service.scenario(ctx, inputs)
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    b, p, d = result.baseline, result.projected, result.delta
    cols = st.columns(3)
    cols[0].metric(
        "Baseline forecast",
        money(b["forecast"]),
        help=f"{money(b['pipeline'])} open pipeline × {percent(b['win_rate'])} win rate.",
        border=True,
    )
    cols[1].metric(
        "Projected forecast",
        money(p["forecast"]),
        delta=f"{d['value']:+,.0f}" + ("" if d["percent"] is None else f" ({d['percent']:+.1f}%)"),
        help=f"{money(p['pipeline'])} × {percent(p['win_rate'])} × (1 {p['deal_size_change']}).",
        border=True,
    )
    cols[2].metric(
        f"Within {result.horizon_days} days",
        money(p["forecast_in_horizon"]),
        delta=f"{p['forecast_in_horizon'] - b['forecast_in_horizon']:+,.0f}",
        help="Forecast over the deals expected to close within the horizon; a shorter cycle "
        "moves deals into it.",
        border=True,
    )
    labels = {
        "pipeline": "Open pipeline",
        "win_rate": "Win rate",
        "forecast": "Forecast",
        "forecast_in_horizon": f"Forecast within {result.horizon_days} days",
    }
    show = {k: (percent if k == "win_rate" else money) for k in labels}
    table = pd.DataFrame(
        [
            {"measure": labels[k], "baseline": show[k](b[k]), "projected": show[k](p[k])}
            for k in labels
        ]
    )
    dist = result.distribution
    rows = [
        {"percentile": q, "baseline": dist["baseline"].percentiles[q],
         "projected": dist["projected"].percentiles[q]}
        for q in dist["baseline"].percentiles
    ]  # fmt: skip
    frame = pd.DataFrame(rows)
    fig = go.Figure()
    fig.add_bar(x=frame["percentile"], y=frame["baseline"], name="Baseline")
    fig.add_bar(x=frame["percentile"], y=frame["projected"], name="Projected")
    chart_card(
        "Simulated bookings",
        layout(fig, barmode="group", yaxis_title="Won amount"),
        lambda: frame,
        "scenario_distribution",
        caption=f"{result.simulations:,} simulations ({result.method}): each draws the (grown) "
        "number of open "
        "deals from today's pipeline and wins each with the (projected) win rate.",
    )
    st.subheader("Baseline against projected", anchor=False)
    st.dataframe(table, hide_index=True, width="stretch")


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())

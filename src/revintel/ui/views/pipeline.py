"""Pipeline: KPI tiles, funnel by stage, pipeline created per month and coverage.

Thin: reads the options, calls :mod:`revintel.pipeline.service`, draws. Definitions:
``docs/pipeline.md``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from revintel.app.context import AppContext
from revintel.core.errors import RevintelError
from revintel.core.formatting import money, percent
from revintel.pipeline.analytics import DealFilter
from revintel.pipeline.service import analytics as service
from revintel.ui.components import current_context, has_data, render_empty_state
from revintel.ui.revenue import chart_card, layout


def filters(ctx: AppContext, key: str) -> DealFilter:
    """Owner and segment pickers (from the deals) → a :class:`DealFilter`."""
    values = service.filter_values(ctx)
    left, right = st.columns(2)
    owner = left.selectbox("Owner", ["All owners", *values.get("owner", [])], key=f"{key}_owner")
    segment = right.selectbox(
        "Segment", ["All segments", *values.get("segment", [])], key=f"{key}_segment"
    )
    return service.make_filter(
        owner=None if owner == "All owners" else owner,
        segment=None if segment == "All segments" else segment,
    )


def render_kpis(s: service.PipelineSummary) -> None:
    cols = st.columns(3)
    cols[0].metric(
        "Open pipeline", money(s.open_pipeline), help="Amount of open deals.", border=True
    )
    cols[1].metric("Open deals", f"{s.deal_count:,}", border=True)
    cols[2].metric(
        "Average open deal",
        money(s.avg_deal_size),
        help="Open pipeline ÷ open deals.",
        border=True,
    )
    cols = st.columns(3)
    cols[0].metric(
        "Win rate",
        percent(s.win_rate),
        help=f"Won ÷ closed deals, by count ({s.won_deals:,} of {s.closed_deals:,}); by amount "
        f"{percent(s.win_rate_amount)}.",
        border=True,
    )
    cols[1].metric(
        f"Weighted pipeline, {s.forecast_days} days",
        money(s.weighted_forecast_90d),
        help="Amount × stage probability of open deals whose expected close date is within "
        f"{s.forecast_days} days of {s.as_of} (undefined when no deal has an expected close "
        "date). The Forecast page's forecasts also count deals not created yet and time each "
        "deal by how long deals take from its stage.",
        border=True,
    )
    cols[2].metric(
        "At-risk deals",
        f"{s.at_risk_deals:,}",
        help="The at-risk deal alerts (critical health, or past their expected close date, or "
        "stagnant in their stage); the Deals page lists them with their factors.",
        border=True,
    )


def render_funnel(rows: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame(rows)
    fig = go.Figure(
        go.Funnel(
            y=frame["stage"],
            x=frame["amount"],
            text=[
                f"{d} deals · {money(a)}"
                for d, a in zip(frame["deals"], frame["amount"], strict=True)
            ],
            textinfo="text",
        )
    )
    chart_card(
        "Open pipeline by stage",
        layout(fig),
        lambda: frame,
        "pipeline_by_stage",
        caption="Weighted amount = amount × the stage's probability; conversion = deals that "
        "moved on (or were won) ÷ deals that reached the stage and left it.",
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "amount": st.column_config.NumberColumn(format="dollar"),
            "weighted_amount": st.column_config.NumberColumn("weighted", format="dollar"),
            "probability": st.column_config.NumberColumn(format="percent"),
            "avg_age_days": st.column_config.NumberColumn("avg age (days)", format="%.0f"),
            "conversion_to_next": st.column_config.NumberColumn("conversion", format="percent"),
            "median_days_in_stage": st.column_config.NumberColumn("median days", format="%.0f"),
        },
    )


def render_created(rows: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame(rows, columns=["month", "deals", "amount"])
    fig = go.Figure(go.Bar(x=frame["month"], y=frame["amount"], name="Amount created"))
    chart_card(
        "Pipeline created per month",
        layout(fig, yaxis_title="Amount"),
        lambda: frame,
        "pipeline_created",
        caption="Deals by the month of their creation date.",
    )


def render_coverage(rows: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame(rows)
    fig = go.Figure()
    fig.add_bar(x=frame["month"], y=frame["pipeline"], name="Open pipeline closing")
    fig.add_bar(x=frame["month"], y=frame["weighted"], name="Weighted")
    if frame["target"].notna().any():
        fig.add_scatter(x=frame["month"], y=frame["target"], name="Target", mode="lines+markers")
    chart_card(
        "Coverage",
        layout(fig, barmode="group"),
        lambda: frame,
        "pipeline_coverage",
        caption="Coverage = open pipeline expected to close in the month ÷ the month's target"
        + (
            ""
            if frame["target"].notna().any()
            else ". No targets are set: add them under [targets] in the pipeline settings."
        ),
    )


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Pipeline", anchor=False)
    st.caption(
        "Open deals by stage, pipeline created, coverage against targets, aging and slipped "
        "deals. Definitions: docs/pipeline.md."
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    try:
        f = filters(ctx, "pipeline")
        result = service.overview(ctx, f)
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    st.caption(f"Data as of {result.summary.as_of}.")
    render_kpis(result.summary)
    render_funnel(result.by_stage)
    left, right = st.columns(2)
    with left:
        render_created(result.created)
    with right:
        render_coverage(result.coverage)
    left, right = st.columns(2)
    with left:
        st.subheader("Aging of open deals", anchor=False)
        st.dataframe(
            pd.DataFrame(result.aging),
            hide_index=True,
            width="stretch",
            column_config={
                "amount": st.column_config.NumberColumn(format="dollar"),
                "past_close": st.column_config.NumberColumn("past expected close"),
            },
        )
    with right:
        st.subheader("Slipped deals", anchor=False)
        if result.slipped:
            st.dataframe(
                pd.DataFrame(result.slipped),
                hide_index=True,
                width="stretch",
                column_config={"amount": st.column_config.NumberColumn(format="dollar")},
            )
        else:
            st.caption("No deal had its expected close date pushed later.")


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())

"""Competitors: win/loss by competitor, trend, threats.

Thin: reads the options, calls :mod:`revintel.pipeline.service`, draws. Definitions:
``docs/pipeline.md``.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from revintel.app.context import AppContext
from revintel.core.errors import RevintelError
from revintel.core.formatting import percent
from revintel.pipeline.service import analytics as service
from revintel.pipeline.stages import OPEN_STAGES
from revintel.ui.components import current_context, has_data, render_empty_state
from revintel.ui.revenue import chart_card, layout
from revintel.ui.views.pipeline import filters


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Competitors", anchor=False)
    st.caption(
        "Our win rate against each competitor with its 95% interval, the trend by quarter, where "
        "deals are lost and why; threats and opportunities with their test. Every figure comes "
        "from the loaded deals. Definitions: docs/pipeline.md."
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    try:
        report = service.competitors(ctx, filters(ctx, "competitors"))
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    overall = report.overall
    frame = pd.DataFrame(report.competitors)
    fig = go.Figure(
        go.Bar(
            x=frame["competitor"],
            y=frame["win_rate"],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": frame["ci_high"] - frame["win_rate"],
                "arrayminus": frame["win_rate"] - frame["ci_low"],
            },
            name="Win rate",
        )
    )
    if overall["win_rate"] is not None:
        fig.add_hline(
            y=overall["win_rate"],
            line_dash="dash",
            annotation_text=f"overall {percent(overall['win_rate'])}",
        )
    chart_card(
        "Win rate by competitor",
        layout(fig, yaxis_tickformat=".0%"),
        lambda: frame,
        "competitor_win_rate",
        caption="Won ÷ closed deals where the competitor was present; bars show the Wilson 95% "
        f"interval; dashed: the overall win rate ({overall['closed']:,} closed deals).",
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "win_rate": st.column_config.NumberColumn(format="percent"),
            "ci_low": st.column_config.NumberColumn("95% low", format="percent"),
            "ci_high": st.column_config.NumberColumn("95% high", format="percent"),
            "vs_overall": st.column_config.NumberColumn(format="percent"),
            "avg_amount": st.column_config.NumberColumn(format="dollar"),
            "avg_won_amount": st.column_config.NumberColumn(format="dollar"),
            "avg_discount": st.column_config.NumberColumn(format="percent"),
        },
    )
    st.subheader("Threats", anchor=False)
    if report.threats:
        for t in report.threats:
            st.error(f"**{t.competitor}**: {t.kind}. {t.evidence}", icon=":material/warning:")
    else:
        st.caption("No significant threat.")
    st.subheader("Opportunities", anchor=False)
    if report.opportunities:
        for o in report.opportunities[:10]:
            st.success(o.evidence, icon=":material/check_circle:")
    else:
        st.caption("No segment or product where we clearly beat a competitor.")
    st.caption(report.test)
    trend = pd.DataFrame(report.trend)
    if not trend.empty:
        left, right = st.columns(2)
        with left:
            fig = go.Figure()
            for name, part in trend[trend["closed"] > 0].groupby("competitor"):
                fig.add_scatter(
                    x=part["quarter"], y=part["win_rate"], name=str(name), mode="lines+markers"
                )
            chart_card(
                "Win rate by quarter of close",
                layout(fig, yaxis_tickformat=".0%"),
                lambda: trend,
                "competitor_trend",
            )
        with right:
            fig = go.Figure()
            for name, part in trend.groupby("competitor"):
                fig.add_scatter(
                    x=part["quarter"], y=part["share"], name=str(name), mode="lines+markers"
                )
            chart_card(
                "Share of deals created",
                layout(fig, yaxis_tickformat=".0%"),
                lambda: trend,
                "competitor_share",
            )
    left, right = st.columns(2)
    with left:
        st.subheader("Stage where deals were lost", anchor=False)
        if report.lost_at_stage:
            lost = pd.DataFrame(report.lost_at_stage)
            table = lost.pivot_table(
                index="competitor", columns="stage", values="lost", fill_value=0
            )
            order = [c for c in (*OPEN_STAGES, "(no history)") if c in table.columns]
            st.dataframe(table[order], width="stretch")
    with right:
        st.subheader("Loss reasons", anchor=False)
        given = [r for r in report.loss_reasons if r["reason"] != "(none)"]
        if given:
            st.dataframe(pd.DataFrame(report.loss_reasons), hide_index=True, width="stretch")
        else:
            st.caption("No loss reason is recorded on the lost deals.")
    for note in report.notes:
        st.caption(f"Note: {note}")


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())

"""One campaign's measured impact, drawn on the Campaigns page's Results tab: treated versus
holdout churn, the uplift with its 95% interval, the p-value, saves, cost and ROI, and how it was
measured. Thin: calls :func:`revintel.app.retention.impact.campaign_results` and draws
(docs/retention.md, Measured impact). Owned by the impact area."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from revintel.app.context import AppContext
from revintel.app.retention.impact import CampaignResults, campaign_results
from revintel.core.errors import RevintelError
from revintel.core.formatting import money, percent
from revintel.retention.uplift import wilson_interval
from revintel.ui.revenue import BLUE, SLATE, chart_card, data_version, layout


@st.cache_data(max_entries=32, show_spinner=False)
def _results(version: str, campaign_id: str, _ctx: AppContext) -> CampaignResults:
    return campaign_results(_ctx, campaign_id)


def _p(value: float | None) -> str:
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _range(low: float | None, high: float | None, fmt=percent) -> str:
    return "—" if low is None or high is None else f"95%: {fmt(low)} to {fmt(high)}"


def churn_figure(r: CampaignResults) -> go.Figure:
    """Treated and holdout churn rates as bars with their Wilson 95% intervals."""
    c = r.churn
    assert c is not None
    groups = [
        ("Treated", c.treated_churned, c.treated, BLUE),
        ("Holdout", c.holdout_churned, c.holdout, SLATE),
    ]
    fig = go.Figure()
    for name, x, n, colour in groups:
        lo, hi = wilson_interval(x, n)
        rate = x / n
        fig.add_bar(
            x=[name],
            y=[rate],
            name=f"{name} (n = {n:,})",
            marker_color=colour,
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [hi - rate],
                "arrayminus": [rate - lo],
            },
            text=[f"{percent(rate)} of {n:,}"],
            textposition="outside",
            hovertemplate=f"{name}: %{{y:.1%}} churned ({x:,} of {n:,})<extra></extra>",
        )
    fig.update_yaxes(tickformat=".0%", title="churned in the outcome window", rangemode="tozero")
    return layout(fig, height=300, showlegend=True)


def render(ctx: AppContext, campaign_id: int | str) -> None:
    """Draw the campaign's results into the current Streamlit container."""
    try:
        r = _results(data_version(ctx), str(campaign_id), ctx)
    except RevintelError as exc:
        st.error(str(exc))
        return
    st.markdown(f"**{r.name}** · {r.template.replace('_', ' ')} · {r.source}")
    if r.status != "finished" or r.churn is None:
        if r.status == "in progress":
            st.info(
                f"In progress: the outcome window ({r.outcome_months} months) ends "
                f"{r.outcome_end.isoformat()}; data reaches {r.last_data_month}, so "
                f"{r.months_remaining} month(s) remain. No figure is shown before then."
            )
        else:
            st.info(f"Status: {r.status}. " + " ".join(r.notes))
        return
    c = r.churn
    cols = st.columns(5)
    cols[0].metric(
        "Treated churn", percent(c.treated_rate), help=f"{c.treated_churned:,} of {c.treated:,}"
    )
    cols[1].metric(
        "Holdout churn", percent(c.holdout_rate), help=f"{c.holdout_churned:,} of {c.holdout:,}"
    )
    cols[2].metric(
        "Uplift",
        percent(c.uplift),
        help="Holdout churn − treated churn (positive: the play kept customers).",
    )
    cols[2].caption(_range(c.uplift_low, c.uplift_high))
    cols[3].metric(
        "p-value", _p(c.p_value), help="z test" if c.test == "z" else "Fisher's exact test"
    )
    saves = r.saves
    cols[4].metric("Saves", "—" if saves is None else f"{saves.value:,.1f}")
    if saves is not None:
        cols[4].caption(_range(saves.low, saves.high, lambda v: f"{v:,.1f}"))
    money_cols = st.columns(3)
    money_cols[0].metric("Cost", money(r.cost))
    money_cols[1].metric("Average CLV", money(r.average_clv))
    roi = r.roi
    money_cols[2].metric(
        "ROI", money(roi.value) if roi else "—", help="Saves × average CLV − cost."
    )
    if roi:
        money_cols[2].caption(_range(roi.low, roi.high, money))

    def frame() -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "group": "treated",
                    "customers": c.treated,
                    "churned": c.treated_churned,
                    "rate": c.treated_rate,
                },
                {
                    "group": "holdout",
                    "customers": c.holdout,
                    "churned": c.holdout_churned,
                    "rate": c.holdout_rate,
                },
            ]
        )

    chart_card(
        "Churn: treated versus holdout",
        churn_figure(r),
        frame,
        f"campaign_{r.campaign_id}_churn",
        caption=r.method,
    )
    if r.stratified is not None:
        s = r.stratified
        st.caption(
            f"By risk tier (Cochran–Mantel–Haenszel over {s.strata} tiers): uplift "
            f"{percent(s.uplift)} ({_range(s.uplift_low, s.uplift_high)}), p {_p(s.p_value)}."
        )
    if r.tiers:
        st.dataframe(pd.DataFrame([t.to_dict() for t in r.tiers]), hide_index=True, width="stretch")
    if r.risk_change is not None:
        d = r.risk_change
        st.caption(
            f"Risk change (after − before), treated − holdout: {percent(d.difference)} "
            f"({_range(d.low, d.high)}, Welch), n = {d.treated:,} / {d.holdout:,}."
        )
    if r.planted is not None:
        p = r.planted
        st.caption(
            "Planted truth (demo company, not measured): hazard cut by "
            f"{percent(p.hazard_reduction, 0)}, "
            f"expected uplift {percent(p.true_uplift)} — "
            + ("inside" if p.inside_interval else "outside")
            + " the measured interval."
        )
    for note in r.notes:
        st.caption(note)

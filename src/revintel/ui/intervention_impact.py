"""The "Intervention impact" view: every campaign's treated versus holdout
churn, uplift with its interval, saves, cost and ROI side by side, and a forest plot of the
uplifts; on the demo company the planted truth beside them, labelled as such. Drawn on the Risk
Trends page. Thin: calls :func:`revintel.app.retention.impact.intervention_impact` and draws
(docs/retention.md, Measured impact). Owned by the impact area."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from revintel.app.context import AppContext
from revintel.app.retention.impact import InterventionImpact, intervention_impact
from revintel.core.errors import RevintelError
from revintel.core.formatting import money, percent
from revintel.ui.revenue import AMBER, BLUE, chart_card, data_version, layout


@st.cache_data(max_entries=8, show_spinner=False)
def _impact(version: str, _ctx: AppContext) -> InterventionImpact:
    return intervention_impact(_ctx)


def forest_figure(view: InterventionImpact) -> go.Figure:
    """Each finished campaign's uplift with its 95% interval; the planted truth as a diamond."""
    done = view.finished
    labels = [f"{c.name} ({c.campaign_id})" for c in done]
    fig = go.Figure()
    ups = [c.churn.uplift for c in done if c.churn]
    fig.add_scatter(
        x=ups,
        y=labels,
        mode="markers",
        name="Measured uplift, 95% interval",
        marker={"color": BLUE, "size": 10},
        error_x={
            "type": "data",
            "symmetric": False,
            "array": [c.churn.uplift_high - c.churn.uplift for c in done if c.churn],
            "arrayminus": [c.churn.uplift - c.churn.uplift_low for c in done if c.churn],
        },
        hovertemplate="%{y}: %{x:.1%}<extra></extra>",
    )
    planted = [
        (c.planted.true_uplift, label) for c, label in zip(done, labels, strict=True) if c.planted
    ]
    if planted:
        fig.add_scatter(
            x=[p[0] for p in planted],
            y=[p[1] for p in planted],
            mode="markers",
            name="Planted truth (demo company)",
            marker={"color": AMBER, "symbol": "diamond", "size": 11},
            hovertemplate="planted: %{x:.1%}<extra></extra>",
        )
    fig.add_vline(x=0, line_dash="dot", line_color="#94A3B8")
    fig.update_xaxes(tickformat=".0%", title="uplift: holdout churn − treated churn")
    fig.update_yaxes(autorange="reversed")
    return layout(fig, height=max(220, 70 * len(done) + 90))


def _interval(value: float | None, low: float | None, high: float | None) -> str:
    if value is None:
        return "—"
    return f"{percent(value)} [{percent(low)}, {percent(high)}]"


def _table(view: InterventionImpact) -> pd.DataFrame:
    rows = []
    for r in view.rows():
        rows.append(
            {
                "Campaign": f"{r['name']} ({r['campaign_id']})",
                "Source": r["source"],
                "Play": r["template"].replace("_", " "),
                "Status": r["status"]
                + (f" ({r['months_remaining']} mo to go)" if r["months_remaining"] else ""),
                "Customers": r["customers"],
                "Avg risk before": percent(r["risk_before"]),
                "Treated churn": percent(r["treated_churn"]),
                "Holdout churn": percent(r["holdout_churn"]),
                "Uplift [95%]": _interval(r["uplift"], r["uplift_low"], r["uplift_high"]),
                "p": "—" if r["p_value"] is None else f"{r['p_value']:.3f}",
                "Saves": "—" if r["saves"] is None else f"{r['saves']:,.1f}",
                "Cost": money(r["cost"]),
                "ROI": money(r["roi"]),
                **(
                    {"Planted uplift (demo)": percent(r["true_uplift"])}
                    if view.truth_available
                    else {}
                ),
            }
        )
    return pd.DataFrame(rows)


def render(ctx: AppContext) -> None:
    """Draw the view into the current Streamlit container."""
    try:
        view = _impact(data_version(ctx), ctx)
    except RevintelError as exc:
        st.error(str(exc))
        return
    if not view.campaigns:
        st.info(
            "No campaign yet. Create one on the Campaigns page (with a holdout), or load a "
            "campaigns and campaign_members table of past campaigns."
        )
        return
    st.markdown(f"**Campaigns side by side** · data to {view.last_data_month}")
    st.dataframe(_table(view), hide_index=True, width="stretch")
    if view.finished:
        caption = view.method
        if view.truth_available:
            caption += (
                " Diamonds: the demo company's planted effect (its generator's truth, not a "
                "measurement); a well-calibrated interval holds it about 95% of the time."
            )
        chart_card(
            "Uplift by campaign, with 95% intervals",
            forest_figure(view),
            lambda: pd.DataFrame(view.rows()),
            "intervention_impact",
            caption=caption,
        )
    else:
        st.caption("No campaign has finished its outcome window yet.")

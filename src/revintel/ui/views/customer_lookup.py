"""Customer Lookup: one customer's churn risk, why, how it moved, who is similar and what would
lower it.

Deep link: ``/customer-lookup?account=ID``. Thin: calls :func:`revintel.churn.service.customer`,
``similar_customers`` and ``customer_what_if``, and draws.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from revintel.app import settings as app_settings
from revintel.app.context import AppContext
from revintel.churn import service
from revintel.churn.config import RiskTiers, TierCutoffs
from revintel.churn.explain import Explanation, waterfall
from revintel.core.errors import NoDataError, NotFoundError, RevintelError
from revintel.core.formatting import money, percent
from revintel.ui import churn as ui
from revintel.ui.components import current_context, has_scores, render_empty_state
from revintel.ui.notes_panel import render_notes

# Customers offered in the picker without a search (riskiest first).
SUGGESTIONS = 1_000
# A factor adding at least this much log-odds is coloured as raising risk a lot.
STRONG = 0.5
WHAT_IF_FACTORS = 4
RADAR_FACTORS = 8


@st.cache_data(max_entries=64, show_spinner=False)
def _cached_customer(key: ui.CacheKey, account_id: str, _ctx: AppContext) -> service.CustomerRisk:
    return service.customer(_ctx, account_id)


@st.cache_data(max_entries=64, show_spinner=False)
def _cached_similar(key: ui.CacheKey, account_id: str, _ctx: AppContext) -> pl.DataFrame:
    return service.similar_customers(_ctx, account_id)


def customer(ctx: AppContext, account_id: str) -> service.CustomerRisk:
    key = ui.cache_key(ctx)
    if key is None:
        return service.customer(ctx, account_id)
    return _cached_customer(key, account_id, ctx)


def similar(ctx: AppContext, account_id: str) -> pl.DataFrame:
    key = ui.cache_key(ctx)
    if key is None:
        return service.similar_customers(ctx, account_id)
    return _cached_similar(key, account_id, ctx)


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def render(ctx: AppContext) -> None:
    """The whole page."""
    if not has_scores(ctx):
        st.title("Customer Lookup", anchor=False)
        render_empty_state(ctx)
        return
    try:
        frame = ui.predictions(ctx)
    except NoDataError as exc:
        st.title("Customer Lookup", anchor=False)
        ui.render_no_predictions(str(exc))
        return
    choice = pick_customer(frame)
    if choice is None:
        st.title("Customer Lookup", anchor=False)
        st.info(
            "Search for a customer by id or name, or click one on High-Risk Customers.",
            icon=":material/person_search:",
        )
        return
    hit = frame.filter(pl.col("account_id") == choice)
    if hit.is_empty():
        st.title("Customer Lookup", anchor=False)
        st.error(f"account_id {choice!r} has no churn prediction.", icon=":material/error:")
        return
    threshold = app_settings.load(ctx.settings, app_settings.CHURN).threshold
    bands = service.current_tier_cutoffs(ctx, frame)
    try:
        detail = customer(ctx, choice)
    except NotFoundError as exc:
        render_score_only(ctx, hit.row(0, named=True), threshold, str(exc), bands)
        return
    render_header(ctx, detail, threshold, bands)
    render_factors(detail.explanation)
    left, right = st.columns(2)
    with left:
        render_waterfall(detail.explanation)
    with right:
        render_radar(detail.explanation)
    render_what_if(ctx, detail)
    render_similar(ctx, choice)
    render_actions(detail)
    render_notes(ctx, choice, key="cl")


def pick_customer(frame: pl.DataFrame) -> str | None:
    """Search box, then a picker over the matches (the deep-linked account first)."""
    wanted = st.query_params.get("account")
    search = st.text_input(
        "Search customers",
        key="cl_search",
        placeholder="Account id or name, e.g. ACC-0136",
        icon=":material/search:",
    )
    if search:
        options = service.search_accounts(frame, search, limit=50)
    else:
        options = frame.head(SUGGESTIONS)["account_id"].to_list()
    if wanted and wanted not in options:
        options.insert(0, wanted)
    known = frame.filter(pl.col("account_id").is_in(options))
    labels = {
        r["account_id"]: f"{r['account_name'] or r['account_id']} ({r['account_id']}) · "
        f"{100 * r['churn_risk_score']:.0f}% {r['risk_tier']}"
        for r in known.select(
            "account_id", "account_name", "churn_risk_score", "risk_tier"
        ).iter_rows(named=True)
    }
    if search and not options:
        st.warning(f"No customer matches {search!r}.", icon=":material/search_off:")
    choice = st.selectbox(
        "Customer",
        options,
        index=options.index(wanted) if wanted in options else None,
        format_func=lambda a: labels.get(a, a),
        placeholder="Choose a customer (riskiest first)",
        key=f"cl_pick_{wanted}_{search}",
    )
    if choice is not None and choice != wanted:
        st.query_params["account"] = choice
    return choice


def _risk_card(ctx: AppContext, row: dict[str, Any], bands: TierCutoffs | None) -> None:
    score = row["churn_risk_score"]
    with st.container(border=True):
        st.metric("Churn probability", percent(score))
        if score is None:
            ui.tier_badge(None)
            return
        cfg = app_settings.load(ctx.settings, app_settings.CHURN)
        ui.verdict_badges(service.risk_verdict(float(score), cfg, bands))


def render_header(
    ctx: AppContext,
    detail: service.CustomerRisk,
    threshold: float,
    bands: TierCutoffs | None = None,
) -> None:
    """Name, risk card and the risk trend over the scored months."""
    st.title(detail.account_name or detail.account_id, anchor=False)
    facts = [
        detail.account_id,
        detail.segment,
        detail.plan_type,
        f"MRR {money(detail.mrr)}" if detail.mrr is not None else None,
        f"owner {detail.owner}" if detail.owner else None,
        f"scored {detail.scored_at} by {detail.model_version}",
    ]
    st.caption(" · ".join(f for f in facts if f))
    left, right = st.columns([1, 2])
    with left:
        _risk_card(ctx, {"churn_risk_score": detail.churn_risk_score}, bands)
        if detail.driver_segment:
            st.caption(f"Driver segment: **{detail.driver_segment}**")
    with right:
        render_trend(detail.trend, threshold, bands)


def render_trend(
    trend: list[service.RiskPoint], threshold: float, bands: TierCutoffs | None = None
) -> None:
    """The churn probability at each scored date (from two dates on: one point is no trend),
    over the bands of the risk tiers."""
    if len(trend) < 2:
        once = f"scored once, on {trend[0].scored_at}" if trend else "the score is undated"
        st.caption(f"No risk trend: {once}. A trend needs scores from two dates or more.")
        return
    figure = go.Figure()
    cut = bands or RiskTiers.model_validate({}).fixed_cutoffs()
    for lo, hi, tier in (
        (cut.high, 1.0, "High"),
        (cut.medium, cut.high, "Medium"),
        (cut.low, cut.medium, "Low"),
    ):
        figure.add_hrect(y0=lo, y1=hi, fillcolor=ui.TIER_COLOURS[tier], opacity=0.08, line_width=0)
    figure.add_scatter(
        x=[t.scored_at[:7] for t in trend],
        y=[t.churn_risk_score for t in trend],
        mode="lines+markers",
        cliponaxis=False,  # a score of 0% or 100% shows its whole marker
        line={"width": 3, "color": "#2563EB"},
        name="churn probability",
        hovertemplate="%{x}: %{y:.1%}<extra></extra>",
    )
    figure.add_hline(
        y=threshold, line_dash="dash", line_color="#DC2626", annotation_text="threshold"
    )
    figure.update_layout(
        title={"text": "Risk trend", "x": 0, "font": {"size": 14}},
        yaxis={"range": [0, 1], "tickformat": ".0%", "title": "churn probability"},
        xaxis={"type": "category", "title": "scored month"},
        height=260,
        margin={"t": 30, "l": 0, "r": 0, "b": 0},
    )
    st.plotly_chart(figure, key="cl_trend")


def render_score_only(
    ctx: AppContext,
    row: dict[str, Any],
    threshold: float,
    reason: str,
    bands: TierCutoffs | None = None,
) -> None:
    """Imported predictions (or no scoring run): the score and tier, no explanation."""
    st.title(row.get("account_name") or row["account_id"], anchor=False)
    when = f"scored {row['scored_at']}" if row.get("scored_at") else "undated score"
    st.caption(f"{row['account_id']} · {when}")
    left, right = st.columns([1, 2])
    with left:
        _risk_card(ctx, row, bands)
    with right, suppress(RevintelError):
        render_trend(service.risk_trend(ctx, row["account_id"]), threshold, bands)
    st.info(
        f"{reason}. Explanations, what-if and similar customers need a prediction made by a "
        "revintel model: train and score one with `revintel churn train` and "
        "`revintel churn score`.",
        icon=":material/info:",
    )


def _row_colours(row: pd.Series) -> list[str]:
    c = row["contribution"]
    if c >= STRONG:
        colour = "background-color: #FECACA"
    elif c > 0:
        colour = "background-color: #FEF2F2"
    else:
        colour = "background-color: #F0FDF4"
    return [colour] * len(row)


def render_factors(explanation: Explanation) -> None:
    """The top factors: value beside retained and churned averages, z-score, contribution."""
    st.subheader("Top risk factors", anchor=False)
    rows = [
        {
            "factor": f["label"],
            "value": _fmt(f["value"]),
            "retained avg": _fmt(f["retained_avg"]),
            "churned avg": _fmt(f["churned_avg"]),
            "z-score": float("nan") if f["z_score"] is None else f["z_score"],
            "contribution": f["contribution"],
            "effect": f["sentence"],
        }
        for f in explanation.factors
    ]
    table = pd.DataFrame(rows)
    styled = table.style.apply(_row_colours, axis=1).format(
        {"z-score": "{:+.1f}σ", "contribution": "{:+.2f}"}, na_rep="—"
    )
    with st.container(key="cl_factors"):
        st.dataframe(styled, hide_index=True)
    st.caption(
        "Contribution: change in log-odds of churn against the average customer (red rows raise "
        f"risk by ≥ {STRONG} log-odds; green rows lower it). Z-score: distance from the average "
        "in standard deviations."
    )


def render_waterfall(explanation: Explanation) -> None:
    """From the average customer's risk to this customer's, one step per factor (log-odds)."""
    st.subheader("How the risk adds up", anchor=False)
    steps = waterfall(explanation)
    labels = ["Average customer"] + [s["label"] for s in steps.steps] + ["This customer"]
    y = [steps.base] + [s["contribution"] for s in steps.steps] + [0.0]
    probs = (
        [steps.base_probability]
        + [s["end_probability"] for s in steps.steps]
        + [steps.final_probability]
    )
    figure = go.Figure(
        go.Waterfall(
            x=labels,
            y=y,
            measure=["absolute"] + ["relative"] * len(steps.steps) + ["total"],
            customdata=probs,
            hovertemplate="%{x}<br>%{delta:+.2f} log-odds<br>P(churn) %{customdata:.1%}"
            "<extra></extra>",
            increasing={"marker": {"color": "#DC2626"}},
            decreasing={"marker": {"color": "#16A34A"}},
            totals={"marker": {"color": "#2563EB"}},
            connector={"line": {"color": "#94A3B8", "width": 1}},
        )
    )
    figure.update_layout(
        yaxis={"title": "log-odds of churn"},
        height=420,
        margin={"t": 10, "l": 0, "r": 0, "b": 0},
        xaxis={"tickangle": -35},
    )
    st.plotly_chart(figure, key="cl_waterfall")
    st.caption(
        f"Average customer {percent(steps.base_probability)} → this customer "
        f"{percent(steps.final_probability)}. Red steps raise risk, green lower it."
    )


def render_radar(explanation: Explanation) -> None:
    """The customer against retained and churned averages on the top numeric factors; each axis
    divided by the largest of the three values."""
    st.subheader("Against retained and churned customers", anchor=False)
    factors = [
        f
        for f in explanation.factors
        if f["kind"] in ("numeric", "boolean")
        and isinstance(f["value"], int | float)
        and isinstance(f["retained_avg"], int | float)
        and isinstance(f["churned_avg"], int | float)
    ][:RADAR_FACTORS]
    if len(factors) < 3:
        st.caption("Too few numeric factors to draw a radar.")
        return
    axes = [f["label"] for f in factors]
    series: dict[str, list[float]] = {"This customer": [], "Retained avg": [], "Churned avg": []}
    raw: dict[str, list[float]] = {k: [] for k in series}
    for f in factors:
        values = (float(f["value"]), float(f["retained_avg"]), float(f["churned_avg"]))
        scale = max(abs(v) for v in values) or 1.0
        for name, v in zip(series, values, strict=True):
            series[name].append(v / scale)
            raw[name].append(v)
    colours = {"This customer": "#2563EB", "Retained avg": "#16A34A", "Churned avg": "#DC2626"}
    figure = go.Figure()
    for name, r in series.items():
        figure.add_scatterpolar(
            r=r + r[:1],
            theta=axes + axes[:1],
            name=name,
            fill="toself" if name == "This customer" else None,
            line={"color": colours[name], "dash": None if name == "This customer" else "dot"},
            customdata=raw[name] + raw[name][:1],
            hovertemplate="%{theta}: %{customdata:,.2f}<extra>" + name + "</extra>",
        )
    figure.update_layout(
        polar={
            "radialaxis": {
                "visible": True,
                "range": [min(0.0, *(min(r) for r in series.values())), 1],
            }
        },
        height=420,
        margin={"t": 30, "l": 40, "r": 40, "b": 10},
        legend={"orientation": "h"},
    )
    st.plotly_chart(figure, key="cl_radar")


def render_what_if(ctx: AppContext, detail: service.CustomerRisk) -> None:
    """Change the top numeric factors and see the new probability; the best single change."""
    st.subheader("What if", anchor=False)
    account = detail.account_id
    factors = [
        f
        for f in detail.explanation.factors
        if f["kind"] == "numeric" and isinstance(f["value"], int | float)
    ][:WHAT_IF_FACTORS]
    if not factors:
        st.caption("No numeric factor to change.")
        return
    cols = st.columns(len(factors))
    changes: dict[str, float] = {}
    for col, f in zip(cols, factors, strict=True):
        current = float(f["value"])
        value = col.number_input(
            f["label"],
            value=current,
            key=f"cl_wi_{account}_{f['feature']}",
            help=f"Now {_fmt(current)} · retained avg {_fmt(f['retained_avg'])} · churned avg "
            f"{_fmt(f['churned_avg'])}",
            format="%.2f",
        )
        if value != current:
            changes[f["feature"]] = float(value)
    try:
        result = service.customer_what_if(ctx, account, changes)
    except RevintelError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    out = st.columns([1, 2])
    out[0].metric(
        "Churn probability with these changes",
        percent(result.new_probability),
        delta=f"{100 * result.delta:+.1f} pts" if changes else None,
        delta_color="inverse",
        border=True,
    )
    with out[1]:
        suggestions = result.suggestions
        if suggestions:
            best = suggestions[0]
            label = ui.feature_label(best["feature"])
            st.markdown(
                f":material/tips_and_updates: **Lowers risk most:** move **{label}** from "
                f"{_fmt(best['from'])} to {_fmt(best['to'])} (the retained customers' average) → "
                f"{percent(best['new_probability'])} ({100 * best['delta']:+.1f} pts)."
            )
            more = [
                {
                    "factor": ui.feature_label(s["feature"]),
                    "from": _fmt(s["from"]),
                    "to": _fmt(s["to"]),
                    "new probability": s["new_probability"],
                }
                for s in suggestions[1:4]
            ]
            if more:
                st.dataframe(
                    pd.DataFrame(more),
                    hide_index=True,
                    key="cl_suggestions",
                    column_config={
                        "new probability": st.column_config.NumberColumn(format="percent")
                    },
                )
        else:
            st.caption("No single move to the retained average lowers this customer's risk.")


def render_similar(ctx: AppContext, account_id: str) -> None:
    """The nearest customers of the same segment; a row opens that customer."""
    st.subheader("Similar customers", anchor=False)
    try:
        table = similar(ctx, account_id)
    except RevintelError as exc:
        st.caption(str(exc))
        return
    if table.is_empty():
        st.caption("No similar customer in this segment.")
        return
    if "top_factor_1" in table.columns:
        table = table.with_columns(
            pl.col("top_factor_1").map_elements(ui.feature_label, return_dtype=pl.String)
        )
    event = st.dataframe(
        table.to_pandas(),
        key="cl_similar",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        column_config={
            "account_id": st.column_config.TextColumn("account"),
            "segment": st.column_config.TextColumn("segment"),
            "plan_type": st.column_config.TextColumn("plan"),
            "top_factor_1": st.column_config.TextColumn("top risk factor"),
            "churn_risk_score": st.column_config.ProgressColumn(
                "churn risk", min_value=0.0, max_value=1.0, format="percent"
            ),
            "mrr": st.column_config.NumberColumn("MRR", format="dollar"),
            "distance": st.column_config.NumberColumn("distance", format="%.2f"),
        },
    )
    selected = event.selection.rows if event else []
    if selected:
        ui.open_customer(table["account_id"][selected[0]])


def render_actions(detail: service.CustomerRisk) -> None:
    """Recommended actions from the top risk-raising factors."""
    st.subheader("Recommended actions", anchor=False)
    actions = detail.recommended_actions
    with st.container(border=True):
        if actions:
            for action in actions:
                st.markdown(f"- {action}")
        else:
            st.markdown("No factor raises this customer's risk: keep the regular cadence.")


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())

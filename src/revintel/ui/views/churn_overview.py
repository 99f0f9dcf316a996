"""Churn Overview: six KPI cards, the risk distribution, the score histogram with the threshold
and the 1-month vs 3-month model comparison.

Thin: calls :func:`revintel.churn.service.overview` and ``compare_horizons``, draws.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from revintel.app.context import AppContext
from revintel.churn import service
from revintel.core.formatting import money, percent
from revintel.ui import churn as ui
from revintel.ui.components import current_context

# Metric, label, and whether higher is better (None: neither). Threshold-free measures first.
COMPARED = (
    ("roc_auc", "ROC AUC", True),
    ("pr_auc", "PR AUC", True),
    ("brier", "Brier score", False),
    ("threshold", "Max-F1 threshold", None),
    ("precision", "Precision", True),
    ("recall", "Recall", True),
    ("f1", "F1", True),
)


def render(ctx: AppContext) -> None:
    """The whole page."""
    frame = ui.page_predictions(
        ctx,
        "Churn Overview",
        "Who is likely to churn, from the latest churn predictions.",
    )
    if frame is None:
        return
    info = service.overview(ctx, frame)
    st.caption(ui.scored_caption(info))
    st.caption(info.tier_rule)
    if ui.imported_only(frame):
        st.info(
            "These predictions were imported (no revintel model version): scores and tiers are "
            "shown as given; explanations and what-if need a model trained with revintel.",
            icon=":material/info:",
        )
    render_kpis(info)
    left, right = st.columns(2)
    with left:
        render_distribution(info)
    with right:
        render_histogram(frame, info.threshold)
    render_comparison([m.to_dict() for m in service.compare_horizons(ctx)])


def render_kpis(info: service.ChurnOverview) -> None:
    """Customers scored, High, Medium, Low / Safe, average risk, predicted churners."""
    tiers = info.tiers
    total = info.customers
    # Two rows of three: six cards in a row cut their labels ("Predicted ch…") at 1400 px.
    top, bottom = st.columns(3), st.columns(3)
    cols = [top[0], bottom[0], bottom[1], bottom[2], top[1], top[2]]
    cols[0].metric("Customers scored", f"{total:,}", border=True)
    for col, tier in zip(cols[1:3], ("High", "Medium"), strict=True):
        col.metric(
            f"{tier} risk",
            f"{tiers[tier]:,}",
            help=f"{percent(tiers[tier] / total if total else None)} of customers",
            border=True,
        )
    cols[3].metric(
        "Low / Safe",
        f"{tiers['Low']:,}",
        delta=f"{tiers['Safe']:,} safe",
        delta_color="off",
        delta_arrow="off",
        help="Customers in the Low tier; below, those in the Safe tier.",
        border=True,
    )
    cols[4].metric("Average risk", percent(info.average_risk), border=True)
    cols[5].metric(
        "Predicted churners",
        f"{info.predicted_churners:,}",
        help=f"Customers with a churn probability ≥ the threshold {info.threshold:.2f}.",
        border=True,
    )
    expected = info.expected_mrr_lost
    st.caption(
        f"Expected churners (sum of probabilities): {info.expected_churners:,.1f}"
        + (f" · expected MRR lost: {money(expected)}" if expected is not None else "")
    )


def render_distribution(info: service.ChurnOverview) -> None:
    """Customers per tier, coloured by tier; counts and shares on hover."""
    st.subheader("Risk distribution", anchor=False)
    counts = [info.tiers[t] for t in ui.TIERS]
    total = max(info.customers, 1)
    shares = [100 * c / total for c in counts]
    figure = go.Figure(
        go.Bar(
            x=list(ui.TIERS),
            y=counts,
            marker_color=[ui.TIER_COLOURS[t] for t in ui.TIERS],
            customdata=shares,
            text=[f"{c:,}" for c in counts],
            textposition="outside",
            hovertemplate="%{x}: %{y:,} customers (%{customdata:.1f}%)<extra></extra>",
        )
    )
    figure.update_layout(
        yaxis={"title": "customers"},
        height=360,
        margin={"t": 20, "l": 0, "r": 0, "b": 0},
    )
    st.plotly_chart(figure, key="churn_distribution")


def render_histogram(frame: pl.DataFrame, threshold: float) -> None:
    """Churn probabilities in 20 bins from 0 to 1, with the decision threshold."""
    st.subheader("Risk scores", anchor=False)
    figure = go.Figure(
        go.Histogram(
            x=frame["churn_risk_score"].to_numpy(),
            xbins={"start": 0.0, "end": 1.0, "size": 0.05},
            marker_color="#2563EB",
            hovertemplate="%{x}: %{y:,} customers<extra></extra>",
        )
    )
    figure.add_vline(
        x=threshold,
        line_dash="dash",
        line_color="#DC2626",
        annotation_text=f"threshold {threshold:.2f}",
        annotation_position="top right",
    )
    figure.update_layout(
        xaxis={"title": "churn probability", "range": [0, 1]},
        yaxis={"title": "customers"},
        height=360,
        margin={"t": 20, "l": 0, "r": 0, "b": 0},
        bargap=0.05,
    )
    st.plotly_chart(figure, key="churn_histogram")


def _fmt(value: Any) -> str:
    return "—" if value is None else f"{value:.3f}"


def render_comparison(models: list[dict[str, Any]]) -> None:
    """The production 1-month and 3-month models side by side; the better value in bold green."""
    st.subheader("1-month vs 3-month model", anchor=False)
    if not models:
        st.info(
            "No revintel model is in production: train one with `revintel churn train` (or on "
            "the Model Training page) to compare the horizons.",
            icon=":material/info:",
        )
        return
    if len(models) == 1:
        st.caption(
            f"Only the {models[0]['horizon_months']}-month model is in production; train the "
            "other horizon to compare."
        )
    cols = st.columns(len(models))
    for col, model in zip(cols, models, strict=True):
        with col.container(border=True):
            st.markdown(f"**{model['horizon_months']}-month horizon** · `{model['version']}`")
            rows = []
            for key, label, higher in COMPARED:
                value = model.get(key)
                others = [m.get(key) for m in models if m is not model and m.get(key) is not None]
                best = (
                    higher is not None
                    and value is not None
                    and bool(others)
                    and all((value > o) if higher else (value < o) for o in others)
                )
                rows.append(
                    f"| {label} | {':green[**' + _fmt(value) + '**]' if best else _fmt(value)} |"
                )
            st.markdown("| metric | held-out |\n|---|---|\n" + "\n".join(rows))
            extra = [
                f"base rate {percent(model.get('base_rate'))}" if model.get("base_rate") else None,
                f"baseline ROC AUC {_fmt(model.get('baseline_roc_auc'))}",
                f"oracle ROC AUC {_fmt(model.get('oracle_roc_auc'))}"
                if model.get("oracle_roc_auc") is not None
                else None,
            ]
            st.caption(" · ".join(e for e in extra if e))
    if len(models) > 1:
        st.caption(
            "The better value of each metric is in bold green (Brier: lower is better). ROC AUC, "
            "PR AUC and the Brier score need no threshold; precision, recall and F1 are at each "
            "model's own max-F1 threshold, the same policy for both."
        )


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())

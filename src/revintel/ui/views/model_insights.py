"""Model Insights: what a churn model learned and how well it does on held-out customers.

Thin: picks a registered version, calls :func:`revintel.churn.service.model_insights` and draws the
stored evaluation (importance, confusion matrix, ROC and PR curves, metrics against the logistic
baseline and the oracle, calibration, top-decile lift). Definitions: ``docs/churn.md``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from revintel.app.context import AppContext
from revintel.churn import registry, service
from revintel.core.errors import RevintelError
from revintel.core.formatting import percent
from revintel.ui.components import current_context, has_data, render_empty_state
from revintel.ui.views import page_path

TOP_FEATURES = 20
MODEL_COLOUR = "#2563EB"
BASELINE_COLOUR = "#9CA3AF"
GOOD, OK, POOR = "#DCFCE7", "#FEF9C3", "#FEE2E2"
RATING_COLOURS = {"good": GOOD, "ok": OK, "poor": POOR}

# metric → (label, good cut-off, ok cut-off, higher is better). Stated on the page.
# Threshold-free measures first, then those at the model's threshold.
CUTOFFS: dict[str, tuple[str, float, float, bool]] = {
    "roc_auc": ("ROC AUC", 0.80, 0.70, True),
    "pr_auc": ("PR AUC", 0.50, 0.30, True),
    "brier": ("Brier score", 0.10, 0.20, False),
    "lift_top_decile": ("Lift, top decile", 3.0, 2.0, True),
    "capture_top_decile": ("Capture, top decile", 0.30, 0.20, True),
    "precision": ("Precision", 0.60, 0.40, True),
    "recall": ("Recall", 0.60, 0.40, True),
    "f1": ("F1", 0.60, 0.40, True),
    "accuracy": ("Accuracy", 0.90, 0.80, True),
}


def _num(value: Any, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def rating(metric: str, value: float | None) -> str | None:
    """good / ok / poor against :data:`CUTOFFS` (None when unknown)."""
    if value is None or metric not in CUTOFFS:
        return None
    _, good, ok, higher = CUTOFFS[metric]
    if higher:
        return "good" if value >= good else "ok" if value >= ok else "poor"
    return "good" if value <= good else "ok" if value <= ok else "poor"


def version_label(record: registry.ModelRecord) -> str:
    horizon = f"{record.horizon_months}-month" if record.horizon_months else "custom table"
    return f"{record.version} · {horizon} · {record.status}"


def ordered_versions(records: list[registry.ModelRecord]) -> list[registry.ModelRecord]:
    """Production warehouse models first (1 then 3 months), then the rest, newest first."""
    first = sorted(
        (r for r in records if r.status == "production" and r.kind == "warehouse"),
        key=lambda r: r.horizon_months or 0,
    )
    return first + [r for r in records if r not in first]


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Model Insights", anchor=False)
    st.caption(
        "What the churn model learned and how it does on held-out customers it never saw "
        "(a later cut-off than the training data). Definitions: docs/churn.md."
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    records = ordered_versions(registry.list_models(ctx))
    if not records:
        st.info(
            "No churn model yet: train one on the Model Training page (or `revintel churn train`).",
            icon=":material/info:",
        )
        st.page_link(
            page_path("model_training.py"), label="Model Training", icon=":material/model_training:"
        )
        return
    by_version = {r.version: r for r in records}
    try:
        default = service.resolve_model(ctx).version  # production, default horizon
    except RevintelError:
        default = records[0].version
    version = st.selectbox(
        "Model",
        list(by_version),
        index=list(by_version).index(default) if default in by_version else 0,
        format_func=lambda v: version_label(by_version[v]),
        key="mi_version",
        help="Production 1- and 3-month models first, then every other version.",
    )
    try:
        insights = service.model_insights(ctx, version)
    except RevintelError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    record: dict[str, Any] = insights.record.as_dict()
    metrics: dict[str, Any] = insights.metrics
    render_summary(record, metrics)
    left, right = st.columns(2)
    with left:
        render_importance([i.to_row() for i in insights.importance])
    with right:
        render_confusion(metrics)
    render_curves(metrics)
    left, right = st.columns([3, 2])
    with left:
        render_metrics_table(metrics)
    with right:
        render_calibration(metrics)


def render_summary(record: dict[str, Any], metrics: dict[str, Any]) -> None:
    """Training window, held-out rows, features, top-decile lift and capture."""
    window = (
        f"{record['training_from']} – {record['training_to']}"
        if record.get("training_from")
        else record.get("source") or "—"
    )
    params = record.get("params") or {}
    cols = st.columns(5)
    train_rows = params.get("train_rows")
    cols[0].metric(
        "Training rows",
        f"{train_rows:,}" if isinstance(train_rows, int) else "—",
        help="Customer-months of the training cut-offs (calibration rows not counted).",
        border=True,
    )
    cols[0].caption(f"Window {window}")
    n = metrics.get("n")
    cols[1].metric(
        "Held-out rows",
        "—" if n is None else f"{n:,}",
        help="Customers (customer-months) of the test cut-off, never seen in training.",
        border=True,
    )
    positives = metrics.get("positives")
    if positives is not None and n:
        cols[1].caption(f"{positives:,} churners ({positives / n:.1%})")
    cols[2].metric("Features", f"{len(record.get('features') or []):,}", border=True)
    cols[3].metric(
        "Lift, top decile",
        "—" if metrics.get("lift_top_decile") is None else f"{metrics['lift_top_decile']:.1f}×",
        help="Churn rate among the 10% riskiest customers ÷ the overall churn rate.",
        border=True,
    )
    capture = metrics.get("capture_top_decile")
    cols[4].metric(
        "Capture, top decile",
        percent(capture, 0),
        help="Share of all churners found among the 10% riskiest customers.",
        border=True,
    )
    config = params.get("config") or params
    rows = " · ".join(
        f"{params[k]:,} {name} rows"
        for k, name in (("train_rows", "training"), ("calibration_rows", "calibration"))
        if isinstance(params.get(k), int)
    )
    settings = " · ".join(
        f"{k} {config[k]}" for k in ("n_estimators", "learning_rate", "seed") if k in config
    )
    rounds = params.get("best_iteration")
    st.caption(
        f"{record['version']} · {record['status']} · created {record['created_at'][:16]} UTC"
        + (f" · {rows}" if rows else "")
        + (f" · {settings}" if settings else "")
        + (f" · {rounds} boosting rounds" if rounds else "")
    )


def importance_figure(importance: list[dict[str, Any]]) -> go.Figure:
    """Top features by mean |SHAP| (log-odds), largest at the top."""
    top = importance[:TOP_FEATURES][::-1]
    figure = go.Figure(
        go.Bar(
            x=[row["mean_abs_shap"] for row in top],
            y=[row["label"] or row["feature"] for row in top],
            orientation="h",
            marker_color=MODEL_COLOUR,
            customdata=[row["feature"] for row in top],
            hovertemplate="%{y} (%{customdata})<br>mean |SHAP| %{x:.4f}<extra></extra>",
        )
    )
    figure.update_layout(
        height=max(320, 24 * len(top) + 60),
        margin={"t": 10, "l": 0, "r": 10, "b": 0},
        xaxis={"title": "mean |SHAP| (log-odds)"},
    )
    return figure


def render_importance(importance: list[dict[str, Any]]) -> None:
    st.subheader(f"Global importance (top {TOP_FEATURES})", anchor=False)
    st.caption("Mean absolute TreeSHAP contribution on the held-out customers.")
    if not importance:
        st.info("This model has no stored importance.")
        return
    st.plotly_chart(importance_figure(importance), key="mi_importance")


def confusion_figure(cm: dict[str, int]) -> go.Figure:
    """2×2 heatmap with the counts and shares written in the cells."""
    z = [[cm["tn"], cm["fp"]], [cm["fn"], cm["tp"]]]
    total = sum(cm.values()) or 1
    names = [["True negatives", "False alarms"], ["Missed churners", "Churners caught"]]
    text = [
        [f"{names[i][j]}<br><b>{z[i][j]:,}</b> ({z[i][j] / total:.1%})" for j in range(2)]
        for i in range(2)
    ]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=["Predicted: stays", "Predicted: churns"],
            y=["Actual: stayed", "Actual: churned"],
            text=text,
            texttemplate="%{text}",
            hovertemplate="%{y} · %{x}: %{z:,}<extra></extra>",
            colorscale="Blues",
            showscale=False,
        )
    )
    figure.update_layout(
        height=360, margin={"t": 10, "l": 0, "r": 0, "b": 0}, yaxis={"autorange": "reversed"}
    )
    return figure


def threshold_words(metrics: dict[str, Any]) -> str:
    """Which threshold the figures are at, in words: "the applied threshold 0.255"."""
    basis = metrics.get("threshold_basis")
    words = {
        "applied": "the applied threshold",
        "max_f1": "the model's own max-F1 threshold",
    }.get(str(basis), "the threshold stored with the model")
    return f"{words} {_num(metrics.get('threshold'))}"


def render_confusion(metrics: dict[str, Any]) -> None:
    """At the model's own threshold: the applied one for the model it was applied for, its
    max-F1 threshold for any other."""
    st.subheader("Confusion matrix", anchor=False)
    cm = metrics.get("confusion")
    if not cm:
        st.info("This model has no stored confusion matrix.")
        return
    st.caption(f"Held-out customers at {threshold_words(metrics)}.")
    st.plotly_chart(confusion_figure(cm), key="mi_confusion")


def curve_figure(
    points: list[dict[str, float]],
    baseline: list[dict[str, float]],
    x: str,
    y: str,
    title: str,
    diagonal: bool,
    names: tuple[str, str] | None = None,
) -> go.Figure:
    figure = go.Figure()
    if diagonal:
        figure.add_scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="Chance",
            line={"dash": "dot", "color": "#D1D5DB"},
        )
    if baseline:
        figure.add_scatter(
            x=[p[x] for p in baseline],
            y=[p[y] for p in baseline],
            mode="lines",
            name="Logistic baseline",
            line={"color": BASELINE_COLOUR, "dash": "dash"},
            hovertemplate=f"{x} %{{x:.3f}} · {y} %{{y:.3f}}<extra>baseline</extra>",
        )
    figure.add_scatter(
        x=[p[x] for p in points],
        y=[p[y] for p in points],
        mode="lines",
        name="LightGBM",
        line={"color": MODEL_COLOUR, "width": 3},
        customdata=[p.get("threshold") for p in points],
        hovertemplate=f"{x} %{{x:.3f}} · {y} %{{y:.3f}}<br>threshold %{{customdata:.3f}}"
        "<extra>model</extra>",
    )
    figure.update_layout(
        title={"text": title},
        height=380,
        margin={"t": 40, "l": 0, "r": 0, "b": 0},
        xaxis={"title": (names or (x, y))[0], "range": [0, 1]},
        yaxis={"title": (names or (x, y))[1], "range": [0, 1.02]},
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def render_curves(metrics: dict[str, Any]) -> None:
    """ROC and precision-recall curves side by side, the baseline dashed, AUC in the titles."""
    baseline = metrics.get("baseline") or {}
    left, right = st.columns(2)
    with left:
        roc = metrics.get("roc_curve") or []
        title = f"ROC curve · AUC {_num(metrics.get('roc_auc'))}"
        if baseline.get("roc_auc") is not None:
            title += f" (baseline {_num(baseline['roc_auc'])})"
        st.plotly_chart(
            curve_figure(
                roc,
                baseline.get("roc_curve") or [],
                "fpr",
                "tpr",
                title,
                True,
                ("false positive rate", "true positive rate (recall)"),
            ),
            key="mi_roc",
        )
    with right:
        pr = metrics.get("pr_curve") or []
        title = f"Precision-recall curve · AUC {_num(metrics.get('pr_auc'))}"
        if baseline.get("pr_auc") is not None:
            title += f" (baseline {_num(baseline['pr_auc'])})"
        st.plotly_chart(
            curve_figure(pr, baseline.get("pr_curve") or [], "recall", "precision", title, False),
            key="mi_pr",
        )


def metrics_frame(metrics: dict[str, Any]) -> pd.DataFrame:
    """One row per metric: model, logistic baseline, oracle (ROC AUC) and the model's rating."""
    baseline = metrics.get("baseline") or {}
    rows = []
    for key, (label, good, ok, higher) in CUTOFFS.items():
        value = metrics.get(key)
        sign = "≥" if higher else "≤"
        rows.append(
            {
                "metric": label,
                "model": value,
                "baseline": baseline.get(key),
                "oracle": metrics.get("oracle_roc_auc") if key == "roc_auc" else None,
                "rating": rating(key, value),
                "cut-offs": f"good {sign} {good:g} · ok {sign} {ok:g}",
            }
        )
    frame = pd.DataFrame(rows)
    return frame.astype({"model": float, "baseline": float, "oracle": float})


def _colour_rows(frame: pd.DataFrame) -> pd.DataFrame:
    styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
    for i, value in frame["rating"].items():
        if value in RATING_COLOURS:
            styles.loc[i, ["model", "rating"]] = f"background-color: {RATING_COLOURS[value]}"
    return styles


def render_metrics_table(metrics: dict[str, Any]) -> None:
    st.subheader("Held-out metrics", anchor=False)
    oracle = metrics.get("oracle_roc_auc")
    gap = (
        ""
        if oracle is None or metrics.get("roc_auc") is None
        else f" The model's ROC AUC is {oracle - metrics['roc_auc']:.3f} below the oracle's "
        "(the planted true churn probabilities of the demo company: the best possible)."
    )
    st.caption(
        "Green good · yellow ok · red poor, by the cut-offs in the last column. ROC AUC, PR AUC "
        "and the Brier score need no threshold; precision, recall, F1 and accuracy are at "
        f"{threshold_words(metrics)} (the logistic baseline's at its own max-F1 threshold).{gap}"
    )
    frame = metrics_frame(metrics)
    st.dataframe(
        frame.style.apply(_colour_rows, axis=None).format(
            {"model": "{:.3f}", "baseline": "{:.3f}", "oracle": "{:.3f}"}, na_rep="—"
        ),
        hide_index=True,
        placeholder="—",
        key="mi_metrics",
        column_config={
            "metric": st.column_config.TextColumn("Metric"),
            "model": st.column_config.NumberColumn("LightGBM"),
            "baseline": st.column_config.NumberColumn("Logistic baseline"),
            "oracle": st.column_config.NumberColumn("Oracle"),
            "rating": st.column_config.TextColumn("Rating"),
            "cut-offs": st.column_config.TextColumn("Cut-offs"),
        },
    )


def calibration_figure(points: list[dict[str, Any]]) -> go.Figure:
    figure = go.Figure()
    figure.add_scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        name="Perfectly calibrated",
        line={"dash": "dot", "color": "#9CA3AF"},
    )
    figure.add_scatter(
        x=[p["mean_predicted"] for p in points],
        y=[p["observed_rate"] for p in points],
        mode="lines+markers",
        name="Model",
        line={"color": MODEL_COLOUR},
        customdata=[p["count"] for p in points],
        hovertemplate="predicted %{x:.3f} · observed %{y:.3f}<br>%{customdata:,} customers"
        "<extra></extra>",
    )
    top = max([0.05] + [max(p["mean_predicted"], p["observed_rate"]) for p in points])
    figure.update_layout(
        height=380,
        margin={"t": 10, "l": 0, "r": 0, "b": 0},
        xaxis={"title": "mean predicted P(churn)", "range": [0, min(1.0, top * 1.1)]},
        yaxis={"title": "observed churn rate", "range": [0, min(1.0, top * 1.1)]},
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def render_calibration(metrics: dict[str, Any]) -> None:
    st.subheader("Calibration", anchor=False)
    points = metrics.get("calibration") or []
    if not points:
        st.info("This model has no stored calibration curve.")
        return
    st.caption(
        f"Held-out customers in bins of predicted probability; Brier score "
        f"{_num(metrics.get('brier'), 4)}. On the diagonal, a predicted 20% churns 20% of the time."
    )
    st.plotly_chart(calibration_figure(points), key="mi_calibration")


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())

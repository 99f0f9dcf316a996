"""Threshold & ROI: choose the churn decision threshold by F1, by recall at a minimum precision or
by the net value of retention actions, on the model's held-out customers, and apply it.

Thin: reads the ROI inputs, calls :func:`revintel.churn.service.threshold_analysis` and draws;
"Apply" saves the ROI inputs and calls :func:`revintel.churn.service.apply_threshold`, which every
page and endpoint reads. Definitions: ``docs/churn.md``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from revintel.app import settings as app_settings
from revintel.app.context import AppContext
from revintel.churn import registry, service
from revintel.churn.config import InvalidChurnConfig
from revintel.core.errors import RevintelError
from revintel.core.formatting import money, percent
from revintel.ui.components import current_context, flash, has_data, render_empty_state

APPLIED_KEY = "roi_applied"
CHOICES = {
    "max_f1": ("Max F1", "The best balance of precision and recall."),
    "recall_at_precision": (
        "Recall at min. precision",
        "Catch the most churners while at least the minimum precision of alerts are right.",
    ),
    "max_net_value": (
        "Max net value",
        "The most value saved minus the cost of the retention actions (recommended without "
        "a capacity).",
    ),
    "max_net_value_within_capacity": (
        "Max net value within capacity",
        "The most net value among the thresholds flagging no more customers than the team can "
        "contact (recommended).",
    ),
}
MARKERS = {
    "max_f1": ("#7C3AED", "diamond"),
    "recall_at_precision": ("#F59E0B", "square"),
    "max_net_value": ("#16A34A", "star"),
    "max_net_value_within_capacity": ("#0D9488", "star-triangle-up"),
}
CURVE_COLOUR = "#2563EB"


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Threshold & ROI", anchor=False)
    st.caption(
        "A customer is predicted to churn when their churn probability is at or above the "
        "threshold. Choose it on the model's held-out customers (whose outcome is known) and "
        "apply it: every page, the CLI and the API use the applied threshold."
    )
    applied = st.session_state.pop(APPLIED_KEY, None)
    if applied:
        st.success(applied, icon=":material/check_circle:")
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    try:
        cfg = app_settings.load(ctx.settings, app_settings.CHURN)
    except InvalidChurnConfig as exc:
        st.error(str(exc), icon=":material/error:")
        return
    records = [r for r in registry.list_models(ctx) if r.status != "rejected"]
    if not records:
        st.info(
            "No churn model yet: train one on the Model Training page (or `revintel churn "
            "train`). Thresholds are chosen on a model's held-out customers.",
            icon=":material/info:",
        )
        return
    version = choose_model(ctx, records)
    inputs = render_inputs(cfg)
    top = st.container()
    # The slider comes before the analysis: its figures are computed with every other one.
    threshold = slider(cfg.threshold)
    slider_figures = st.container()
    try:
        analysis = service.threshold_analysis(
            ctx, version, **inputs, at=[threshold, cfg.threshold]
        ).to_dict()
    except RevintelError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    with top:
        if inputs["value_per_save"] is None and not _uses_clv(analysis["inputs"]):
            # threshold_analysis reads "no value given" as "the saved value"
            st.caption(
                f"The saved settings value a saved customer at "
                f"{money(analysis['inputs']['average_value_per_save'])}: the figures below use "
                "it until a threshold is applied with each customer's CLV (applying saves the "
                "inputs)."
            )
        render_summary(analysis, cfg)
    with slider_figures:
        render_slider_figures(analysis, analysis["at"][0])
    render_curve(analysis, threshold)
    render_table(analysis["table"])
    render_choices(ctx, analysis, inputs, threshold)


def choose_model(ctx: AppContext, records: list[registry.ModelRecord]) -> str:
    """The production model of the default horizon first, then the other versions."""
    try:
        default = service.resolve_model(ctx).version
    except RevintelError:
        default = records[0].version
    versions = [r.version for r in records]
    status = {r.version: r.status for r in records}
    return st.selectbox(
        "Model",
        versions,
        index=versions.index(default) if default in versions else 0,
        format_func=lambda v: f"{v} · {status[v]}",
        key="roi_version",
    )


def render_inputs(cfg: Any) -> dict[str, Any]:
    """Cost per action, value of a saved customer (their own CLV by default), success rate and
    the minimum precision; defaults from the saved churn settings."""
    st.subheader("Business inputs", anchor=False)
    cols = st.columns(5)
    cost = cols[0].number_input(
        "Cost per retention action ($)",
        min_value=0.0,
        value=float(cfg.cost_per_action),
        step=50.0,
        key="roi_cost",
        help="What one outreach (call, discount, success plan) costs.",
    )
    use_clv = cols[1].checkbox(
        "Use each customer's CLV",
        value=cfg.value_per_save is None,
        key="roi_use_clv",
        help="Value a saved customer at their own lifetime value (Lifetime Value page); untick "
        "for a fixed amount per customer.",
    )
    value = cols[1].number_input(
        "Value per saved customer ($)",
        min_value=1.0,
        value=float(cfg.value_per_save or 12_000.0),
        step=500.0,
        key="roi_value",
        disabled=use_clv,
    )
    rate = cols[2].number_input(
        "Success rate of the action",
        min_value=0.0,
        max_value=1.0,
        value=float(cfg.success_rate),
        step=0.05,
        key="roi_success",
        help="Share of contacted true churners the action saves.",
    )
    min_precision = cols[3].number_input(
        "Minimum precision",
        min_value=0.01,
        max_value=1.0,
        value=float(cfg.min_precision),
        step=0.05,
        key="roi_min_precision",
        help="For 'recall at min. precision': at least this share of alerts must be churners.",
    )
    capacity = cols[4].number_input(
        "Contact capacity (customers)",
        min_value=0,
        value=None,
        step=10,
        key="roi_capacity",
        placeholder="no limit",
        help="The most customers the retention team can contact after a scoring run. With a "
        "capacity, the recommendation is the best net value among the thresholds that flag no "
        "more than that share of the customers.",
    )
    return {
        "cost_per_action": float(cost),
        "value_per_save": None if use_clv else float(value),
        "success_rate": float(rate),
        "min_precision": float(min_precision),
        "max_contacts": None if capacity is None else int(capacity),
    }


def render_summary(analysis: dict[str, Any], cfg: Any) -> None:
    inputs = analysis["inputs"]
    capacity = analysis["capacity"]
    best = (
        analysis["choices"].get("max_net_value_within_capacity")
        or analysis["choices"]["max_net_value"]
    )
    cols = st.columns(4)
    cols[0].metric(
        "Applied threshold",
        f"{analysis['current_threshold']:.3f}",
        help=f"Chosen by: {cfg.threshold_method}.",
        border=True,
    )
    cols[1].metric(
        "Recommended threshold",
        "—" if best["threshold"] is None else f"{best['threshold']:.3f}",
        help="The threshold with the highest net value on the held-out customers"
        + (
            f", among those flagging at most {capacity['max_flagged']:,} of them (a capacity of "
            f"{capacity['max_contacts']:,} contacts of {capacity['basis']})."
            if capacity
            else "."
        ),
        border=True,
    )
    if best["threshold"] is not None:
        share = best["flagged"] / analysis["held_out_rows"] if analysis["held_out_rows"] else None
        cols[1].caption(
            ("Max net value within capacity: " if capacity else "Max net value: ")
            + f"{best['flagged']:,} flagged ({percent(share, 0)}) · precision "
            f"{percent(best['precision'], 0)} · net value {money(best['net_value'])}"
        )
    cols[2].metric(
        "Held-out customers",
        f"{analysis['held_out_rows']:,}",
        help="Customers of the model's test cut-off, with their known outcome.",
        border=True,
    )
    cols[2].caption(f"{analysis['held_out_churners']:,} churned")
    clv = _uses_clv(inputs)
    cols[3].metric(
        "Value per saved customer" + (" (average)" if clv else ""),
        money(inputs["average_value_per_save"]),
        help=str(inputs.get("value_basis") or ("Each customer's CLV" if clv else "A fixed amount")),
        border=True,
    )
    if clv:
        cols[3].caption("Each customer's own CLV")


def _uses_clv(inputs: dict[str, Any]) -> bool:
    """Whether the analysis valued each saved customer at their own CLV (not a fixed amount)."""
    return inputs.get("value_per_save") in (None, "customer CLV")


def slider(current: float) -> float:
    """The threshold slider, starting at the applied threshold."""
    st.subheader("Try a threshold", anchor=False)
    return float(
        st.slider(
            "Threshold",
            min_value=0.001,
            max_value=0.999,
            value=min(0.999, max(0.001, round(float(current), 3))),
            step=0.001,
            format="%.3f",
            key="roi_slider",
            help="Lower: catch more churners, with more false alarms.",
        )
    )


def render_slider_figures(analysis: dict[str, Any], stats: dict[str, Any]) -> None:
    """The figures at the slider's threshold, computed as every other figure on the page."""
    cols = st.columns(5)
    cols[0].metric("Precision", percent(stats["precision"], 0), border=True)
    cols[1].metric("Recall", percent(stats["recall"], 0), border=True)
    cols[2].metric("F1", "—" if stats["f1"] is None else f"{stats['f1']:.3f}", border=True)
    cols[3].metric(
        "Flagged",
        f"{stats['flagged']:,}",
        help="Held-out customers at or above the threshold.",
        border=True,
    )
    cols[3].caption(
        f"{stats['churners_caught']:,} churners caught · {stats['false_alarms']:,} false alarms"
    )
    clv = _uses_clv(analysis["inputs"])
    cols[4].metric(
        "Net value",
        money(stats["net_value"]),
        help="success rate × value of the churners caught − flagged × cost per action"
        + ("; each churner at their own CLV" if clv else ""),
        border=True,
    )


def curve_figure(analysis: dict[str, Any], slider: float) -> go.Figure:
    """The precision-recall curve with the applied, slider and three chosen thresholds marked."""
    curve: pl.DataFrame = analysis["pr_curve"]
    figure = go.Figure()
    figure.add_scatter(
        x=curve["recall"].to_list(),
        y=curve["precision"].to_list(),
        mode="lines",
        name="Precision-recall",
        line={"color": CURVE_COLOUR, "width": 2},
        customdata=list(zip(curve["threshold"].to_list(), curve["flagged"].to_list(), strict=True)),
        hovertemplate="threshold %{customdata[0]:.3f}<br>recall %{x:.1%} · precision %{y:.1%}"
        "<br>%{customdata[1]:,} flagged<extra></extra>",
    )
    minp = analysis["inputs"]["min_precision"]
    if minp is not None:
        figure.add_hline(
            y=minp,
            line={"dash": "dot", "color": "#F59E0B"},
            annotation_text=f"min precision {minp:.0%}",
            annotation_position="bottom right",
        )

    def mark(s: dict[str, Any] | None, name: str, colour: str, symbol: str, size: int) -> None:
        if not s or s["threshold"] is None or s["precision"] is None:
            return
        threshold = s["threshold"]
        figure.add_scatter(
            x=[s["recall"]],
            y=[s["precision"]],
            mode="markers",
            name=f"{name} ({threshold:.3f})",
            marker={"color": colour, "symbol": symbol, "size": size, "line": {"width": 1}},
            hovertemplate=f"{name}: threshold {threshold:.3f}<br>recall %{{x:.1%}} · precision "
            f"%{{y:.1%}}<br>{s['flagged']:,} flagged<extra></extra>",
        )

    for method, (label, _) in CHOICES.items():
        choice = analysis["choices"].get(method)
        if choice:
            colour, symbol = MARKERS[method]
            mark(choice, label, colour, symbol, 16 if method == "max_net_value" else 12)
    at = analysis["at"]  # the slider's threshold, then the applied one
    mark(at[1] if len(at) > 1 else None, "Applied", "#111827", "circle", 12)
    mark(at[0] if at else None, "Slider", "#DC2626", "x", 13)
    figure.update_layout(
        height=440,
        margin={"t": 10, "l": 0, "r": 0, "b": 0},
        xaxis={
            "title": "recall (share of churners caught)",
            "range": [0, 1.02],
            "tickformat": ".0%",
        },
        yaxis={
            "title": "precision (share of alerts that churn)",
            "range": [0, 1.05],
            "tickformat": ".0%",
        },
        legend={"orientation": "h", "y": -0.18},
    )
    return figure


def render_curve(analysis: dict[str, Any], slider: float) -> None:
    st.subheader("Precision-recall curve", anchor=False)
    st.caption(
        "Each point is a threshold; hover for it and the number of customers flagged. Marked: the "
        "applied threshold, the slider's, and the choices below."
    )
    st.plotly_chart(curve_figure(analysis, slider), key="roi_pr_curve")


def table_frame(table: pl.DataFrame) -> pd.DataFrame:
    columns = [
        "threshold", "flagged", "churners_caught", "false_alarms", "precision", "recall", "f1",
        "cost", "expected_saves", "net_value", "note", "recommended",
    ]  # fmt: skip
    return table.select([c for c in columns if c in table.columns]).to_pandas()


def _highlight(frame: pd.DataFrame) -> pd.DataFrame:
    styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
    if "recommended" in frame.columns:
        styles.loc[frame["recommended"].fillna(False).astype(bool), :] = (
            "background-color: #DCFCE7; font-weight: bold"
        )
    return styles


def render_table(table: pl.DataFrame) -> None:
    """5–10 thresholds side by side, the recommended (max net value) row highlighted."""
    st.subheader("Thresholds compared", anchor=False)
    st.caption(
        "On the held-out customers, each row at its exact threshold; the recommended row (max net "
        "value, within the capacity when one is given) is highlighted."
    )
    frame = table_frame(table)
    st.dataframe(
        frame.style.apply(_highlight, axis=None).format(
            {
                "threshold": "{:.3f}",
                "precision": "{:.1%}",
                "recall": "{:.1%}",
                "f1": "{:.3f}",
                "cost": "${:,.0f}",
                "expected_saves": "{:.1f}",
                "net_value": "${:,.0f}",
            },
            na_rep="—",
        ),
        hide_index=True,
        placeholder="—",
        key="roi_table",
        column_order=[c for c in frame.columns if c != "recommended"],
        column_config={
            "threshold": st.column_config.NumberColumn("Threshold"),
            "flagged": st.column_config.NumberColumn("Flagged"),
            "churners_caught": st.column_config.NumberColumn("Churners caught"),
            "false_alarms": st.column_config.NumberColumn("False alarms"),
            "precision": st.column_config.NumberColumn("Precision"),
            "recall": st.column_config.NumberColumn("Recall"),
            "f1": st.column_config.NumberColumn("F1"),
            "cost": st.column_config.NumberColumn("Cost"),
            "expected_saves": st.column_config.NumberColumn("Expected saves"),
            "net_value": st.column_config.NumberColumn("Net value"),
            "note": st.column_config.TextColumn("Note"),
            "recommended": st.column_config.CheckboxColumn("Recommended"),
        },
    )


def render_choices(
    ctx: AppContext, analysis: dict[str, Any], inputs: dict[str, Any], slider: float
) -> None:
    """The three optimal thresholds, each with an Apply button, and Apply for the slider's."""
    st.subheader("Apply a threshold", anchor=False)
    methods = [m for m in CHOICES if m in analysis["choices"]]
    cols = st.columns(len(methods) + 1)
    version = analysis["version"]
    for col, method in zip(cols, methods, strict=False):
        label, text = CHOICES[method]
        choice = analysis["choices"][method]
        with col.container(border=True):
            st.markdown(f"**{label}**")
            st.caption(text)
            threshold = choice.get("threshold")
            if threshold is None:
                st.warning(
                    "No threshold flags as few customers as the capacity allows; raise it."
                    if method == "max_net_value_within_capacity"
                    else f"No threshold reaches a precision of {inputs['min_precision']:.0%} on "
                    "the held-out customers; lower the minimum precision.",
                    icon=":material/warning:",
                )
                continue
            st.markdown(
                f"Threshold **{threshold:.3f}** · precision {percent(choice['precision'], 0)} · "
                f"recall {percent(choice['recall'], 0)}  \n{choice['flagged']:,} flagged · "
                f"net value {money(choice['net_value'])}"
            )
            if st.button("Apply", key=f"roi_apply_{method}", type="primary"):
                apply(ctx, inputs, method=method, version=version, label=label)
    with cols[-1].container(border=True):
        st.markdown("**Slider threshold**")
        st.caption("The threshold set with the slider above.")
        st.markdown(f"Threshold **{slider:.3f}**")
        if st.button("Apply slider threshold", key="roi_apply_slider"):
            apply(ctx, inputs, method="manual", version=version, label="slider", threshold=slider)


def apply(
    ctx: AppContext,
    inputs: dict[str, Any],
    *,
    method: str,
    version: str,
    label: str,
    threshold: float | None = None,
) -> None:
    """Save the ROI inputs (so a method chooses on what the page shows), apply the threshold, and
    say how many customers are now predicted to churn."""
    try:
        app_settings.update(
            ctx.settings,
            app_settings.CHURN,
            cost_per_action=inputs["cost_per_action"],
            value_per_save=inputs["value_per_save"],
            success_rate=inputs["success_rate"],
        )
        new = service.apply_threshold(
            ctx,
            threshold,
            method=method,
            version=version,
            min_precision=inputs["min_precision"],
            max_contacts=inputs["max_contacts"],
        )
    except RevintelError as exc:
        st.error(f"Not applied. {exc}", icon=":material/error:")
        return
    try:
        churners: int | None = service.overview(ctx).predicted_churners
    except RevintelError:
        churners = None
    message = f"Threshold {new.threshold:.3f} applied ({label}). " + (
        f"{churners:,} customers are now predicted to churn; every page uses the new threshold."
        if churners is not None
        else "Every page uses the new threshold (no predictions are scored yet)."
    )
    st.session_state[APPLIED_KEY] = message
    flash(message)
    st.rerun()


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())

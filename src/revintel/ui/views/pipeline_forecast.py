"""Forecast: forecast methods side by side with intervals, and the accuracy backtest.

Thin: reads the options, calls :mod:`revintel.pipeline.service`, draws. Definitions:
``docs/pipeline.md`` (Forecasts, Forecast accuracy backtest, Close probability).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from revintel.app.context import AppContext
from revintel.core.csv_export import to_csv_bytes
from revintel.core.errors import RevintelError
from revintel.core.formatting import money
from revintel.pipeline.service import forecasts
from revintel.ui.components import current_context, has_data, render_empty_state

METHOD_LABELS = {
    "stage_weighted": "Stage-weighted",
    "probability_weighted": "Probability-weighted",
    "categories": "Reps' categories",
    "time_series": "Time series",
    "naive": "Naive (last period)",
}
COLOURS = {
    "stage_weighted": "#636EFA",
    "probability_weighted": "#00A67E",
    "categories": "#EF553B",
    "time_series": "#AB63FA",
    "naive": "#7F7F7F",
}


def _rows(result: dict[str, Any]) -> pl.DataFrame:
    out = []
    for row in result["months"] + result["windows"]:
        period = row.get("month") or f"next {row['horizon_days']} days"
        for method in ("stage_weighted", "probability_weighted", "categories", "time_series"):
            e = row[method]
            out.append(
                {
                    "period": period,
                    "method": METHOD_LABELS[method],
                    "forecast": e["value"],
                    "low_80": e["low_80"],
                    "high_80": e["high_80"],
                    "low_95": e["low_95"],
                    "high_95": e["high_95"],
                }
            )
    return pl.DataFrame(out, infer_schema_length=None)


def _download(frame: pl.DataFrame, label: str, name: str, key: str) -> None:
    st.download_button(
        label,
        partial(to_csv_bytes, frame),
        file_name=name,
        mime="text/csv",
        icon=":material/download:",
        key=key,
        on_click="ignore",
    )


def render_forecast(result: dict[str, Any]) -> None:
    windows = {w["horizon_days"]: w for w in result["windows"]}
    cols = st.columns(4)
    for i, h in enumerate((30, 60, 90)):
        e = windows[h]["probability_weighted"]
        cols[i].metric(
            f"Next {h} days",
            money(e["value"]),
            help="Probability-weighted forecast of the bookings won in the window.",
            border=True,
        )
        cols[i].caption(f"80%: {money(e['low_80'])} – {money(e['high_80'])}")
    cols[3].metric("Open deals", f"{result['open_deals']:,}", border=True)
    model = result["model"]
    if model:
        cols[3].caption(
            f"Close model ({model['method']}): held-out AUC {model['roc_auc']}, "
            f"Brier {model['brier']}"
            + (f"; oracle AUC {model['oracle_auc']}" if model.get("oracle_auc") else "")
        )

    st.subheader("Bookings by month: methods side by side", anchor=False)
    frame = _rows(result)
    months = frame.filter(~pl.col("period").str.starts_with("next"))
    fig = go.Figure()
    for method, label in METHOD_LABELS.items():
        part = months.filter(pl.col("method") == label)
        if part.is_empty() or part["forecast"].is_null().all():
            continue
        lo = part["forecast"] - part["low_80"].fill_null(part["forecast"])
        hi = part["high_80"].fill_null(part["forecast"]) - part["forecast"]
        fig.add_bar(
            x=part["period"].to_list(),
            y=part["forecast"].to_list(),
            name=label,
            marker_color=COLOURS[method],
            error_y={"type": "data", "array": hi.to_list(), "arrayminus": lo.to_list()},
        )
    fig.update_layout(
        barmode="group",
        height=380,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis_title="Bookings won",
        legend={"orientation": "h", "y": -0.15},
    )
    st.plotly_chart(fig, width="stretch", key="forecast_months")
    st.caption("Bars: the forecast; whiskers: its 80% interval. Table below has the 95% too.")
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        placeholder="—",
        column_config={
            c: st.column_config.NumberColumn(c.replace("_", " "), format="dollar")
            for c in ("forecast", "low_80", "high_80", "low_95", "high_95")
        },
    )
    _download(frame, "Download forecast (CSV)", f"forecast-{result['as_of']}.csv", "forecast_csv")
    for note in result["notes"]:
        st.caption(f"Note: {note}")


def render_backtest(result: dict[str, Any]) -> None:
    st.subheader("Accuracy backtest: how each method did in the past", anchor=False)
    st.caption(
        f"At each of {result['snapshots']} past month-starts the pipeline is rebuilt as it stood "
        "then and every method forecasts the next 30/60/90 days; compared with what was won. "
        "MAPE and bias in %; coverage = share of actuals inside the 80% / 95% interval."
    )
    acc = pl.DataFrame(result["accuracy"], infer_schema_length=None).with_columns(
        pl.col("method").replace_strict(METHOD_LABELS, default=pl.col("method"))
    )
    h90 = acc.filter(pl.col("horizon_days") == 90).drop_nulls("mape").sort("mape")
    cols = st.columns(len(h90) or 1)
    for i, row in enumerate(h90.iter_rows(named=True)):
        cols[i].metric(f"{row['method']}: 90-day MAPE", f"{row['mape']:.1f}%", border=True)
    points = pl.DataFrame(result["points"], infer_schema_length=None)
    horizon = st.segmented_control(
        "Horizon", [30, 60, 90], default=90, format_func=lambda h: f"{h} days", key="bt_horizon"
    )
    part = points.filter(pl.col("horizon_days") == (horizon or 90))
    fig = go.Figure()
    actual = part.filter(pl.col("method") == "naive").sort("snapshot")
    fig.add_scatter(
        x=actual["snapshot"].to_list(),
        y=actual["actual"].to_list(),
        mode="lines+markers",
        name="Actual won",
        line={"color": "black", "width": 3},
    )
    for method, label in METHOD_LABELS.items():
        m = part.filter(pl.col("method") == method).sort("snapshot")
        if m.is_empty() or m["forecast"].is_null().all():
            continue
        fig.add_scatter(
            x=m["snapshot"].to_list(),
            y=m["forecast"].to_list(),
            mode="lines",
            name=label,
            line={"color": COLOURS[method], "dash": "dot" if method == "naive" else "solid"},
        )
    fig.update_layout(
        height=380,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis_title="Snapshot (month-start)",
        yaxis_title=f"Bookings in the next {horizon or 90} days",
        legend={"orientation": "h", "y": -0.2},
    )
    st.plotly_chart(fig, width="stretch", key="forecast_backtest")
    st.dataframe(acc, hide_index=True, width="stretch", placeholder="—")
    _download(acc, "Download accuracy (CSV)", "forecast-backtest.csv", "backtest_csv")
    _download(part, "Download backtest points (CSV)", "forecast-backtest-points.csv", "bt_pts")
    for note in result["notes"]:
        st.caption(f"Note: {note}")


def _compute(ctx: AppContext, what: str) -> dict[str, Any]:
    if what == "forecast":
        return forecasts.monthly_forecast(ctx).to_dict()
    return forecasts.backtest(ctx).to_dict()


@st.cache_data(max_entries=4, show_spinner=False)
def _cached(_ctx: AppContext, key: tuple[str, str]) -> dict[str, Any]:
    return _compute(_ctx, key[1])


def _get(ctx: AppContext, what: str) -> dict[str, Any]:
    version = ctx.warehouse.data_version()
    if version is None:
        return _compute(ctx, what)
    return _cached(ctx, (version, what))


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Forecast", anchor=False)
    st.caption(
        "Bookings forecasts from the pipeline: stage-weighted, probability-weighted (each deal's "
        "calibrated close probability), the reps' categories and a time series, with 80% and 95% "
        "intervals, and how accurate each was in the past. Definitions: docs/pipeline.md."
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    try:
        with st.spinner("Forecasting…"):
            result = _get(ctx, "forecast")
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    render_forecast(result)
    try:
        with st.spinner("Backtesting every month-start…"):
            bt = _get(ctx, "backtest")
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    render_backtest(bt)


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())

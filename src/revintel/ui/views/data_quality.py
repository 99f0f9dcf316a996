"""Data Quality: missing values by table and column, freshness, outliers, duplicate keys and the
correlation heatmap of the churn features.

Thin: reads the options, calls :mod:`revintel.app.retention.data_quality`, draws. Definitions:
``docs/retention.md``, Data quality.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from revintel.app.context import AppContext
from revintel.app.retention.data_quality import (
    DataQualityReport,
    FeatureCorrelations,
    data_quality,
    feature_correlations,
)
from revintel.core.errors import RevintelError
from revintel.ui.components import current_context, has_data, render_empty_state
from revintel.ui.revenue import chart_card, data_version, layout

BADGES = {
    "fresh": ":green-badge[:material/check_circle: fresh]",
    "stale": ":orange-badge[:material/schedule: stale]",
    "old": ":red-badge[:material/warning: old]",
    "no dates": ":gray-badge[no dates]",
}


@st.cache_data(max_entries=8, show_spinner=False)
def _report(version: str, iqr_k: float, stale_days: int, _ctx: AppContext) -> DataQualityReport:
    return data_quality(_ctx, iqr_k=iqr_k, stale_days=stale_days)


@st.cache_data(max_entries=4, show_spinner=False)
def _correlations(version: str, method: str, _ctx: AppContext) -> FeatureCorrelations:
    return feature_correlations(_ctx, method)  # type: ignore[arg-type]


def _share_style(value: float) -> str:
    if value >= 0.5:
        return "background-color: #FEE2E2"
    if value >= 0.2:
        return "background-color: #FEF3C7"
    return ""


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Data Quality", anchor=False)
    st.caption(
        "Missing values, freshness, outliers and duplicate keys of every loaded table, and how "
        "the churn features correlate. Definitions: docs/retention.md, Data quality."
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    version = data_version(ctx)
    left, right = st.columns(2)
    iqr_k = left.select_slider(
        "Outlier fences (k × IQR)", options=[1.5, 2.0, 3.0, 5.0], value=3.0, key="dq_k"
    )
    stale_days = right.number_input("Stale after (days)", 1, 3650, 45, key="dq_stale")
    try:
        with st.spinner("Measuring every table…"):
            report = _report(version, float(iqr_k), int(stale_days), ctx)
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    missing, freshness, outliers, features, correlations = st.tabs(
        ["Missing values", "Freshness", "Outliers and duplicates", "Churn features", "Correlations"]
    )
    with missing:
        render_missing(report)
    with freshness:
        render_freshness(report)
    with outliers:
        render_outliers(report)
    with features:
        render_features(report)
    with correlations:
        render_correlations(ctx, version)


def render_missing(report: DataQualityReport) -> None:
    frame = pd.DataFrame([vars(m) for m in report.missing])
    cols = st.columns(3)
    cols[0].metric("Tables", f"{frame['table'].nunique():,}", border=True)
    cols[1].metric("Columns with missing values", f"{int((frame['missing'] > 0).sum()):,}",
                   border=True)  # fmt: skip
    cols[2].metric("Missing values", f"{int(frame['missing'].sum()):,}", border=True)
    only = st.toggle("Only columns with missing values", value=True, key="dq_only_missing")
    shown = frame[frame["missing"] > 0] if only else frame
    st.dataframe(
        shown.style.map(_share_style, subset=["missing_share"]),
        hide_index=True,
        key="dq_missing_table",
        column_config={
            "missing_share": st.column_config.NumberColumn("Missing share", format="percent"),
            "required": st.column_config.CheckboxColumn("Required by contract"),
        },
    )
    st.caption("Shaded: 20% missing or more (amber), 50% or more (red).")


def render_freshness(report: DataQualityReport) -> None:
    st.caption(
        f"As of {report.today}: days from each table's newest recorded date (planned dates such "
        f"as renewal dates left out) to today; fresh within {report.stale_days} days, stale "
        f"within {3 * report.stale_days}, old beyond."
    )
    for f in report.freshness:
        with st.container(border=True, horizontal=True, vertical_alignment="center"):
            st.markdown(f"**{f.table}** · {f.rows:,} rows")
            st.markdown(BADGES[f.status])
            newest = f"newest {f.newest_date} ({f.newest_column})" if f.newest_date else "—"
            days = f"{f.days_stale:,} days ago" if f.days_stale is not None else ""
            st.markdown(f"{newest} {days}")
            loaded = f.last_loaded.strftime("%Y-%m-%d %H:%M UTC") if f.last_loaded else "unknown"
            st.markdown(f"loaded {loaded}")


def render_outliers(report: DataQualityReport) -> None:
    frame = pd.DataFrame([vars(o) for o in report.outliers])
    if frame.empty:
        st.info("No numeric column in the loaded tables.")
    else:
        frame["examples"] = frame["examples"].map(
            lambda rows: "; ".join(", ".join(f"{k}={v}" for k, v in r.items()) for r in rows)
        )
        st.dataframe(
            frame.sort_values("share", ascending=False),
            hide_index=True,
            key="dq_outliers_table",
            column_config={"share": st.column_config.NumberColumn("Share", format="percent")},
        )
        st.caption(
            f"Outside Q1 − {report.iqr_k:g}·IQR .. Q3 + {report.iqr_k:g}·IQR (Tukey's fences); "
            "examples are the values farthest from the median."
        )
    st.subheader("Duplicate keys", anchor=False)
    dups = pd.DataFrame([vars(d) for d in report.duplicates])
    if not dups.empty:
        dups["key"] = dups["key"].map(", ".join)
        dups["examples"] = dups["examples"].map(str)
        st.dataframe(dups, hide_index=True, key="dq_duplicates_table")


def render_features(report: DataQualityReport) -> None:
    if not report.features:
        st.info("No churn features: no customer has MRR yet.")
        return
    st.caption(
        f"The churn model's features at {report.features_month} (the churn drift report's "
        "quality check: outliers have a robust z-score above 5)."
    )
    st.dataframe(
        pd.DataFrame(report.features).style.map(_share_style, subset=["missing_share"]),
        hide_index=True,
        column_config={
            "missing_share": st.column_config.NumberColumn("Missing share", format="percent")
        },
    )


def render_correlations(ctx: AppContext, version: str) -> None:
    method = (
        st.segmented_control(
            "Coefficient", ["pearson", "spearman"], default="pearson", key="dq_corr_method"
        )
        or "pearson"
    )
    try:
        corr = _correlations(version, method, ctx)
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    figure = go.Figure(
        go.Heatmap(
            z=corr.matrix,
            x=corr.labels,
            y=corr.labels,
            zmin=-1,
            zmax=1,
            colorscale="RdBu_r",
            hovertemplate="%{y} × %{x}: %{z:.2f}<extra></extra>",
        )
    )
    layout(figure, height=max(420, 22 * len(corr.labels)))
    figure.update_yaxes(autorange="reversed")
    chart_card(
        f"{method.title()} correlation of the churn features, {corr.month}",
        figure,
        lambda: pd.DataFrame(corr.matrix, index=corr.features, columns=corr.features).reset_index(),
        "dq_correlations",
        caption=f"{corr.rows:,} customers with MRR; each pair over the rows where both are known.",
    )
    st.dataframe(pd.DataFrame(corr.top_pairs), hide_index=True)


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
